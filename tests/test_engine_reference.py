"""The engine against the loop reference, on shapes, dtypes and parameters Hypothesis draws.

Integers must match exactly. Floats: float64 and float32 within 1e-6 relative (plus
a tiny absolute slack for sums that cancel), float16 within its own precision.
``lp`` on integers, and ``rms`` on 32- and 64-bit integers, go through float64 (as
documented), so they may land one unit off at a tie or carry 53 bits of precision;
everything else on integers is exact.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import NoRealResult, out_len, reference_adaptive_pool, reference_pool

from poolcli import adaptive_pool, pool
from poolcli.errors import InputError

DTYPES = [
    np.bool_, np.uint8, np.uint16, np.uint32, np.uint64,
    np.int8, np.int16, np.int32, np.int64,
    np.float16, np.float32, np.float64,
]  # fmt: skip
MODES = ["max", "min", "avg", "sum", "lp", "rms", "median", "mode"]
# The layouts a user meets: a plane, HWC images, CHW feature maps, NHWC batches.
LAYOUTS = {"hw": (0, 1), "hwc": (0, 1), "chw": (1, 2), "nhwc": (1, 2)}

SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def arrays(draw, dtype):
    """An array in a random layout, with values that create ties and hit the extremes."""
    layout = draw(st.sampled_from(sorted(LAYOUTS)))
    h, w = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    c = draw(st.integers(1, 4))
    shape = {"hw": (h, w), "hwc": (h, w, c), "chw": (c, h, w), "nhwc": (2, h, w, c)}[layout]
    if layout == "nhwc":
        h, w = min(h, 12), min(w, 12)
        shape = (2, h, w, c)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        elements = st.booleans()
    elif dtype.kind in "iu":
        info = np.iinfo(dtype)
        small = draw(st.booleans())
        lo, hi = (max(info.min, -3), min(info.max, 3)) if small else (int(info.min), int(info.max))
        elements = st.integers(lo, hi)
    else:
        bound = 1000.0 if dtype.itemsize == 2 else 1e6
        elements = st.floats(-bound, bound, width=dtype.itemsize * 8) | st.sampled_from(
            [0.0, 1.0, -1.0, np.nan] if draw(st.booleans()) else [0.0, 1.0, -1.0]
        )
    x = draw(hnp.arrays(dtype, shape, elements=elements))
    return x, LAYOUTS[layout]


@st.composite
def cases(draw, modes=MODES):
    dtype = draw(st.sampled_from(DTYPES))
    x, axes = draw(arrays(dtype))
    mode = draw(st.sampled_from(modes))
    kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    stride = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (0, 0) if mode == "lp" else tuple(draw(st.integers(0, k // 2)) for k in kernel)
    options = dict(
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        mode=mode,
        ceil_mode=draw(st.booleans()),
        count_include_pad=mode not in ("avg", "rms") or draw(st.booleans()),
        axes=axes,
    )
    if mode == "avg" and draw(st.booleans()):
        options["divisor"] = draw(st.integers(1, 30) | st.integers(-30, -1))  # divisor_override
    if mode == "lp":
        options["p"] = draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, 2.5]))
    return x, options


def fits(x, options):
    """True when every window has a real pixel (otherwise both must refuse)."""
    axes = options["axes"]
    for i in range(2):
        n = x.shape[axes[i]]
        k, s, p, d = (options[key][i] for key in ("kernel", "stride", "padding", "dilation"))
        out = out_len(n, k, s, p, d, options["ceil_mode"])
        if out < 1:
            return False
        for j in range(out):
            if not any(0 <= j * s - p + t * d < n for t in range(k)):
                return False
    return True


def assert_matches(actual, expected, x, options):
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    assert actual.flags.c_contiguous
    if x.dtype.kind != "f":
        if options["mode"] == "lp" or (options["mode"] == "rms" and x.dtype.itemsize >= 4):
            # float64 arithmetic: at most one unit off at a tie, or 53 bits of precision
            a, e = actual.astype(object), expected.astype(object)
            allowed = np.maximum(1, np.abs(e) // 2**50)
            assert (np.abs(a - e) <= allowed).all(), (actual, expected)
        else:
            np.testing.assert_array_equal(actual, expected)
        return
    rtol = 2.0**-10 if x.dtype == np.float16 else 1e-6
    scale = float(np.nanmax(np.abs(x), initial=0.0)) * 25
    atol = 2.0**-10 * scale if x.dtype == np.float16 else 1e-12 * scale
    if options["mode"] in ("lp", "rms") and x.dtype == np.float16:
        atol = max(atol, 1e-3)
    np.testing.assert_allclose(
        actual.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol
    )


@SETTINGS
@given(cases())
def test_pool_matches_reference(case):
    x, options = case
    before = x.copy()
    if not fits(x, options):
        with pytest.raises(InputError):
            pool(x, **options)
        return
    try:
        expected = reference_pool(x, **options)
    except NoRealResult:
        with pytest.raises(InputError, match="no real result"):
            pool(x, **options)
        return
    actual = pool(x, **options)
    assert_matches(actual, expected, x, options)
    np.testing.assert_array_equal(x, before)  # the input is never modified


@SETTINGS
@given(cases(modes=["max", "avg", "median", "mode", "sum"]), st.integers(2, 3))
def test_threads_give_identical_results(case, threads):
    x, options = case
    if not fits(x, options):
        return
    one = pool(x, **options, threads=1)
    many = pool(x, **options, threads=threads)
    np.testing.assert_array_equal(one, many)


@SETTINGS
@given(st.data())
def test_adaptive_pool_matches_reference(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    x, axes = data.draw(arrays(dtype))
    mode = data.draw(st.sampled_from(MODES))
    size = tuple(data.draw(st.integers(1, x.shape[a])) for a in axes)
    actual = adaptive_pool(x, size, mode=mode, axes=axes)
    expected = reference_adaptive_pool(x, size, mode=mode, axes=axes)
    assert_matches(actual, expected, x, {"mode": mode})


@SETTINGS
@given(st.data())
def test_mode_on_pixels_matches_reference(data):
    dtype = data.draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.bool_]))
    h, w, c = (data.draw(st.integers(1, 20)) for _ in range(3))
    values = st.integers(0, 2) if np.dtype(dtype).kind in "iu" else st.sampled_from([0.0, 0.5])
    if dtype is np.bool_:
        values = st.booleans()
    x = data.draw(hnp.arrays(dtype, (h, w, c), elements=values))
    options = dict(
        kernel=(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))),
        stride=(data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))),
        ceil_mode=True,
        mode="mode",
        axes=(0, 1),
        padding=(0, 0),
        dilation=(1, 1),
    )
    if not fits(x, options):
        return
    actual = pool(x, **options, channel_axis=2)
    expected = reference_pool(x, **options, channel_axis=2)
    np.testing.assert_array_equal(actual, expected)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_median_and_mode_leave_ignored_values_out_of_every_window(data):
    """The image layer's way to take colour from visible pixels only: values equal
    to ``_ignore`` count in no window; a window of only them gives ``_ignore``."""
    mode = data.draw(st.sampled_from(["median", "mode"]))
    h, w = data.draw(st.integers(1, 9)), data.draw(st.integers(1, 9))
    x = np.asarray(data.draw(st.lists(st.integers(0, 4), min_size=h * w, max_size=h * w)),
                   np.uint16).reshape(h, w)  # fmt: skip
    k = (data.draw(st.integers(1, min(3, h))), data.draw(st.integers(1, min(3, w))))
    s = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    ceil = data.draw(st.booleans())
    result = pool(x, k, stride=s, mode=mode, ceil_mode=ceil, _ignore=4)
    rows = regular_windows_of(h, k[0], s[0], ceil)
    cols = regular_windows_of(w, k[1], s[1], ceil)
    expected = np.zeros((len(rows), len(cols)), np.uint16)
    for i, rr in enumerate(rows):
        for j, cc in enumerate(cols):
            values = sorted(int(x[r, c]) for r in rr for c in cc if x[r, c] != 4)
            if not values:
                expected[i, j] = 4
            elif mode == "median":
                n = len(values)
                expected[i, j] = (values[(n - 1) // 2] + values[n // 2] + 1) // 2
            else:
                expected[i, j] = min(values, key=lambda v: (-values.count(v), v))
    np.testing.assert_array_equal(result, expected)


def regular_windows_of(n, k, s, ceil):
    """The real rows of each window (no padding, no dilation), PyTorch's count."""
    out = out_len(n, k, s, 0, 1, ceil)
    return [[t for t in range(j * s, j * s + k) if t < n] for j in range(out)]


