"""Where the image layer lets Pillow's reduce pool a frame, it must be the engine's result."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poolcli import pool
from poolcli.images import PoolSettings
from poolcli.images.pixels import image_from
from poolcli.images.policy import _pillow_reduce, pool_frame, reducible_by_pillow

CHANNELS = {"L": 1, "RGB": 3, "CMYK": 4, "YCbCr": 3}


@settings(max_examples=300, deadline=None)
@given(
    mode=st.sampled_from(sorted(CHANNELS)),
    width=st.integers(1, 40),
    height=st.integers(1, 40),
    kernel=st.sampled_from([(2, 2), (1, 2), (2, 1)]),
    ceil_mode=st.booleans(),
    repeat=st.integers(1, 3),
    extremes=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_pillow_reduce_is_the_engine_byte_for_byte(
    mode, width, height, kernel, ceil_mode, repeat, extremes, seed
):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width, CHANNELS[mode]), dtype=np.uint8)
    if extremes:  # 0 and 255 only: every window sum lands on a rounding tie
        pixels = (pixels // 128 * 255).astype(np.uint8)
    image = image_from(pixels, mode)
    options = PoolSettings.make(kernel, mode="avg", ceil_mode=ceil_mode, repeat=repeat)
    try:
        options.output_size(width, height)
    except ValueError:
        return  # too small: refused before any pooling either way
    assert reducible_by_pillow(options)
    reduced = _pillow_reduce(image, options)
    expected = np.asarray(image)
    for _ in range(repeat):
        expected = pool(expected, kernel, mode="avg", ceil_mode=ceil_mode)
    np.testing.assert_array_equal(np.asarray(reduced), expected)
    assert reduced.mode == mode
    assert reduced.info == {}


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("LAB", {}),  # Pillow reduces a and b differently
        ("RGBA", {}),  # Pillow rounds through premultiplied values
        ("LA", {}),
        ("I;16", {}),
        ("RGB", {"linear": True}),
        ("RGB", {"kernel": 3}),
        ("RGB", {"kernel": 2, "stride": 1}),
        ("RGB", {"kernel": 2, "padding": 1}),
        ("RGB", {"kernel": 2, "mode": "max"}),
        ("RGB", {"kernel": 2, "divisor": 3}),
        ("RGB", {"kernel": 2, "size": (3, 3)}),
    ],
)
def test_everything_else_goes_to_the_engine(mode, options):
    from PIL import Image

    options = {"kernel": 2, "mode": "avg", **options}
    frame = pool_frame(Image.new(mode, (8, 8)), PoolSettings.make(**options), [])
    assert frame.ready is None
    assert frame.array is not None


def test_pool_frame_takes_the_short_way_for_a_photo():
    rng = np.random.default_rng(5)
    image = image_from(rng.integers(0, 256, (31, 17, 3), dtype=np.uint8), "RGB")
    frame = pool_frame(image, PoolSettings.make(2, ceil_mode=True), [])
    assert frame.ready is not None
    expected = pool(np.asarray(image), 2, mode="avg", ceil_mode=True)
    np.testing.assert_array_equal(np.asarray(frame.image()), expected)
