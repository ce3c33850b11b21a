"""``poolcli.pyramid``: every level equal to one-shot pooling of level 0 by the loop
references (2-D with nodata, 1-D and 3-D), and to the streamed ``poolcli pyramid``."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference import NoRealResult, reference_pool
from reference_nd import reference_pool_nd

import poolcli
from poolcli.cli import cli
from poolcli.errors import ParameterError

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = ["avg", "sum", "max", "min", "median", "mode", "rms"]


def _assert_level(actual, expected, mode):
    assert actual.dtype == expected.dtype
    if actual.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=1e-6, equal_nan=True)
    else:
        np.testing.assert_array_equal(actual, expected)


@SETTINGS
@given(data=st.data())
def test_image_levels_equal_the_loop_reference(data):
    h, w = data.draw(st.integers(1, 13)), data.draw(st.integers(1, 13))
    dtype = data.draw(st.sampled_from([np.uint8, np.int16, np.uint32, np.float32]))
    mode = data.draw(st.sampled_from(MODES))
    factors = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    if max(factors) < 2:
        factors = (2, factors[1])
    x = np.random.default_rng(data.draw(st.integers(0, 999))).integers(0, 9, (h, w)).astype(dtype)
    nodata = data.draw(st.sampled_from([None, 0]))
    levels = poolcli.pyramid(x, factors=factors, mode=mode, nodata=nodata)
    assert levels[0] is x or np.array_equal(levels[0], x)
    for k, level in enumerate(levels[1:], start=1):
        window = tuple(f**k for f in factors)
        try:
            expected = reference_pool(x, window, mode=mode, ceil_mode=True,
                                      count_include_pad=False, nodata=nodata)  # fmt: skip
        except NoRealResult:
            continue
        _assert_level(level, expected, mode)
    last = levels[-1].shape
    assert all(n == 1 for n, f in zip(last, factors, strict=True) if f > 1)


@SETTINGS
@given(data=st.data())
def test_volume_and_signal_levels_equal_the_loop_reference(data):
    spatial = data.draw(st.sampled_from([1, 3]))
    shape = tuple(data.draw(st.integers(1, 7)) for _ in range(spatial))
    mode = data.draw(st.sampled_from(["avg", "max", "median", "mode"]))
    x = (
        np.random.default_rng(data.draw(st.integers(0, 999)))
        .integers(0, 5, shape)
        .astype(np.uint16)
    )
    axes = tuple(range(spatial))
    levels = poolcli.pyramid(x, 3, mode=mode, axes=axes)
    for k, level in enumerate(levels[1:], start=1):
        window = (2**k,) * spatial
        expected = reference_pool_nd(x, window, mode=mode, ceil_mode=True,
                                     count_include_pad=False, axes=axes)  # fmt: skip
        _assert_level(level, expected, mode)


def test_levels_stop_at_one_pixel_and_keep_axes_of_factor_one():
    x = np.zeros((5, 9, 40), np.uint8)  # (d, h, w)
    shapes = [level.shape for level in poolcli.pyramid(x, factors=(1, 2, 3), axes=(0, 1, 2))]
    assert shapes == [(5, 9, 40), (5, 5, 14), (5, 3, 5), (5, 2, 2), (5, 1, 1)]
    assert len(poolcli.pyramid(x, 2, axes=(0, 1, 2))) == 2
    assert len(poolcli.pyramid(x, 50, axes=(0, 1, 2))) == 7  # 40 -> 20, 10, 5, 3, 2, 1


def test_integer_means_are_rounded_once_from_level_zero():
    # level 1: [1, 2] -> 1.5 -> 2 and [1, 1] -> 1; level 2: 5 / 4 = 1.25 -> 1, where
    # averaging level 1 again would give (2 + 1) / 2 = 1.5 -> 2
    x = np.array([[1, 2, 1, 1]], np.uint8)
    levels = poolcli.pyramid(x, factors=(1, 2))
    assert [level.tolist() for level in levels] == [[[1, 2, 1, 1]], [[2, 1]], [[1]]]


def test_labels_never_gain_a_value_and_whole_pixels_vote():
    rng = np.random.default_rng(2)
    labels = rng.choice(np.array([3, 70000, 9], np.uint32), (33, 47))
    for level in poolcli.pyramid(labels, mode="mode"):
        assert set(np.unique(level)) <= {3, 9, 70000}
    rgb = rng.choice(np.array([0, 255], np.uint8), (6, 6, 3))
    for level in poolcli.pyramid(rgb, mode="mode", channel_axis=2)[1:]:
        pixels = {tuple(p) for p in rgb.reshape(-1, 3)}
        assert {tuple(p) for p in level.reshape(-1, 3)} <= pixels


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"factors": 1}, "shrink nothing"),
        ({"factors": (2, 2, 2)}, "a whole number or 2 of them"),
        ({"factors": 0}, "each at least 1"),
        ({"levels": 0}, "levels must be a whole number of at least 1"),
    ],
)
def test_bad_arguments_are_parameter_errors(kwargs, said):
    with pytest.raises(ParameterError, match=said):
        poolcli.pyramid(np.zeros((4, 4)), **kwargs)


def test_the_library_and_the_streamed_command_make_the_same_levels(tmp_path):
    x = np.random.default_rng(8).integers(0, 256, (301, 517, 3), dtype=np.uint8)
    source, out = tmp_path / "in.tif", tmp_path / "out.ome.zarr"
    tifffile.imwrite(source, x, photometric="rgb")
    done = CliRunner().invoke(cli, ["pyramid", str(source), "-o", str(out), "--tile-size", "64",
                                    "--memory", "64K"])  # fmt: skip
    assert done.exit_code == 0, done.output
    group = zarr.open_group(str(out), mode="r")
    levels = poolcli.pyramid(x, 5)
    for k, level in enumerate(levels):
        np.testing.assert_array_equal(np.moveaxis(group[str(k)][...], 0, -1), level)
