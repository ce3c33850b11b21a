"""The engine's fast paths, each at its boundaries, against the loop reference.

Every fast path is a general mechanism that must give exactly what the plain path
(and the reference) gives: pair sums (SWAR) for 2-wide integer windows along the
last axis, stride-1 passes folded with the channels, the opening tap, shared
geometry of interior bands, power-of-two float divisors, and threads taking bands
from a shared iterator.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import reference_adaptive_pool, reference_pool

import poolcli.pooling.bands as bands
from poolcli import adaptive_pool, pool
from poolcli.errors import InputError
from poolcli.pooling.geometry import adaptive_windows, regular_windows
from poolcli.pooling.separable import pair_sums

INTEGERS = [np.uint8, np.uint16, np.uint32, np.int8, np.int16, np.int32]


def extremes(dtype, shape, seed=0):
    """Random values of ``dtype`` with its minimum and maximum sprinkled in."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(seed)
    x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    x.flat[::3] = info.max
    x.flat[1::5] = info.min
    return x


# --- pair sums (SWAR) ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", INTEGERS)
def test_pair_sums_widen_exactly(dtype):
    x = extremes(dtype, (3, 10))
    expected = x[:, 0::2].astype(np.int64) + x[:, 1::2]
    sums = pair_sums(x, 5)
    assert sums.dtype.itemsize == 2 * x.dtype.itemsize
    assert sums.dtype.kind == x.dtype.kind
    np.testing.assert_array_equal(sums, expected)


def test_pair_sums_ignore_an_odd_last_element_and_read_strided_rows():
    x = extremes(np.int16, (6, 9))[::2]  # rows strided, last axis contiguous
    np.testing.assert_array_equal(pair_sums(x, 4), x[:, 0:8:2].astype(np.int32) + x[:, 1:8:2])


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize(
    ("shape", "axes"),
    [((9, 10), (0, 1)), ((9, 11), (0, 1)), ((2, 7, 10), (1, 2)), ((7, 10, 1), (0, 1))],
)
@pytest.mark.parametrize("mode", ["avg", "sum"])
def test_pair_path_matches_reference(dtype, shape, axes, mode):
    # (9, 11): floor mode drops the odd last column, still pairs; (7, 10, 1): a
    # trailing axis of size 1 is no obstacle
    x = extremes(dtype, shape)
    options = dict(kernel=(3, 2), stride=(2, 2), mode=mode, axes=axes)
    np.testing.assert_array_equal(pool(x, **options), reference_pool(x, **options))


@pytest.mark.parametrize(
    "options",
    [
        dict(kernel=2, ceil_mode=True),  # odd width: the last window holds one pixel
        dict(kernel=2, padding=1),
        dict(kernel=2, stride=(2, 1)),
        dict(kernel=2, dilation=(1, 2)),
        dict(kernel=2, axes=(1, 0)),  # the pairs run along the first axis in memory
        dict(kernel=2, divisor=3),
    ],
)
def test_near_misses_of_the_pair_path_match_reference(options):
    x = extremes(np.uint16, (9, 11))
    options = dict(options, mode="avg")
    np.testing.assert_array_equal(pool(x, **options), reference_pool(x, **options))


@pytest.mark.parametrize("size", [(3, 5), (4, 6), (9, 3)])
def test_adaptive_windows_near_pairs_match_reference(size):
    # (3, 5) on 10 columns are regular pairs; (4, 6) and (9, 3) are index-array taps
    x = extremes(np.int16, (9, 10))
    expected = reference_adaptive_pool(x, size, mode="avg")
    np.testing.assert_array_equal(adaptive_pool(x, size, mode="avg"), expected)


def test_pair_path_on_channels_matches_reference():
    x = extremes(np.uint8, (8, 10, 3))  # trailing channels: the per-channel path
    np.testing.assert_array_equal(pool(x, 2, mode="avg"), reference_pool(x, 2, mode="avg"))


# --- stride-1 passes folded with the channels, and the opening tap ------------------


@pytest.mark.parametrize("channels", [1, 2, 3, 17])
@pytest.mark.parametrize(
    "options",
    [
        dict(kernel=3, stride=1, padding=1),
        dict(kernel=(2, 3), stride=(2, 1), padding=(1, 1), dilation=(1, 2)),
        dict(kernel=4, stride=1, padding=2, ceil_mode=True),
        dict(kernel=(1, 5), stride=1, padding=(0, 2)),
    ],
)
@pytest.mark.parametrize("mode", ["max", "min", "avg", "sum"])
def test_stride_one_passes_match_reference(channels, options, mode):
    x = extremes(np.int16, (7, 9, channels), seed=channels)
    options = dict(options, mode=mode)
    np.testing.assert_array_equal(pool(x, **options), reference_pool(x, **options))


