"""``nodata=`` over three spatial axes: every mode against the N-axis loop reference
that leaves nodata voxels out, the thread count and the band split changing nothing,
and ``poolcli pool VOLUME --nodata`` on .npy, Zarr and TIFF volumes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import NoRealResult
from reference_nd import reference_adaptive_pool_nd, reference_pool_nd
from test_engine_reference import DTYPES, MODES, SETTINGS, assert_matches, with_nodata
from test_engine_volumes import cases, fits, volumes

from poolcli import adaptive_pool, pool
from poolcli.cli import cli
from poolcli.errors import InputError, ParameterError
from poolcli.pooling.geometry import regular_windows
from poolcli.pooling.streaming import band_input
from poolcli.spec.bands import RowBand


@st.composite
def nodata_cases(draw, modes=MODES):
    x, options = draw(cases(volumes, modes=modes))
    if draw(st.booleans()) and x.size:  # holes: a share of the voxels set to nodata
        options = with_nodata(draw, x, options)
        holes = draw(st.integers(0, 2**32 - 1))
        hole = np.random.default_rng(holes).random(x.shape) < draw(st.sampled_from([0.2, 0.6]))
        x = x.copy()
        nodata = options["nodata"]
        x[hole] = np.nan if isinstance(nodata, float) and np.isnan(nodata) else nodata
        return x, options
    return x, with_nodata(draw, x, options)


def expected_or_none(x, options):
    """The reference, or None where the engine must refuse (or has no real result)."""
    if not fits(x, options):
        return None
    try:
        return reference_pool_nd(x, **options)
    except NoRealResult:
        return None


@settings(SETTINGS, max_examples=500)
@given(nodata_cases())
def test_volume_nodata_counts_in_no_window_of_any_mode(case):
    """Every mode, dtype, kernel, stride, padding, ceil_mode and min_valid."""
    x, options = case
    before = x.copy()
    expected = expected_or_none(x, options)
    if expected is None:
        return
    actual = pool(x, **options)
    assert_matches(actual, expected, x, options)
    np.testing.assert_array_equal(x, before)


@settings(SETTINGS, max_examples=100)
@given(nodata_cases(modes=["median", "mode"]))
def test_volume_nodata_median_and_mode_exactly(case):
    """Ranked modes pick (or average two of) the voxels themselves: exact for every dtype."""
    x, options = case
    expected = expected_or_none(x, options)
    if expected is None:
        return
    np.testing.assert_array_equal(pool(x, **options), expected)


@settings(SETTINGS, max_examples=100)
@given(nodata_cases(), st.integers(2, 3))
def test_volume_nodata_threads_give_identical_results(case, threads):
    x, options = case
    if expected_or_none(x, options) is None:
        return
    np.testing.assert_array_equal(
        pool(x, **options, threads=1), pool(x, **options, threads=threads)
    )


@settings(SETTINGS, max_examples=100)
@given(nodata_cases(modes=["max", "min", "avg", "sum", "rms", "median", "mode"]), st.data())
def test_volume_nodata_bands_of_depth_slices_give_identical_results(case, data):
    """Pooling slabs of depth slices (``band``) gives the whole call's slices."""
    x, options = case
    if expected_or_none(x, options) is None or options["axes"] != (0, 1, 2):
        return
    whole = pool(x, **options)
    k, s, pad, d = (options[key][0] for key in ("kernel", "stride", "padding", "dilation"))
    windows = regular_windows(x.shape[0], k, s, pad, d, options["ceil_mode"], axis=0)
    start = data.draw(st.integers(0, windows.out - 1))
    stop = data.draw(st.integers(start + 1, windows.out))
    first, last = band_input(windows, start, stop)
    part = pool(x[first:last], **options, band=RowBand(x.shape[0], start, stop))
    assert part.tobytes() == whole[start:stop].tobytes()


