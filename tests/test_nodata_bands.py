"""Nodata band by band: every path the band workers take against the loop reference.

The workers pick a path per band (no nodata at all, fmax/fmin, shifted integers,
windows redone one by one or the whole band refilled, medians and modes redone
where nodata wins), so tiny bands, several threads, ``band=`` row bands, blobby
rasters and whole-pixel modes must all give the reference's values, and results
must not depend on the path or the split: byte for byte.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import NoRealResult, reference_pool
from test_engine_reference import assert_matches, fits, nodata_cases

from poolcli import pool
from poolcli.pooling import bands, valid_separable
from poolcli.pooling.geometry import regular_windows
from poolcli.pooling.streaming import band_input
from poolcli.spec.bands import RowBand

SETTINGS = settings(
    max_examples=200, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.function_scoped_fixture],
)  # fmt: skip


@pytest.fixture
def tiny_bands(monkeypatch):
    """Bands of a row or two: every seam, interior band and edge band is crossed."""
    monkeypatch.setattr(bands, "_BAND_BYTES", 256)
    monkeypatch.setattr(bands, "_STACK_BYTES", 256)


def _reference_or_none(x, options):
    if not fits(x, options):
        return None
    try:
        return reference_pool(x, **options)
    except NoRealResult:
        return None


@SETTINGS
@given(case=nodata_cases(), threads=st.integers(1, 3))
def test_nodata_in_tiny_bands_on_threads_matches_reference(tiny_bands, case, threads):
    x, options = case
    expected = _reference_or_none(x, options)
    if expected is None:
        return
    assert_matches(pool(x, **options, threads=threads), expected, x, options)


@SETTINGS
@given(case=nodata_cases(), threads=st.integers(2, 3))
def test_nodata_results_do_not_depend_on_bands_or_threads(tiny_bands, case, threads):
    x, options = case
    if _reference_or_none(x, options) is None:
        return
    bands._BAND_BYTES = bands._STACK_BYTES = 256
    tiny = pool(x, **options, threads=1)
    bands._BAND_BYTES = bands._STACK_BYTES = 1 << 30  # one band (the fixture restores)
    one_band = pool(x, **options, threads=threads)
    assert tiny.tobytes() == one_band.tobytes()
    bands._BAND_BYTES = bands._STACK_BYTES = 256
    whole = pool(x, **options, threads=threads)
    assert whole.tobytes() == one_band.tobytes()


@SETTINGS
@given(case=nodata_cases())
def test_windows_redone_one_by_one_equal_the_refilled_band(tiny_bands, monkeypatch, case):
    """Floats: a band with few windows of some nodata redoes them one by one, a band
    with many refills its nodata with zeros and pools again; both the same bytes."""
    x, options = case
    if options["mode"] in ("median", "mode", "max", "min"):
        return
    if _reference_or_none(x, options) is None:
        return
    monkeypatch.setattr(valid_separable, "_SPARSE_SHARE", 0.0)
    refilled = pool(x, **options)
    monkeypatch.setattr(valid_separable, "_SPARSE_SHARE", 1e9)
    redone = pool(x, **options)
    assert refilled.dtype == redone.dtype
    assert refilled.tobytes() == redone.tobytes()


@SETTINGS
@given(case=nodata_cases(), data=st.data())
def test_nodata_row_bands_equal_the_whole_result(case, data):
    x, options = case
    if _reference_or_none(x, options) is None:
        return
    whole = pool(x, **options)
    axis = options["axes"][0]
    k, s, p, d = (options[key][0] for key in ("kernel", "stride", "padding", "dilation"))
    windows = regular_windows(x.shape[axis], k, s, p, d, options["ceil_mode"], axis=axis)
    start = data.draw(st.integers(0, windows.out - 1))
    stop = data.draw(st.integers(start + 1, windows.out))
    first, last = band_input(windows, start, stop)
    rows = np.take(x, np.arange(first, last), axis=axis)
    band = pool(rows, **options, band=RowBand(x.shape[axis], start, stop))
    expected = np.take(whole, np.arange(start, stop), axis=axis)
    assert band.tobytes() == expected.tobytes()


@SETTINGS
@given(data=st.data())
def test_nodata_whole_pixel_mode_matches_reference(tiny_bands, data):
    """A pixel is nodata when all its channels are; the rest vote as whole pixels."""
    dtype = data.draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.bool_]))
    h, w = data.draw(st.integers(1, 16)), data.draw(st.integers(1, 16))
    c = data.draw(st.integers(1, 4))
    kind = np.dtype(dtype).kind
    values = st.integers(0, 2) if kind in "iu" else st.sampled_from([0.0, 0.5, np.nan])
    nodata: object = data.draw(st.sampled_from([0, 1]))
    if dtype is np.bool_:
        values, nodata = st.booleans(), bool(nodata)
    elif kind == "f":
        nodata = data.draw(st.sampled_from([0.0, float("nan")]))
    x = data.draw(hnp.arrays(dtype, (h, w, c), elements=values))
    if kind == "f":
        # NaN inside a valid pixel is a colour of its own for the engine's plain mode
        # but not for the loop reference (with or without nodata): keep NaN whole
        gone = np.isnan(x).any(axis=-1, keepdims=True)
        x = np.where(gone, np.float32(np.nan if np.isnan(nodata) else 0.5), x)
    options = dict(
        kernel=(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))),
        stride=(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))),
        ceil_mode=data.draw(st.booleans()), mode="mode", axes=(0, 1), padding=(0, 0),
        dilation=(1, 1), nodata=nodata, min_valid=data.draw(st.sampled_from([0.0, 0.5])),
    )  # fmt: skip
    if not fits(x, options):
        return
    actual = pool(x, **options, channel_axis=2, threads=data.draw(st.integers(1, 2)))
    np.testing.assert_array_equal(actual, reference_pool(x, **options, channel_axis=2))


def _blobby(shape, dtype, nodata, seed):
    """A raster with holes in blobs (as voids in a DEM), a fifth of its pixels."""
    rng = np.random.default_rng(seed)
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    field = np.sin(rows / 7.0 + seed) * np.cos(cols / 5.0) + np.sin((rows + cols) / 11.0)
    if np.dtype(dtype).kind == "f":
        x = rng.normal(100, 10, shape).astype(dtype)
    else:
        x = rng.integers(0, 30, shape).astype(dtype)
    x[field > np.quantile(field, 0.8)] = nodata
    return x


@pytest.mark.parametrize(
    ("dtype", "nodata"), [(np.int16, -9999), (np.float32, float("nan")), (np.uint8, 0)]
)
@pytest.mark.parametrize(
    "options",
    [
        {"kernel": 2, "mode": "avg"},
        {"kernel": 2, "mode": "sum"},
        {"kernel": 2, "mode": "min"},
        {"kernel": 3, "stride": 2, "padding": 1, "mode": "avg"},
        {"kernel": 3, "stride": 2, "padding": 1, "mode": "max"},
        {"kernel": 2, "mode": "median"},
        {"kernel": 4, "mode": "mode"},
        {"kernel": 2, "mode": "rms", "ceil_mode": True},
    ],
)
def test_blobby_rasters_in_many_bands_match_reference(monkeypatch, dtype, nodata, options):
    """Holes in blobs, as the benchmark has them, pooled in bands of a few rows."""
    monkeypatch.setattr(bands, "_BAND_BYTES", 4096)
    monkeypatch.setattr(bands, "_STACK_BYTES", 4096)
    x = _blobby((61, 47), dtype, nodata, seed=3)
    options = dict(options, nodata=nodata)
    expected = reference_pool(x, **_full(options))
    for threads in (1, 2):
        assert_matches(pool(x, **options, threads=threads), expected, x, _full(options))


def _full(options):
    kernel = options["kernel"]
    full = {"stride": kernel, "padding": 0, "dilation": 1, "ceil_mode": False}
    full.update(options)
    for key in ("kernel", "stride", "padding", "dilation"):
        full[key] = (full[key], full[key]) if isinstance(full[key], int) else full[key]
    full.setdefault("axes", (0, 1))
    return full


@pytest.mark.parametrize("mode", ["max", "min"])
def test_signed_zeros_give_the_same_bytes_in_any_band(mode):
    """fmax/fmin settle -0.0 against +0.0 by where the pair falls in their vector
    loop: a band of one row once gave -0.0 where the whole array gave +0.0."""
    x = np.zeros((4, 2, 3), np.float32)
    x[0, 0, 0] = -0.0
    x[2, 1, 2] = -0.0
    options = dict(kernel=(1, 2), stride=(1, 1), mode=mode, axes=(1, 2), nodata=float("nan"))
    whole = pool(x, **options)
    for start in range(2):
        band = pool(x[:, start : start + 1], **options, band=RowBand(2, start, start + 1))
        assert band.tobytes() == whole[:, start : start + 1].tobytes()
    assert not np.signbit(whole).any()


def test_windows_of_one_real_count_and_varying_padded_counts():
    """Every window holds 2 real pixels, but their padded counts differ (padding and
    dilation): deciding whether nodata-only windows average to nodata by themselves
    once failed to broadcast the divisors to the single real count."""
    x = np.zeros((1, 1, 9), bool)
    options = dict(kernel=(1, 4), stride=(1, 2), padding=(0, 1), dilation=(1, 3), mode="avg",
                   ceil_mode=True, axes=(1, 2))  # fmt: skip
    expected = reference_pool(x, **options, nodata=False)
    np.testing.assert_array_equal(pool(x, **options, nodata=False), expected)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_2x2_integer_sums_with_nodata_match_reference_in_any_band(data):
    """2x2 sums of integers take the fewest passes (one lookup of each window's nodata
    count): windows of nodata only give it, valid sums landing on it step away."""
    dtype = np.dtype(data.draw(st.sampled_from(["int8", "uint8", "int16", "uint16", "int32"])))
    info = np.iinfo(dtype)
    nodata = data.draw(st.sampled_from([int(info.min), int(info.max), 0, 3, -2 if info.min else 1]))
    # values near nodata make valid sums that land on it (3 = 1 + 2, -2 = -1 + -1)
    near = st.sampled_from([nodata, nodata, 0, 1, 2, -1, int(info.min), int(info.max)])
    shape = (data.draw(st.integers(2, 24)), data.draw(st.integers(2, 24)))
    values = data.draw(hnp.arrays(np.int64, shape, elements=near))
    x = np.clip(values, info.min, info.max).astype(dtype)
    band = data.draw(st.sampled_from([64, 4096, 1 << 22]))  # bytes: bands of a row or two
    old = bands._BAND_BYTES
    bands._BAND_BYTES = band
    try:
        actual = pool(x, 2, mode="sum", nodata=nodata, threads=data.draw(st.integers(1, 2)))
    finally:
        bands._BAND_BYTES = old
    options = {"kernel": 2, "mode": "sum", "nodata": nodata}
    assert_matches(actual, reference_pool(x, **_full(options)), x, _full(options))
