"""Mutated corpus files through the image layer and the command line: each pools or
fails in one line.

2,000+ seeded cases (bit flips, zeroed runs, truncations, splices between files,
absurd header sizes; see tests/fuzzing.py). Through the image layer, a case must
either produce output or raise a PoolcliError with a one-line message: never another
exception, never a hang (a per-case alarm), never a Python warning or C-library
chatter on stderr. Through ``poolcli pool``, in batches of real files: a complete
output that opens again, or one line on stderr and no output file; exit status 1
when any failed; nothing else on stderr and no temporary file left.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fuzzing import mutate, mutate_array
from PIL import Image

from poolcli import PoolSettings
from poolcli.errors import PoolcliError
from poolcli.images import ReadOptions, WriteOptions, convert, describe

CASES = 2400
PER_BLOCK = 200
SECONDS_PER_CASE = 20
# a lower limit keeps absurd-but-allowed sizes fast; the default limit is tested
# against the real decompression bomb in test_images_corpus.py
READ = ReadOptions(max_pixels=1 << 22)
SETTINGS = PoolSettings.make(2, mode="avg", ceil_mode=True)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


@pytest.fixture
def alarmed():
    """SIGALRM raises :class:`_Hang` while the test runs (see :func:`run_case`)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    yield
    signal.signal(signal.SIGALRM, previous)


def run_case(failures: list[str], name: str, function: Callable[..., object], *args) -> None:
    """``function(*args)`` under a per-case alarm: it must return, or raise a
    PoolcliError with a one-line message; anything else is appended to ``failures``."""
    signal.alarm(SECONDS_PER_CASE)
    try:
        function(*args)
    except PoolcliError as error:
        message = str(error)
        if not message or "\n" in message:
            failures.append(f"{name}: message {message!r}")
    except _Hang:
        failures.append(f"{name}: still running after {SECONDS_PER_CASE} s")
    except Exception as error:  # noqa: BLE001 - exactly what these tests hunt
        failures.append(f"{name}: {type(error).__name__}: {error}")
    finally:
        signal.alarm(0)


@pytest.mark.parametrize("block", range(CASES // PER_BLOCK))
@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_mutated_files_pool_or_fail_in_one_line(block, fmt, capfd, alarmed):
    failures: list[str] = []
    for case in range(block * PER_BLOCK, (block + 1) * PER_BLOCK):
        if fmt == "TIFF" and case % 4:
            continue  # a quarter of the cases again, into a second writer
        name, data = mutate(case)
        run_case(failures, name, convert, data, io.BytesIO(), SETTINGS, WriteOptions(fmt), READ)
    captured = capfd.readouterr()
    assert not failures, failures
    assert captured.err == "", captured.err[:500]


# --- the same mutations through the command line ---------------------------------------

CLI_CASES = 2400
CLI_BLOCK = 600
CLI_SECONDS = 240  # a whole block: a hang fails the test instead of stalling the suite
LIMIT = str(1 << 22)


def _poolcli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "poolcli", "pool", *args],
        cwd=cwd, capture_output=True, timeout=CLI_SECONDS, check=False,
    )  # fmt: skip


def _frames_loaded(path: Path) -> tuple[tuple[int, int], int]:
    """Open an output again and decode every frame: (size of frame 0, frames)."""
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        return array.shape, 1
    with Image.open(path) as image:
        size, count = image.size, getattr(image, "n_frames", 1)
        for index in range(count):
            image.seek(index)
            image.load()
    return size, count


