"""The level makers against one-shot pooling of level 0: every level, any band heights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import poolcli
from poolcli.pooling.pyramid import (
    Cascade,
    Direct,
    extreme_reducer,
    level_bands,
    level_length,
    levels_to_fit,
    levels_to_one,
    mean_reducer,
    sum_reducer,
    weighted_mean_reducer,
)


def one_shot(x: np.ndarray, level: int, mode: str) -> np.ndarray:
    if level == 0:
        return x
    extra = {"count_include_pad": False} if mode == "avg" else {}
    channel_axis = 2 if mode == "mode" and x.ndim == 3 else None
    return poolcli.pool(x, 2**level, mode=mode, ceil_mode=True, channel_axis=channel_axis, **extra)


def levels_of(x: np.ndarray, maker, band: int) -> list[np.ndarray]:
    got: dict[int, list[np.ndarray]] = {}
    bands = (x[i : i + band] for i in range(0, x.shape[0], band))
    for level, rows in level_bands(bands, maker):
        got.setdefault(level, []).append(rows)
    return [np.concatenate(got[k]) for k in sorted(got)]


def test_level_sizes_are_ceil_halvings():
    assert [level_length(5000, k) for k in range(6)] == [5000, 2500, 1250, 625, 313, 157]
    assert levels_to_fit(6000, 5000, 256) == 6  # 188 x 157 fits one tile
    assert levels_to_fit(100, 100, 256) == 1
    assert levels_to_one(900, 600) == 11  # Deep Zoom: 1024 > 900
    assert levels_to_one(1, 1) == 1


REDUCERS = {
    "avg": mean_reducer,
    "sum": sum_reducer,
    "max": lambda dtype: extreme_reducer(True),
    "min": lambda dtype: extreme_reducer(False),
}


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    channels=st.sampled_from([0, 1, 3]),
    dtype=st.sampled_from(["uint8", "int16", "uint16", "int32", "float32", "float64"]),
    mode=st.sampled_from(sorted(REDUCERS)),
    band=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_cascade_equals_one_shot_pooling(height, width, channels, dtype, mode, band, seed):
    rng = np.random.default_rng(seed)
    shape = (height, width, channels) if channels else (height, width)
    if np.dtype(dtype).kind == "f":
        x = rng.standard_normal(shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, shape, dtype=dtype, endpoint=True)
    levels = levels_to_one(height, width)
    got = levels_of(x, Cascade(height, width, levels, REDUCERS[mode](x.dtype)), band)
    assert len(got) == levels
    for level, rows in enumerate(got):
        expected = one_shot(x, level, mode)
        assert rows.dtype == expected.dtype
        if np.dtype(dtype).kind == "f" and mode in ("avg", "sum"):
            # float64 sums added in another order: within an ulp of the one-shot sums
            np.testing.assert_allclose(rows, expected, rtol=1e-6, atol=1e-6)
        else:
            np.testing.assert_array_equal(rows, expected)


def test_integer_means_round_once_from_level_zero_sums():
    # a mean of means would drift: 1,1,1,2 -> 1 (1.25); with 2,2,2,2 -> level 2 is
    # (1.25*4 + 8) / 8 = 1.625 -> 2, and rounding level 1 first gives (1+2)/2 = 1.5 -> 2 too;
    # so use values where they differ: level-1 means 1.25 and 1.5 round to 1 and 2 (1.5
    # from 1+2 rounds up), but the true level-2 mean is 11/8 = 1.375 -> 1
    x = np.array([[1, 1, 1, 2], [1, 2, 1, 2]], np.uint8)
    x = np.vstack([x, x])  # 4x4
    got = levels_of(x, Cascade(4, 4, 3, mean_reducer(x.dtype)), band=1)
    assert got[1].tolist() == [[1, 2], [1, 2]]  # 1.25 -> 1, 1.5 -> 2
    assert got[2].tolist() == [[1]]  # 22 / 16 = 1.375 -> 1, not mean(1, 2, 1, 2) = 1.5 -> 2


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    mode=st.sampled_from(["median", "mode"]),
    band=st.integers(1, 20),
    seed=st.integers(0, 2**16),
)
def test_direct_levels_equal_one_shot_pooling(height, width, mode, band, seed):
    x = np.random.default_rng(seed).integers(0, 4, (height, width, 3), dtype=np.uint8)
    levels = levels_to_one(height, width)

    def compute(rows, level):
        return one_shot(rows, level, mode)

    got = levels_of(x, Direct(height, width, levels, compute), band)
    for level, rows in enumerate(got):
        np.testing.assert_array_equal(rows, one_shot(x, level, mode))


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_weighted_mean_equals_pool_image_premultiplied(dtype):
    from poolcli.images.engine_route.route import pool_channels
    from poolcli.images.modes import array_mode
    from poolcli.spec.settings import PoolSettings

    rng = np.random.default_rng(3)
    top = np.iinfo(dtype).max
    x = rng.integers(0, top, (37, 29, 4), dtype=dtype, endpoint=True)
    x[:8, :8, 3] = 0  # invisible windows: colour 0
    x[8:16, :, 3] = rng.integers(0, 3, (8, 29))  # nearly invisible
    record = array_mode(dtype, 4)
    got = levels_of(x, Cascade(37, 29, 6, weighted_mean_reducer(x.dtype)), band=7)
    for level in range(1, 6):
        one = PoolSettings.make(2**level, mode="avg", ceil_mode=True, count_include_pad=False)
        np.testing.assert_array_equal(got[level], pool_channels(x, record, one, []))


@settings(max_examples=40, deadline=None)
@given(
    height=st.integers(1, 70),
    width=st.integers(1, 70),
    dtype=st.sampled_from(["uint8", "int16", "uint32", "int64"]),
    values=st.integers(1, 5),
    band=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_sorted_modes_equal_one_shot_mode_pooling(height, width, dtype, values, band, seed):
    from poolcli.pooling.pyramid_modes import SortedModes

    x = np.random.default_rng(seed).integers(-1, values, (height, width)).astype(dtype)
    levels = levels_to_one(height, width)
    got = levels_of(x, SortedModes(height, width, levels), band)
    for level, rows in enumerate(got):
        np.testing.assert_array_equal(rows, one_shot(x, level, "mode"))