def test_float_sums_keep_kernel_order_with_an_opening_tap():
    # padding 1: tap 0 misses the first output, so tap 1 opens every output and
    # tap 0 is added second; x + y == y + x exactly, so the values are those of
    # ((t0 + t1) + t2) in float64, rows first, then columns
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((6, 8, 3)) * 10.0 ** rng.integers(-8, 9, (6, 8, 3))).astype(np.float32)
    wide = np.pad(x.astype(np.float64), ((1, 1), (1, 1), (0, 0)))
    rows = (wide[:-2] + wide[1:-1]) + wide[2:]
    sums = (rows[:, :-2] + rows[:, 1:-1]) + rows[:, 2:]
    expected = (sums / 9).astype(np.float32)
    np.testing.assert_array_equal(pool(x, 3, stride=1, padding=1, mode="avg"), expected)


def test_nan_and_infinities_survive_the_stride_one_path():
    x = np.zeros((5, 5, 2), np.float32)
    x[2, 2, 0] = np.nan
    x[0, 0, 1] = np.inf
    result = pool(x, 3, stride=1, padding=1, mode="avg")
    assert np.isnan(result[1:4, 1:4, 0]).all()
    assert not np.isnan(result[0, 0, 0])
    assert np.isinf(result[:2, :2, 1]).all()
    assert result[3, 3, 1] == 0


# --- max/min picked from windows at every position (few lanes, stride > 1) ------------


@pytest.mark.parametrize("channels", [2, 3, 16, 17])  # 17: past the few-lanes limit
@pytest.mark.parametrize(
    "options",
    [
        dict(kernel=2),
        dict(kernel=3, stride=2, padding=1),
        dict(kernel=3, stride=(1, 3), padding=1, ceil_mode=True),  # last window overhangs
        dict(kernel=(2, 3), stride=(2, 4), dilation=(1, 3), ceil_mode=True),
        dict(kernel=(1, 4), stride=(1, 5), padding=(0, 2), dilation=(1, 2)),  # gaps
    ],
)
@pytest.mark.parametrize("mode", ["max", "min"])
def test_picked_windows_match_reference(channels, options, mode):
    x = extremes(np.int16, (7, 23, channels), seed=channels)
    options = dict(options, mode=mode)
    np.testing.assert_array_equal(pool(x, **options), reference_pool(x, **options))


def test_a_partial_last_window_on_folded_lanes_is_written():
    # ceil mode: the last window holds one pixel, so tap 1 misses it; with two
    # lanes folded into the axis, the uncovered edge is two elements long
    x = extremes(np.uint8, (6, 5, 2))
    options = dict(kernel=(1, 2), stride=4, ceil_mode=True)
    np.testing.assert_array_equal(pool(x, **options), reference_pool(x, **options))
    options = dict(kernel=(1, 2), stride=(1, 4), ceil_mode=True, mode="sum")
    np.testing.assert_array_equal(pool(x, **options), reference_pool(x, **options))


def test_picked_windows_keep_nan_winning_and_padding_losing():
    x = -np.ones((4, 9, 3), np.float32)
    x[1, 4, 2] = np.nan
    result = pool(x, 3, stride=2, padding=1)
    expected = reference_pool(x, 3, stride=2, padding=1)
    np.testing.assert_array_equal(result, expected)  # NaN where the window has it
    assert np.isnan(result[:2, 2:3, 2]).all()
    assert (result[..., :2] == -1).all()


# --- float divisors -----------------------------------------------------------------


@pytest.mark.parametrize("kernel", [2, 4, 3])
def test_power_of_two_divisors_give_the_quotient_exactly(kernel):
    rng = np.random.default_rng(kernel)
    x = rng.standard_normal((8, 12)) * 10.0 ** rng.integers(-300, 300, (8, 12))
    x[0, :4] = 5e-324  # subnormals: the multiply must round as the division does
    n = kernel * kernel
    blocks = x[: 8 // kernel * kernel, : 12 // kernel * kernel]
    rows = blocks.reshape(-1, kernel, blocks.shape[1])
    row_sums = rows[:, 0]
    for t in range(1, kernel):
        row_sums = row_sums + rows[:, t]
    cols = row_sums.reshape(row_sums.shape[0], -1, kernel)
    sums = cols[:, :, 0]
    for t in range(1, kernel):
        sums = sums + cols[:, :, t]
    np.testing.assert_array_equal(pool(x, kernel, mode="avg"), sums / n)


# --- bands: shared interior geometry, tiny bands, threads -----------------------------


@pytest.mark.parametrize(
    "windows",
    [
        regular_windows(23, 3, 2, 1, 1, True, axis=0),
        regular_windows(30, 4, 1, 2, 2, False, axis=0),
        regular_windows(9, 2, 2, 0, 1, False, axis=0),
        adaptive_windows(23, 7, axis=0),
    ],
)
@pytest.mark.parametrize("rows", [1, 2, 3, 5, 100])
def test_shared_band_geometry_equals_each_bands_own(windows, rows):
    for start, stop, shared, first in windows.bands(rows):
        own, own_first = windows.band(start, stop)
        assert first == own_first
        assert shared.length == own.length
        assert len(shared.taps) == len(own.taps)
        for a, b in zip(shared.taps, own.taps, strict=True):
            for x, y in ((a.dst, b.dst), (a.src, b.src)):
                assert (x == y) if isinstance(x, slice) else np.array_equal(x, y)
        np.testing.assert_array_equal(shared.real, own.real)
        np.testing.assert_array_equal(shared.padded, own.padded)


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([np.uint8, np.int32, np.float32, np.float64]),
    st.integers(1, 3),
    st.sampled_from(["max", "avg", "sum", "rms"]),
    st.tuples(st.integers(1, 4), st.integers(1, 4)),
    st.tuples(st.integers(1, 3), st.integers(1, 3)),
    st.data(),
)
def test_one_row_bands_on_threads_give_what_one_band_gives(
    dtype, threads, mode, kernel, stride, data
):
    x = data.draw(hnp.arrays(dtype, (13, 11, 2), elements=st.integers(0, 200)))
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    options = dict(kernel=kernel, stride=stride, padding=padding, mode=mode, threads=threads)
    whole = pool(x, **options)
    budget = bands._BAND_BYTES
    try:
        bands._BAND_BYTES = 1  # one output row per band
        banded = pool(x, **options)
    finally:
        bands._BAND_BYTES = budget
    np.testing.assert_array_equal(banded, whole)


