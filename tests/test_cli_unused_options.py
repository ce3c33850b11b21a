"""Options that would change nothing are refused (exit 2) or noted, never ignored.

``--size`` chooses the windows itself, so any window option beside it is an error,
even at its default value; ``--p`` only matters to lp, ``--exclude-pad`` only to
avg/rms with padding. Array options given for an image (``--layout``, ``--dtype``
into an image format) are noted on the file's line.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import poolcli
from poolcli.cli import cli
from poolcli.errors import ParameterError


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    Image.new("RGB", (8, 6), "orange").save(path)
    return path


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--size", "4x", "-k", "2"], "--size picks the windows itself; --kernel does nothing"),
        (["--size", "4x", "-k", "3"], "--kernel does nothing with it"),
        (["--size", "4x", "-s", "1"], "--stride does nothing with it"),
        (["--size", "4x", "-p", "0"], "--padding does nothing with it"),
        (["--size", "4x", "--dilation", "2"], "--dilation does nothing with it"),
        (["--size", "4x", "--ceil-mode"], "--ceil-mode does nothing with it"),
        (["--size", "4x", "--exclude-pad"], "--exclude-pad does nothing with it"),
        (["-m", "max", "--p", "3"], "--p only applies to mode 'lp', not 'max'"),
        (["-m", "avg", "--p", "2"], "--p only applies to mode 'lp', not 'avg'"),
        (["-m", "max", "-k", "3", "-p", "1", "--exclude-pad"], "not 'max'"),
        (["-m", "median", "-k", "3", "-p", "1", "--exclude-pad"], "not 'median'"),
        (["-k", "3", "--exclude-pad"], "--exclude-pad changes nothing without --padding"),
    ],
)
def test_an_option_that_would_change_nothing_is_a_usage_error(tmp_path, photo, args, message):
    out = tmp_path / "out.png"
    result = run("pool", str(photo), "-o", str(out), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--size", "4x"],
        ["-m", "lp", "--p", "3"],
        ["-k", "3", "-p", "1", "--exclude-pad"],
        ["-m", "rms", "-k", "3", "-p", "1", "--exclude-pad"],
    ],
)
def test_the_same_options_where_they_matter_are_taken(tmp_path, photo, args):
    out = tmp_path / "out.png"
    result = run("pool", str(photo), "-o", str(out), *args)
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size[0] in (3, 4)


def test_info_refuses_the_same_contradictions(photo):
    result = run("info", str(photo), "--size", "4x", "-k", "2")
    assert result.exit_code == 2
    assert "--kernel does nothing with it" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "max", "p": 3}, "p only applies to mode 'lp', not 'max'"),
        (
            {"mode": "min", "count_include_pad": False},
            "count_include_pad=False only applies to modes 'avg' and 'rms', not 'min'",
        ),
    ],
)
def test_the_engine_refuses_options_its_mode_has_no_use_for(options, message):
    with pytest.raises(ParameterError, match=message):
        poolcli.pool(np.zeros((4, 4)), 2, **options)


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"kernel": 3}, "kernel"),
        ({"stride": 1}, "stride"),
        ({"padding": 1}, "padding"),
        ({"dilation": 2}, "dilation"),
        ({"ceil_mode": True}, "ceil_mode"),
        ({"count_include_pad": False}, "count_include_pad"),
    ],
)
def test_pool_image_refuses_window_options_beside_size(options, name):
    image = Image.new("L", (8, 8))
    with pytest.raises(ParameterError, match=f"size picks the windows itself; {name} does"):
        poolcli.pool_image(image, size=(4, 4), **options)


def test_layout_and_dtype_given_for_an_image_are_noted(tmp_path, photo):
    result = run("pool", str(photo), "-o", str(tmp_path / "o.png"), "--layout", "hwc",
                 "--dtype", "uint16")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "--layout applies to .npy, .npz and Zarr inputs: this image ignores it" in result.stderr
    assert "--dtype applies to .npy, .npz and Zarr outputs" in result.stderr
    with Image.open(tmp_path / "o.png") as image:
        assert image.mode == "RGB"
    # into an array, --dtype does apply to an image: no note
    result = run("pool", str(photo), "-o", str(tmp_path / "o.npy"), "--dtype", "uint16")
    assert result.exit_code == 0
    assert "--dtype" not in result.stderr
    assert np.load(tmp_path / "o.npy").dtype == np.uint16
