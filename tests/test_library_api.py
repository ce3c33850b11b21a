"""The library's edges: pool_image speaks (width, height) and refuses wrong types in
one clear error; pool refuses ragged input; adaptive sizes may keep an axis (None)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import poolcli
from poolcli.errors import InputError, ParameterError, PoolcliError


@pytest.mark.parametrize(
    ("image", "hint"),
    [
        (np.zeros((4, 4), np.uint8), "for NumPy arrays use poolcli.pool"),
        ("photo.jpg", "open the file first"),
        (None, "got NoneType"),
    ],
)
def test_pool_image_names_the_type_it_takes(image, hint):
    with pytest.raises(InputError, match="pool_image takes a PIL.Image.Image") as caught:
        poolcli.pool_image(image)
    assert hint in str(caught.value)


@pytest.mark.parametrize("size", [100, "100x", (1, 2, 3), (1.5, None)])
def test_pool_image_size_must_be_a_width_height_pair(size):
    with pytest.raises(ParameterError, match=r"size must be a \(width, height\) pair"):
        poolcli.pool_image(Image.new("L", (8, 8)), size=size)


def test_pool_image_pairs_are_width_by_height_like_size_and_pillow():
    image = Image.fromarray(np.arange(60 * 40, dtype=np.uint32).reshape(40, 60).astype(np.uint8))
    assert poolcli.pool_image(image, (3, 2)).size == (20, 20)
    assert poolcli.pool_image(image, 1, stride=(3, 2)).size == (20, 20)
    assert poolcli.pool_image(image, (3, 1), padding=(1, 0), mode="max").size == (20, 40)
    assert poolcli.pool_image(image, size=(30, 10)).size == (30, 10)
    # the same window as the engine's (h, w) = (2, 3)
    engine = poolcli.pool(np.asarray(image), (2, 3), mode="avg")
    np.testing.assert_array_equal(np.asarray(poolcli.pool_image(image, (3, 2))), engine)


def test_ragged_lists_are_a_poolcli_error():
    with pytest.raises(PoolcliError, match="not an array of numbers of one shape"):
        poolcli.pool([[1, 2], [3]], 2)


@pytest.mark.parametrize(
    ("size", "explicit"), [((None, 2), (6, 2)), ((3, None), (3, 5)), ((None, None), (6, 5))]
)
@pytest.mark.parametrize("mode", ["avg", "max", "median"])
def test_adaptive_none_keeps_that_axis_as_pytorch(size, explicit, mode):
    # PyTorch's AdaptiveAvgPool2d((None, 2)): None keeps the input's length on that axis
    x = np.random.default_rng(0).integers(0, 255, (6, 5)).astype(np.uint8)
    ours = poolcli.adaptive_pool(x, size, mode=mode)
    assert ours.shape == explicit
    np.testing.assert_array_equal(ours, poolcli.adaptive_pool(x, explicit, mode=mode))
    if size == (None, None):
        np.testing.assert_array_equal(ours, x)
