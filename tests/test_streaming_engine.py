"""The streaming engine: pooled a band of rows at a time, byte for byte the whole result.

Tiny bands and odd chunk heights make every seam of every pass get crossed: the
windows' halo (kernel, dilation, padding, ceil-mode overhang, adaptive windows) must
be read across band boundaries exactly as on the whole input.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from poolcli.errors import InputError, ParameterError
from poolcli.images.engine_route.passes import pool_all
from poolcli.images.engine_route.route import pool_channels
from poolcli.images.modes import MODES
from poolcli.pooling import pool
from poolcli.pooling.streaming import ArrayRows, ForwardRows, RowPlan, stream
from poolcli.spec.bands import RowBand
from poolcli.spec.modes import PoolMode
from poolcli.spec.settings import PoolSettings

DTYPES = [np.uint8, np.uint16, np.int16, np.int32, np.float32, np.float64]


@st.composite
def pool_settings(draw: st.DrawFn) -> PoolSettings:
    mode = draw(st.sampled_from(list(PoolMode)))
    if draw(st.booleans()) and mode is not PoolMode.SUM:
        size = (draw(st.integers(1, 6)), draw(st.none() | st.integers(1, 9)))
        return PoolSettings.make(2, mode=mode, size=size)
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 3)))
    pad = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 3)), 1)
    if mode is PoolMode.LP:
        pad = (0, 0)
    return PoolSettings.make(
        k, stride=s, padding=pad, dilation=d, mode=mode,
        ceil_mode=draw(st.booleans()),
        count_include_pad=mode not in (PoolMode.AVG, PoolMode.RMS) or draw(st.booleans()),
        repeat=draw(st.integers(1, 3)),
        p=draw(st.sampled_from([1.0, 2.0, 3.5])) if mode is PoolMode.LP else 2.0,
    )  # fmt: skip


def _array(draw: st.DrawFn, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        x = rng.normal(0, 50, shape).astype(dtype)
        if draw(st.booleans()):
            x.flat[rng.integers(0, x.size)] = np.nan
        return x
    info = np.iinfo(dtype)
    # few distinct values, so that modes and medians tie
    high = int(min(info.max, 5 if draw(st.booleans()) else info.max))
    return rng.integers(max(info.min, -5), high, shape, endpoint=True).astype(dtype)


def _streamed(source: ArrayRows, settings: PoolSettings, rows: int, compute) -> np.ndarray:
    height, width = source.shape[source.row_axis], source.shape[1 - source.row_axis]
    plan = RowPlan.of(settings, height, width)
    bands = list(stream(source, plan, lambda a, b: compute(a, replace(settings, bands=b)), rows))
    assert all(band.shape[source.row_axis] <= rows for band in bands)
    return np.concatenate(bands, axis=source.row_axis)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    assert (a.dtype, a.shape) == (b.dtype, b.shape)
    assert a.tobytes() == b.tobytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), settings_=pool_settings())
def test_streamed_arrays_equal_the_whole_result(
    data: st.DataObject, settings_: PoolSettings
) -> None:
    dtype = data.draw(st.sampled_from(DTYPES))
    shape = (data.draw(st.integers(1, 40)), data.draw(st.integers(1, 9)))
    shape += data.draw(st.sampled_from([(), (1,), (3,)]))
    x = _array(data.draw, dtype, shape)
    channel_axis = 2 if x.ndim == 3 and settings_.mode is PoolMode.MODE else None
    try:
        whole = pool_all(x, settings_, channel_axis=channel_axis)
    except (InputError, ParameterError):
        assume(False)
    source = ArrayRows(x, chunk_rows=data.draw(st.integers(1, 7)))
    rows = data.draw(st.integers(1, 6))
    streamed = _streamed(
        source, settings_, rows, lambda slab, s: pool_all(slab, s, channel_axis=channel_axis)
    )
    _same(streamed, whole)


@settings(max_examples=150, deadline=None)
@given(
    data=st.data(),
    mode=st.sampled_from(["avg", "rms", "lp", "max", "median", "mode", "sum"]),
    name=st.sampled_from(["RGBA", "LA", "RGB", "L", "I;16"]),
    linear=st.booleans(),
)
def test_streamed_image_policy_equals_the_whole_result(
    data: st.DataObject, mode: str, name: str, linear: bool
) -> None:
    """Alpha-weighted means and linear light, band by band: the same bytes."""
    record = MODES[name]
    shape = (data.draw(st.integers(2, 30)), data.draw(st.integers(2, 8)))
    shape += (record.channels,) if record.channels > 1 else ()
    x = _array(data.draw, np.dtype(record.dtype).type, shape)
    k = data.draw(st.integers(1, 3))
    settings_ = PoolSettings.make(
        k, mode=mode, linear=linear, repeat=data.draw(st.integers(1, 2)),
        padding=0 if mode == "lp" else data.draw(st.integers(0, k // 2)),
        ceil_mode=data.draw(st.booleans()),
    )  # fmt: skip
    try:
        whole = pool_channels(x, record, settings_, [])
    except InputError:
        assume(False)
    source = ArrayRows(x, chunk_rows=data.draw(st.integers(1, 5)))
    rows = data.draw(st.integers(1, 4))
    streamed = _streamed(source, settings_, rows, lambda a, s: pool_channels(a, record, s, []))
    _same(streamed, whole)


def test_a_channels_first_array_streams_along_its_rows() -> None:
    x = np.arange(3 * 50 * 7, dtype=np.float32).reshape(3, 50, 7) ** 1.5
    settings_ = PoolSettings.make(3, stride=2, padding=1, mode="avg", ceil_mode=True)
    whole = np.moveaxis(pool_all(np.moveaxis(x, 1, 0), settings_), 0, 1)

    def compute(slab: np.ndarray, s: PoolSettings) -> np.ndarray:
        return np.moveaxis(pool_all(np.moveaxis(slab, 1, 0), s), 0, 1)

    _same(_streamed(ArrayRows(x, row_axis=1, chunk_rows=4), settings_, 3, compute), whole)


def test_the_forward_reader_decodes_each_chunk_once() -> None:
    reads: list[tuple[int, int]] = []

    class Counting(ArrayRows):
        def rows(self, start: int, stop: int) -> np.ndarray:
            reads.append((start, stop))
            return super().rows(start, stop)

    x = np.arange(100 * 4, dtype=np.uint8).reshape(100, 4)
    settings_ = PoolSettings.make(3, stride=2, padding=1, mode="max")
    plan = RowPlan.of(settings_, 100, 4)
    out = list(stream(Counting(x, chunk_rows=16), plan, lambda a, b: a, 10))
    assert len(out) == 5
    starts = [start for start, _ in reads]
    assert all(start % 16 == 0 for start in starts)
    assert sum(stop - start for start, stop in reads) == 100  # every row read once


def test_forward_rows_serve_random_requests_too() -> None:
    x = np.arange(60).reshape(30, 2)
    reader = ForwardRows(ArrayRows(x, chunk_rows=8))
    for start, stop in [(0, 5), (3, 9), (20, 30), (2, 4), (29, 30)]:
        assert (reader.take(start, stop) == x[start:stop]).all()


def test_band_rows_follow_the_budget_and_the_writers_tiles() -> None:
    plan = RowPlan.of(PoolSettings.make(2), 32768, 32768)
    row = 32768 * 3
    assert plan.rows_per_band(row, 64 << 20, align=256) == 256
    assert plan.rows_per_band(row, 1, align=256) == 1
    assert plan.rows_per_band(row, 1 << 40) == plan.out_rows


def test_a_band_whose_rows_do_not_match_is_refused() -> None:
    x = np.zeros((10, 4))
    with pytest.raises(InputError, match="read 4 input rows, but the array holds 10"):
        pool(x, 2, band=RowBand(100, 3, 5))
    with pytest.raises(ParameterError, match="not within the 50 output rows"):
        pool(x, 2, band=RowBand(100, 40, 60))