@pytest.mark.parametrize("block", range(CLI_CASES // CLI_BLOCK))
def test_mutated_files_through_the_command_line(block, tmp_path):
    """Every mutated file (named after its source, so it keeps its extension and
    output format) through one ``poolcli pool DIR -r --json`` per block: each file is
    either a complete output that opens again, or one error line; nothing else."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for case in range(block * CLI_BLOCK, (block + 1) * CLI_BLOCK):
        name, data = mutate(case)
        (inputs / f"{case:05d}_{name.split(':')[1]}").write_bytes(data)
    done = _poolcli("in", "-r", "-o", "out", "--json", "-j", "2", "--max-pixels", LIMIT,
                    cwd=tmp_path)  # fmt: skip
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert sorted(r["input"] for r in records) == sorted(f"in/{p.name}" for p in inputs.iterdir())
    failed = {r["input"]: r for r in records if r["status"] == "error"}
    passed = {r["input"]: r for r in records if r["status"] == "ok"}
    assert len(failed) + len(passed) == CLI_BLOCK
    assert done.returncode == (1 if failed else 0), done.stderr.decode()[-2000:]

    problems = [
        f"{r['input']}: {r['seconds']} s" for r in records if r["seconds"] > SECONDS_PER_CASE
    ]  # a hang would have hit the block's timeout; a slow file is found here
    for record in failed.values():
        if not record["error"] or "\n" in record["error"]:
            problems.append(f"{record['input']}: message {record['error']!r}")
        if os.path.lexists(tmp_path / record["output"]):
            problems.append(f"{record['input']}: failed but {record['output']} exists")
    for record in passed.values():
        try:
            size, frames = _frames_loaded(tmp_path / record["output"])
        except Exception as error:  # noqa: BLE001 - any failure to read back is the finding
            problems.append(f"{record['input']}: output does not open: {error}")
            continue
        if record["output"].endswith(".npy"):
            continue
        if (list(size), frames) != (record["out_size"], record["frames"]):
            problems.append(f"{record['input']}: wrote {size} x{frames}, reported {record}")
    assert not problems, problems[:20]

    # the output tree holds the outputs of the files that worked, and nothing else
    written = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "out").rglob("*"))
    assert written == sorted(r["output"] for r in passed.values())

    # stderr: one line per failed file, a note now and then for a file that worked,
    # the summary; no traceback, no warning, no C library chatter
    lines = done.stderr.decode().splitlines()
    assert lines[-1].startswith(f"poolcli: {len(passed)} ok, 0 skipped, {len(failed)} failed in ")
    errors = [line for line in lines[:-1] if line.split(": ")[1] in failed]
    assert errors == [f"poolcli: {r['input']}: {r['error']}" for r in sorted(
        failed.values(), key=lambda r: r["input"])]  # fmt: skip
    notes = [line for line in lines[:-1] if line not in errors]
    assert all(line.split(": ")[1] in passed for line in notes), notes[:5]


# --- mutated feature maps (.npy, .npz) ----------------------------------------------------

ARRAY_CASES = 2000
ARRAY_BLOCK = 500


@pytest.mark.parametrize("block", range(ARRAY_CASES // ARRAY_BLOCK))
def test_mutated_arrays_read_or_fail_in_one_line(block, capfd, alarmed):
    """Bit flips, zeroed runs, truncations, header bytes and absurd shapes in .npy and
    .npz files (stored and deflated): pooled and described, each case gives a result
    or a PoolcliError in one line; zipfile's, zlib's and NumPy's own exceptions
    never escape."""
    failures: list[str] = []
    settings = PoolSettings.make(2, ceil_mode=True)
    for case in range(block * ARRAY_BLOCK, (block + 1) * ARRAY_BLOCK):
        name, extension, data = mutate_array(case)
        write = WriteOptions(extension.upper())
        run_case(failures, f"{name} convert", convert, data, io.BytesIO(), settings, write, READ)
        run_case(failures, f"{name} describe", describe, data, READ)
    assert not failures, failures[:20]
    assert capfd.readouterr().err == ""


def test_mutated_arrays_through_the_command_line(tmp_path):
    """500 of those files through one ``poolcli pool -r --json``: each a complete array
    that loads again, or one error line and no output."""
    (tmp_path / "in").mkdir()
    for case in range(0, ARRAY_CASES, 4):
        _, extension, data = mutate_array(case)
        (tmp_path / "in" / f"{case:05d}.{extension}").write_bytes(data)
    done = _poolcli("in", "-r", "-o", "out", "--json", "-j", "2", "--ceil-mode",
                    "--max-pixels", LIMIT, cwd=tmp_path)  # fmt: skip
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert len(records) == ARRAY_CASES // 4
    failed = [r for r in records if r["status"] == "error"]
    assert done.returncode == (1 if failed else 0)
    assert [r["input"] for r in records if r["seconds"] > SECONDS_PER_CASE] == []
    lines = done.stderr.decode().splitlines()
    assert lines[:-1] == [f"poolcli: {r['input']}: {r['error']}" for r in failed]
    assert "internal error" not in done.stderr.decode()
    for record in records:
        output = tmp_path / record["output"]
        if record["status"] == "error":
            assert not output.exists(), record
        elif output.suffix == ".npy":
            assert np.load(output, allow_pickle=False).size > 0
        else:
            with np.load(output, allow_pickle=False) as archive:
                assert all(archive[name].size > 0 for name in archive.files)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        Path(r["output"]).name for r in records if r["status"] == "ok"
    )