@settings(SETTINGS, max_examples=100)
@given(nodata_cases(modes=["max", "min", "avg", "sum", "lp", "rms"]))
def test_volume_windows_without_nodata_equal_the_plain_result_byte_for_byte(case):
    """Float sums of valid voxels take the plain passes' very additions."""
    x, options = case
    if expected_or_none(x, options) is None:
        return
    nodata = options["nodata"]
    missing = np.isnan(x) if isinstance(nodata, float) and np.isnan(nodata) else x == nodata
    window = {k: v for k, v in options.items() if k not in ("nodata", "min_valid")}
    shape_only = {k: window[k] for k in ("kernel", "stride", "padding", "dilation", "ceil_mode",
                                         "axes")}  # fmt: skip
    clean = pool(missing.astype(np.uint8), mode="max", **shape_only) == 0
    try:
        plain = pool(x, **window)
    except InputError:
        return  # integer lp without a real result
    stepped = plain == nodata  # landed on nodata: moved one step away
    keep = clean & ~stepped
    if options["mode"] in ("max", "min") and isinstance(nodata, float) and np.isnan(nodata):
        plain = plain + plain.dtype.type(0)  # fmax/fmin's zeros are +0.0, as in 2-D
    assert pool(x, **options)[keep].tobytes() == plain[keep].tobytes()