def with_nodata(draw, x, options):
    """``options`` with a nodata value ``x`` holds (often), NaN for floats (sometimes),
    and a ``min_valid``; integer ``lp`` windows get p=2 (a real result for each)."""
    dtype = x.dtype
    if dtype.kind == "b":
        nodata = draw(st.booleans())
    elif dtype.kind == "f" and draw(st.booleans()):
        nodata = float("nan")
    else:
        nodata = x.flat[0].item() if x.size and draw(st.booleans()) else 0
        if dtype.kind == "f":
            nodata = float(nodata)
    options = dict(options, nodata=nodata)
    options["min_valid"] = draw(st.sampled_from([0.0, 0.0, 0.5, 1.0]))
    if options["mode"] == "lp" and dtype.kind != "f":
        options["p"] = 2.0
    return options


@st.composite
def nodata_cases(draw):
    x, options = draw(cases())
    return x, with_nodata(draw, x, options)


@settings(SETTINGS, max_examples=200)
@given(nodata_cases())
def test_nodata_counts_in_no_window_of_any_mode(case):
    """Every mode with nodata against the loop reference that leaves it out."""
    x, options = case
    if not fits(x, options):
        return
    try:
        expected = reference_pool(x, **options)
    except NoRealResult:
        return
    actual = pool(x, **options)
    assert_matches(actual, expected, x, options)


@settings(SETTINGS, max_examples=200)
@given(nodata_cases())
def test_nodata_absent_changes_nothing(case):
    x, options = case
    if not fits(x, options):
        return
    nodata = options.pop("nodata")
    options.pop("min_valid")
    present = (
        np.isnan(x).any()
        if isinstance(nodata, float) and np.isnan(nodata)
        else ((x == nodata).any())
    )
    try:
        plain = pool(x, **options)
    except InputError:
        return
    if present:
        return
    with_nodata = pool(x, nodata=nodata, **options)
    if x.dtype.kind == "f":
        np.testing.assert_allclose(with_nodata, plain, rtol=1e-6, equal_nan=True)
    elif not (plain == nodata).any():  # a window landing on nodata is stepped away
        np.testing.assert_array_equal(with_nodata, plain)