def test_an_error_in_a_band_reaches_the_caller_with_threads(monkeypatch):
    monkeypatch.setattr(bands, "_BAND_BYTES", 1)
    x = np.ones((64, 64), np.int16)
    x[40:42, 40:42] = -1  # x**3 sums below 0 in one window of one band
    with pytest.raises(InputError, match="no real result"):
        pool(x, 2, mode="lp", p=3.0, threads=2)


# --- the vote of four (full 2x2 windows in mode) ------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.uint32, np.float64])
def test_the_vote_of_four_gives_every_2x2_window_its_mode(dtype):
    """Every 2x2 window over four values (all 256 orders: runs of 1-4, two pairs,
    ties, the pattern in any position), as the loop reference pools them."""
    values = np.array([-3, 0, 7, 250], dtype) if np.dtype(dtype).kind != "u" else None
    values = np.array([0, 7, 250, 3], dtype) if values is None else values
    windows = np.stack(np.meshgrid(*[np.arange(4)] * 4, indexing="ij"), -1).reshape(-1, 4)
    x = values[windows].reshape(-1, 2, 2).transpose(1, 0, 2).reshape(2, -1)  # side by side
    got = pool(x, 2, mode="mode")
    np.testing.assert_array_equal(got, reference_pool(x, 2, mode="mode"))
    assert got.shape == (1, 256)


# --- float mode: values as ordered integer keys ----------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_float_mode_counts_equal_values_as_one_whatever_their_bits(dtype):
    """-0.0 and +0.0 are one value, NaNs of any payload one NaN (which loses ties to
    numbers), infinities and subnormals keep their place: as the loop reference counts."""
    rng = np.random.default_rng(3)
    info = np.finfo(dtype)
    pool_of = np.array([-np.inf, -1.5, -0.0, 0.0, info.smallest_subnormal, 2.0, np.inf], dtype)
    x = pool_of[rng.integers(0, len(pool_of), (40, 36))]
    unsigned = np.dtype(f"u{np.dtype(dtype).itemsize}")
    nan_bits = np.array(np.nan, dtype).view(unsigned)
    payloads = (nan_bits | unsigned.type(1), nan_bits | unsigned.type(1 << (8 * x.itemsize - 1)))
    holes = rng.random(x.shape) < 0.2
    x[holes] = np.array(payloads, unsigned).view(dtype)[rng.integers(0, 2, int(holes.sum()))]
    for kernel in (2, 3):
        got = pool(x, kernel, mode="mode")
        np.testing.assert_array_equal(got, reference_pool(x, kernel, mode="mode"))


@pytest.mark.parametrize(
    ("dtype", "channels"),
    [(np.uint8, 3), (np.uint8, 4), (np.int8, 3), (np.int16, 2), (np.uint16, 3), (np.int32, 1),
     (np.bool_, 3)],
)  # fmt: skip
def test_whole_pixel_mode_codes_keep_the_pixels_order(dtype, channels):
    """Pixels vote as one integer each (uint32 under 32 bits, int64 up to 63): ties go
    to the lexicographically smallest pixel, negative channels included."""
    rng = np.random.default_rng(channels)
    low = -2 if np.dtype(dtype).kind == "i" else 0
    colours = rng.integers(low, 2, (6, channels)).astype(dtype)
    x = colours[rng.integers(0, len(colours), (24, 30))]
    for kernel in (2, 3):
        got = pool(x, kernel, mode="mode", channel_axis=2)
        np.testing.assert_array_equal(got, reference_pool(x, kernel, mode="mode", channel_axis=2))