@SETTINGS
@given(st.data())
def test_adaptive_volume_nodata_matches_reference(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    x, axes = data.draw(volumes(dtype))
    mode = data.draw(st.sampled_from(MODES))
    options = with_nodata(data.draw, x, {"mode": mode})
    size = tuple(data.draw(st.integers(1, x.shape[a]) | st.none()) for a in axes)
    try:
        expected = reference_adaptive_pool_nd(x, size, axes=axes, **options)
    except NoRealResult:
        return
    actual = adaptive_pool(x, size, axes=axes, **options)
    assert_matches(actual, expected, x, options)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_volume_nodata_holes_with_big_windows(mode, dtype):
    """Windows of 3x4x5 voxels (60 taps) and 6x7x7 (294 taps: counts wider than a byte)."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 9, (12, 14, 15)).astype(dtype)
    x[rng.random(x.shape) < 0.4] = 0
    x[:3, :7] = 0  # windows of nodata only
    for kernel in ((3, 4, 5), (6, 7, 7)):
        options = dict(kernel=kernel, mode=mode, axes=(0, 1, 2), nodata=0, ceil_mode=True)
        if mode == "lp":
            options["p"] = 2.0
        expected = reference_pool_nd(x, **options)
        assert_matches(pool(x, **options), expected, x, options)


def test_volume_nodata_steps_a_landed_mean_away_and_empties_give_nodata():
    x = np.full((2, 2, 4), 5, np.uint8)
    x[:, :, 0] = 4
    x[:, :, 1] = 6  # the first window averages to 5, the nodata value
    x[:, :, 2:] = 5  # the second holds nodata only
    result = pool(x, 2, axes=(0, 1, 2), mode="avg", nodata=5)
    np.testing.assert_array_equal(result, [[[6, 5]]])


def test_volume_nodata_min_valid():
    x = np.zeros((2, 2, 2), np.float32)
    x[0] = np.nan  # half the voxels
    options = dict(axes=(0, 1, 2), mode="avg", nodata=float("nan"))
    assert pool(x, 2, **options, min_valid=0.5)[0, 0, 0] == 0
    assert np.isnan(pool(x, 2, **options, min_valid=0.6)[0, 0, 0])


def test_volume_nodata_value_is_checked():
    with pytest.raises(ParameterError, match="is not a value of uint8"):
        pool(np.zeros((2, 2, 2), np.uint8), 2, axes=(0, 1, 2), nodata=300)


def cli_run(*args):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def holes():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 200, (6, 10, 12)).astype(np.int16)
    x[rng.random(x.shape) < 0.3] = -9999
    x[:2, :4, :4] = -9999
    return x


@pytest.mark.parametrize("mode", ["avg", "max", "median", "mode"])
def test_cli_npy_volume_with_nodata(tmp_path, holes, mode):
    np.save(tmp_path / "v.npy", holes)
    args = ("-k", "2x2x2", "-m", mode, "--layout", "dhw", "--nodata", "-9999")
    result = cli_run(tmp_path / "v.npy", *args, "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(holes, 2, mode=mode, nodata=-9999)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_cli_npy_volume_with_min_valid(tmp_path, holes):
    np.save(tmp_path / "v.npy", holes)
    args = ("-k", "3x2x2", "--layout", "dhw", "--nodata", "-9999", "--min-valid", "0.75")
    result = cli_run(tmp_path / "v.npy", *args, "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(holes, (2, 2, 3), mode="avg", nodata=-9999, min_valid=0.75)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_cli_zarr_volume_takes_its_nodata_attribute(tmp_path, holes):
    source = zarr.open_array(str(tmp_path / "v.zarr"), mode="w", shape=holes.shape,
                             dtype=holes.dtype, chunks=(3, 5, 6))  # fmt: skip
    source[...] = holes
    source.attrs["nodata"] = -9999
    result = cli_run(tmp_path / "v.zarr", "-k", "2x2x2", "-o", tmp_path / "o.zarr")
    assert result.exit_code == 0, result.stderr
    out = zarr.open_array(str(tmp_path / "o.zarr"), mode="r")
    np.testing.assert_array_equal(out[...], reference_pool_nd(holes, 2, mode="avg", nodata=-9999))
    assert out.attrs["nodata"] == -9999


def test_cli_tiff_z_stack_with_nodata(tmp_path, holes):
    tifffile.imwrite(tmp_path / "v.tif", holes)
    result = cli_run(
        tmp_path / "v.tif", "-k", "2x2x2", "--nodata", "-9999", "-o", tmp_path / "o.tif"
    )
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(holes, 2, mode="avg", nodata=-9999)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "o.tif"), expected)


@pytest.mark.parametrize("out", ["o.npy", "o.zarr", "o.tif"])
def test_cli_streamed_volume_with_nodata_equals_the_whole(tmp_path, out):
    """Slabs of depth slices (``--memory`` far below the volume) leave nodata out too."""
    rng = np.random.default_rng(6)
    x = rng.integers(0, 50, (9, 40, 50)).astype(np.int16)
    x[rng.random(x.shape) < 0.3] = -1
    x[:3, :10] = -1
    np.save(tmp_path / "v.npy", x)
    args = ("-k", "2x2x3", "-s", "2x2x2", "--ceil-mode", "--nodata", "-1", "--min-valid", "0.2")
    streamed = CliRunner().invoke(
        cli, ["pool", str(tmp_path / "v.npy"), *args, "-o", str(tmp_path / out), "--memory", "8K",
              "--json"], catch_exceptions=False)  # fmt: skip
    assert streamed.exit_code == 0, streamed.stderr
    assert json.loads(streamed.stdout)["streamed"] is True
    expected = reference_pool_nd(x, (3, 2, 2), stride=2, ceil_mode=True, mode="avg", nodata=-1,
                                 min_valid=0.2)  # fmt: skip
    name = str(tmp_path / out)
    if name.endswith(".npy"):
        got = np.load(name)
    elif name.endswith(".zarr"):
        array = zarr.open_array(name, mode="r")
        got = array[...]
        assert array.attrs["nodata"] == -1
    else:
        got = tifffile.imread(name)
    np.testing.assert_array_equal(got, expected)


def test_cli_streamed_zarr_volume_takes_its_nodata_attribute(tmp_path, holes):
    source = zarr.open_array(str(tmp_path / "v.zarr"), mode="w", shape=holes.shape,
                             dtype=holes.dtype, chunks=(2, 10, 12))  # fmt: skip
    source[...] = holes
    source.attrs["nodata"] = -9999
    args = ("-k", "2x2x2", "-m", "median", "--memory", "2K", "-o", tmp_path / "o.npy")
    result = cli_run(tmp_path / "v.zarr", *args)
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(holes, 2, mode="median", nodata=-9999)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_cli_adaptive_volume_with_nodata(tmp_path, holes):
    np.save(tmp_path / "v.npy", holes)
    args = ("--size", "5x4x3", "--layout", "dhw", "--nodata", "-9999", "-m", "median")
    result = cli_run(tmp_path / "v.npy", *args, "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_adaptive_pool_nd(holes, (3, 4, 5), mode="median", nodata=-9999)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_cli_volume_pyramid_with_nodata(tmp_path, holes):
    """Every level leaves nodata out of its windows of level-0 voxels; levels carry it."""
    np.save(tmp_path / "v.npy", holes)
    out = tmp_path / "v.ome.zarr"
    result = CliRunner().invoke(cli, ["pyramid", str(tmp_path / "v.npy"), "--layout", "dhw",
                                      "--nodata", "-9999", "--levels", "3", "-o", str(out)],
                                catch_exceptions=False)  # fmt: skip
    assert result.exit_code == 0, result.output
    group = zarr.open_group(str(out), mode="r")
    for k in range(3):
        level = group[str(k)]
        window = (2**k,) * 3
        expected = holes if k == 0 else reference_pool_nd(
            holes, window, window, mode="avg", ceil_mode=True, count_include_pad=False,
            nodata=-9999,
        )  # fmt: skip
        np.testing.assert_array_equal(level[...], expected)
        assert level.attrs["nodata"] == -9999
