"""The command line's edge: parameter types, usage errors (exit 2), help, version, start-up."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner
from PIL import Image
from processes import poolcli_imports

from poolcli import __version__
from poolcli.cli import cli
from poolcli.cli.options import KeyValueType, MaxPixelsType, SizeType, WindowType, parse_value
from poolcli.errors import ExitStatus


def run(*args: str, **kwargs):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, **kwargs)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (8, 6), "orange").save(path)
    return path


# --- parameter types ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pair"),
    [("2", (2, 2)), ("3x2", (2, 3)), ("3X2", (2, 3)), (" 4 x 1 ", (1, 4)), ("10", (10, 10))],
)
def test_window_is_width_by_height_returned_as_height_width(text, pair):
    assert WindowType(1).convert(text, None, None) == pair


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "'0': each side must be at least 1"),
        ("3x0", "'3x0': each side must be at least 1"),
        ("x2", "'x2' is not N, WxH or WxHxD (e.g. 2, 3x2 or 2x2x2)"),
        ("2x", "'2x' is not N, WxH or WxHxD (e.g. 2, 3x2 or 2x2x2)"),
        ("-1", "'-1' is not N, WxH or WxHxD (e.g. 2, 3x2 or 2x2x2)"),
        ("2.5", "'2.5' is not N, WxH or WxHxD (e.g. 2, 3x2 or 2x2x2)"),
        ("2x3x4x5", "'2x3x4x5' is not N, WxH or WxHxD (e.g. 2, 3x2 or 2x2x2)"),
    ],
)
def test_window_rejects(text, message):
    with pytest.raises(click.BadParameter, match=f"^{re.escape(message)}$"):
        WindowType(1).convert(text, None, None)


def test_padding_window_allows_zero():
    assert WindowType(0).convert("0x1", None, None) == (1, 0)


@pytest.mark.parametrize(
    ("text", "size"), [("320x240", (320, 240)), ("320x", (320, None)), ("x240", (None, 240))]
)
def test_size_keeps_aspect_for_a_missing_side(text, size):
    assert SizeType().convert(text, None, None) == size


@pytest.mark.parametrize("text", ["x", "320", "0x10", "10x0", "axb", ""])
def test_size_rejects(text):
    with pytest.raises(click.BadParameter):
        SizeType().convert(text, None, None)


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("quality=85", ("quality", 85)),
        ("optimize=true", ("optimize", True)),
        ("lossless=False", ("lossless", False)),
        ("gamma=0.5", ("gamma", 0.5)),
        ("subsampling=4:2:0", ("subsampling", "4:2:0")),
        ("comment=", ("comment", "")),
    ],
)
def test_key_value_parses_numbers_and_bools(text, pair):
    assert KeyValueType().convert(text, None, None) == pair


@pytest.mark.parametrize("text", ["quality", "=85", "two words=1"])
def test_key_value_rejects(text):
    with pytest.raises(click.BadParameter, match="is not KEY=VALUE"):
        KeyValueType().convert(text, None, None)


def test_parse_value_keeps_strings():
    assert parse_value("keep") == "keep"
    assert parse_value("1e3") == 1000.0


@pytest.mark.parametrize(
    ("text", "value"),
    [("none", None), ("NONE", None), ("1000", 1000), ("89_478_485", 89478485), ("1,000", 1000)],
)
def test_max_pixels(text, value):
    assert MaxPixelsType().convert(text, None, None) == value


@pytest.mark.parametrize("text", ["0", "-5", "lots"])
def test_max_pixels_rejects(text):
    with pytest.raises(click.BadParameter):
        MaxPixelsType().convert(text, None, None)


# --- usage errors: exit 2 before any file is read ------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-k", "1000000000"],
            "--kernel 1000000000 with --repeat 1 needs an image height of at least "
            "1,000,000,000 pixels",
        ),
        (
            ["--size", "100000x100000"],
            "--size 100000x100000 asks for 10,000,000,000 pixels, more than "
            "--max-pixels 89,478,485",
        ),
        (["-s", "0"], "Invalid value for '-s' / '--stride': '0': each side must be at least 1"),
        (["-k", "3", "-p", "2"], "padding must be between 0 and half the kernel"),
        (["--repeat", "40"], "with --repeat 40 needs an image height of at least"),
        (
            ["--size", "10x", "--repeat", "2"],
            "--size picks the output size itself; it does not combine with --repeat",
        ),
        (["--divisor", "3", "-m", "max"], "--divisor only applies to mode 'avg', not 'max'"),
        (["-m", "lp", "-k", "3", "-p", "1"], "mode 'lp' takes no --padding"),
        (["-m", "nope"], "Invalid value for '-m' / '--mode'"),
        (["--overwrite", "--skip-existing"], "--overwrite and --skip-existing exclude each other"),
        (["-0"], "-0 describes a --files-from list"),
        (["--format", "doc"], "--format 'doc' is not a format poolcli can write"),
        (["-O", "quality"], "'quality' is not KEY=VALUE"),
        (["-v", "-q"], "-v and -q exclude each other"),
    ],
)
def test_absurd_parameters_are_usage_errors_before_any_work(tmp_path, photo, args, message):
    out = tmp_path / "out"
    result = run("pool", str(photo), "-o", str(out), *args)
    assert result.exit_code == ExitStatus.USAGE == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_no_input_is_a_usage_error():
    result = run("pool")
    assert result.exit_code == 2
    assert (
        "no inputs: name files, folders (with -r), - for stdin, or --files-from FILE"
        in result.stderr
    )


def test_max_pixels_none_lifts_the_reach_check(tmp_path, photo):
    # kernel 10^9 is allowed without a limit; this 8x6 image is simply too small
    result = run(
        "pool",
        str(photo),
        "-o",
        str(tmp_path / "o.png"),
        "-k",
        "1000000000",
        "--max-pixels",
        "none",
    )
    assert result.exit_code == 1
    assert "is larger than the image" in result.stderr


# --- help, version, start-up ----------------------------------------------------------------


def commands():
    return [[]] + [[name] for name in cli.commands]


@pytest.mark.parametrize("command", commands(), ids=lambda c: " ".join(c) or "poolcli")
def test_every_command_has_help_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "\nExample:\n" in result.stdout or "\n  Example:\n" in result.stdout
    example = result.stdout.split("Example:\n", 1)[1].splitlines()[0]
    assert example.strip().startswith("poolcli ")  # kept verbatim by \b, not rewrapped


def test_pool_help_documents_the_contract():
    text = run("pool", "--help").stdout
    for needle in (
        "WIDTH x HEIGHT",
        "./pooled/",
        "[default: avg]",
        "130 interrupted",
        '"status": "ok"',
        "median  median of the real pixels",
    ):
        assert needle in text


def test_group_help_documents_completion():
    assert "_POOLCLI_COMPLETE=bash_source poolcli" in run("--help").stdout


def test_version():
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout == f"poolcli {__version__}\n"


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["pool", "--help"], ["info", "--help"], ["pyramid", "--help"]],
)
def test_help_and_version_import_neither_numpy_nor_pillow_nor_dask(args):
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['poolcli', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('poolcli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "import json\n"
        "roots = ('numpy', 'PIL', 'dask', 'distributed')\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in roots]\n"
        "sys.stderr.write(json.dumps(sorted(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


def test_python_m_poolcli_importtime_has_no_numpy_or_pillow():
    done, imported = poolcli_imports("--help")
    assert "poolcli.cli" in imported
    assert not {name for name in imported if name.split(".")[0] in ("numpy", "PIL")}
    assert done.stdout.startswith("Usage: python -m poolcli") or done.stdout.startswith(
        "Usage: poolcli"
    )


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["pool", "--help"], ["pyramid", "--help"]]
)
def test_help_and_version_load_only_the_command_lines_own_modules(args):
    """Options are built from light modules (enums, limits, choices); the batch
    library, the image layer and the settings load when a command runs."""
    _, imported = poolcli_imports(*args)
    ours = {name for name in imported if name.split(".")[0] == "poolcli"}
    assert ours <= {
        "poolcli", "poolcli.__main__", "poolcli.launch", "poolcli.version", "poolcli.lazy",
        "poolcli.errors", "poolcli.enums", "poolcli.spec", "poolcli.spec.arrays",
        "poolcli.spec.limits", "poolcli.spec.modes", "poolcli.batch", "poolcli.batch.choices",
        "poolcli.batch.sharding", "poolcli.cli", "poolcli.cli.app", "poolcli.cli.options",
        "poolcli.cli.console", "poolcli.cli.spelling", "poolcli.cli.completion",
        "poolcli.cli.raster_options",
        "poolcli.cli.guards", "poolcli.cli.pyramid", "poolcli.cli.pyramid_options",
        "poolcli.spec.pyramids",
    }, sorted(ours)  # fmt: skip


def test_no_color_strips_styles(tmp_path, monkeypatch):
    from poolcli.cli.console import Console

    monkeypatch.setenv("NO_COLOR", "1")
    assert Console(quiet=False, verbose=False).color is False
    monkeypatch.delenv("NO_COLOR")
    assert (
        Console(quiet=False, verbose=False).color is None
    )  # click decides: colour on terminals only


def test_shell_completion_completes_options_and_modes():
    def complete(words: str, index: int) -> list[str]:
        env = {
            **os.environ,
            "_POOLCLI_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(index),
        }
        done = subprocess.run(
            [sys.executable, "-m", "poolcli"], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.splitlines()

    assert complete("poolcli pool --mo", 2) == ["plain,--mode"]
    assert complete("poolcli pool -m m", 3) == [
        "plain,max",
        "plain,min",
        "plain,median",
        "plain,mode",
    ]


def test_shell_completion_completes_paths_and_formats(tmp_path):
    """Bash gets "file," items (it then completes file and folder names itself) for
    INPUT, -o, info's INPUT and --files-from; --format gets the format names."""

    def complete(words: str) -> list[str]:
        env = {
            **os.environ,
            "_POOLCLI_COMPLETE": "bash_complete",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
        done = subprocess.run([sys.executable, "-m", "poolcli"], env=env, cwd=tmp_path,
                              capture_output=True, text=True, check=True)  # fmt: skip
        return done.stdout.splitlines()

    assert complete("poolcli pool pho") == ["file,pho"]
    assert complete("poolcli pool a.jpg -o sm") == ["file,sm"]
    assert complete("poolcli pool -r pho") == ["file,pho"]
    assert complete("poolcli info sc") == ["file,sc"]
    assert complete("poolcli pool --files-from li") == ["file,li"]
    assert complete("poolcli pool --format t") == ["plain,tga", "plain,tif", "plain,tiff"]
    assert "plain,png" in complete("poolcli pool a.jpg --format p")
