"""Volumes in slabs: ``pool(..., axes=(d, h, w), band=RowBand(...))`` gives depth slices
of the whole result byte for byte, every mode, window and ceil mode; the slabs a
volume larger than memory is streamed in."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from poolcli import adaptive_pool, pool
from poolcli.pooling.geometry import adaptive_windows, regular_windows
from poolcli.pooling.streaming import band_input
from poolcli.spec.bands import RowBand

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = ["max", "min", "avg", "sum", "lp", "rms", "median", "mode"]


@SETTINGS
@given(data=st.data())
def test_depth_bands_equal_the_whole_result(data):
    depth = data.draw(st.integers(1, 12))
    shape = (depth, data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6)))
    channels = data.draw(st.sampled_from([(), (2,)]))
    dtype = data.draw(st.sampled_from([np.uint8, np.int16, np.float32]))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).integers(0, 5, shape + channels)
    x = x.astype(dtype)
    mode = data.draw(st.sampled_from(MODES))
    k = data.draw(st.integers(1, 4))
    s = data.draw(st.integers(1, 4))
    p = 0 if mode == "lp" else data.draw(st.integers(0, k // 2))
    ceil = data.draw(st.booleans())
    if min(shape[1:]) < 2:
        return
    options = dict(kernel=(k, 2, 2), stride=(s, 2, 2), padding=(p, 0, 0), ceil_mode=ceil,
                   mode=mode, axes=(0, 1, 2),
                   channel_axis=3 if channels and mode == "mode" else None)  # fmt: skip
    try:
        whole = pool(x, **options)
    except ValueError:
        return  # no window fits: nothing to split
    windows = regular_windows(depth, k, s, p, 1, ceil, axis=0)
    start = data.draw(st.integers(0, windows.out - 1))
    stop = data.draw(st.integers(start + 1, windows.out))
    first, last = band_input(windows, start, stop)
    band = pool(x[first:last], **options, band=RowBand(depth, start, stop))
    assert band.tobytes() == whole[start:stop].tobytes()


@SETTINGS
@given(data=st.data())
def test_adaptive_depth_bands_equal_the_whole_result(data):
    shape = tuple(data.draw(st.integers(1, 9)) for _ in range(3))
    out = tuple(data.draw(st.integers(1, n)) for n in shape)
    mode = data.draw(st.sampled_from(["avg", "max", "median", "mode"]))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).integers(0, 9, shape).astype(np.uint16)
    whole = adaptive_pool(x, out, mode=mode, axes=(0, 1, 2))
    windows = adaptive_windows(shape[0], out[0], axis=0)
    start = data.draw(st.integers(0, out[0] - 1))
    stop = data.draw(st.integers(start + 1, out[0]))
    first, last = band_input(windows, start, stop)
    band = adaptive_pool(x[first:last], out, mode=mode, axes=(0, 1, 2),
                         band=RowBand(shape[0], start, stop))  # fmt: skip
    assert band.tobytes() == whole[start:stop].tobytes()
