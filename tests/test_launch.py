"""The console script's first guess at the input, before the command line loads."""

from __future__ import annotations

import io
import subprocess
import sys

import click
import pytest
from image_reference import CORPUS

from poolcli import PoolSettings, launch
from poolcli.cli import cli
from poolcli.images import WriteOptions, convert


def test_every_option_that_takes_a_value_is_known():
    command = cli.commands["pool"]
    taking = {
        name
        for param in command.params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in (*param.opts, *param.secondary_opts)
    }
    assert taking == set(launch.VALUE_OPTIONS)


@pytest.mark.parametrize(
    ("args", "guess"),
    [
        (["pool", "photo.jpg", "-o", "small.jpg"], ("photo.jpg", 89_478_485)),
        (["pool", "-o", "small.jpg", "-k", "3x2", "photo.jpg"], ("photo.jpg", 89_478_485)),
        (["pool", "photo.jpg", "--max-pixels", "none"], ("photo.jpg", None)),
        (["pool", "photo.jpg", "--max-pixels=1000"], ("photo.jpg", 1000)),
        (
            ["pool", "photo.jpg", "-k2", "--ceil-mode", "-O", "quality=80"],
            ("photo.jpg", 89_478_485),
        ),
        (["pool", "a.jpg", "b.jpg"], None),  # a batch: no guess
        (["pool", "-r", "photos"], ("photos", 89_478_485)),  # not a file: start() declines
        (["info", "photo.jpg"], None),
        (["pool", "--", "-odd.jpg"], None),
        (["pool", "photo.jpg", "--max-pixels", "lots"], None),
        ([], None),
    ],
)
def test_guess_input(args, guess):
    assert launch.guess_input(args) == guess


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poolcli", *args], capture_output=True, check=False, timeout=60,
        **kwargs,
    )  # fmt: skip


def test_a_quick_exit_still_delivers_every_byte_and_the_exit_status(tmp_path):
    source = CORPUS / "flower.jpg"
    expected = io.BytesIO()
    convert(source, expected, PoolSettings.make(2), WriteOptions("PNG"))
    piped = run("pool", str(source), "-o", "-", "--format", "png")
    assert piped.returncode == 0
    assert piped.stdout == expected.getvalue()
    written = run("pool", str(source), "-o", str(tmp_path / "out.png"), "-v")
    assert written.returncode == 0
    assert (tmp_path / "out.png").read_bytes() == expected.getvalue()
    assert b"flower.jpg" in written.stderr  # -v's line was flushed before the exit
    failed = run("pool", str(CORPUS / "empty.png"), "-o", str(tmp_path / "e.png"))
    assert failed.returncode == 1
    assert failed.stderr.decode().strip().splitlines()[0].endswith("empty.png: file is empty")


def test_a_profiled_run_ends_normally_so_the_profile_is_written(tmp_path):
    profile = tmp_path / "run.prof"
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "poolcli", "pool",
         str(CORPUS / "flower.jpg"), "-o", str(tmp_path / "out.png")],
        capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert profile.stat().st_size > 0
