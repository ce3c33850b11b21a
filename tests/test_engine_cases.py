"""Named engine cases: edges, errors, PyTorch and Pillow parity, memory."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli import PoolMode, adaptive_pool, output_shape, pool
from poolcli.errors import InputError, ParameterError, PoolcliError
from poolcli.pooling import numeric

SAMPLES = Path(__file__).parent.parent / "sample_images"
FIVE = np.arange(1.0, 26.0).reshape(5, 5)

# --- the documented example -------------------------------------------------------


def test_readme_example():
    result = pool(np.arange(16).reshape(4, 4), 2)
    np.testing.assert_array_equal(result, [[5, 7], [13, 15]])
    assert str(result) == "[[ 5  7]\n [13 15]]"


# --- PyTorch parity: values printed by torch 2.13 (torch.nn.functional) ------------


def test_avg_ceil_mode_counts_padding_but_not_the_overhang():
    # F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=True)
    expected = [
        [1.7777777910232544, 3.6666667461395264, 3.1111111640930176],
        [7.666666507720947, 13.0, 9.666666984558105],
        [8.44444465637207, 13.666666984558105, 9.777777671813965],
    ]
    result = pool(FIVE, 3, stride=2, padding=1, mode="avg", ceil_mode=True)
    np.testing.assert_allclose(result, expected, rtol=1e-7)


def test_avg_exclude_pad_divides_by_real_pixels():
    # ... count_include_pad=False
    expected = [[4.0, 5.5, 7.0], [11.5, 13.0, 14.5], [19.0, 20.5, 22.0]]
    result = pool(FIVE, 3, stride=2, padding=1, mode="avg", ceil_mode=True, count_include_pad=False)
    np.testing.assert_array_equal(result, expected)


def test_avg_ceil_mode_partial_window_without_padding():
    expected = [[4.0, 6.0, 7.5], [14.0, 16.0, 17.5], [21.5, 23.5, 25.0]]
    np.testing.assert_array_equal(pool(FIVE, 2, mode="avg", ceil_mode=True), expected)


def test_max_with_dilation_padding_and_ceil_mode():
    # F.max_pool2d(x, 2, 2, padding=1, dilation=2, ceil_mode=True)
    expected = [[7.0, 9.0, 9.0], [17.0, 19.0, 19.0], [17.0, 19.0, 19.0]]
    result = pool(FIVE, 2, padding=1, dilation=2, ceil_mode=True)
    np.testing.assert_array_equal(result, expected)


def test_lp_with_negative_values_and_p_2():
    # F.lp_pool2d(tensor([[-1, 2], [-3, 4]]), 2.0, 2) == sqrt(1 + 4 + 9 + 16)
    result = pool(np.array([[-1.0, 2.0], [-3.0, 4.0]]), 2, mode="lp", p=2)
    np.testing.assert_allclose(result, [[5.4772257804870605]], rtol=1e-7)
    assert result[0, 0] == pytest.approx(30**0.5)


def test_adaptive_windows_overlap_like_pytorch():
    # F.adaptive_avg_pool2d(x, (2, 3)) and F.adaptive_max_pool2d(x, (3, 2))
    np.testing.assert_array_equal(
        adaptive_pool(FIVE, (2, 3)), [[6.5, 8.0, 9.5], [16.5, 18.0, 19.5]]
    )
    np.testing.assert_array_equal(
        adaptive_pool(FIVE, (3, 2), mode="max"), [[8.0, 10.0], [18.0, 20.0], [23.0, 25.0]]
    )


# --- edges ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(PoolMode))
def test_one_pixel_input_with_kernel_one_is_itself(mode):
    x = np.array([[7]], np.uint8)
    expected = np.array([[7]], np.uint64 if mode is PoolMode.SUM else np.uint8)
    np.testing.assert_array_equal(pool(x, 1, mode=mode), expected)


def test_one_pixel_input_with_a_bigger_kernel_needs_ceil_mode():
    x = np.array([[7]], np.uint8)
    with pytest.raises(
        InputError,
        match="kernel 2 is larger than axis 0 .1 pixel.; use a smaller kernel, "
        "or ceil_mode to keep a partial window",
    ):
        pool(x, 2)
    np.testing.assert_array_equal(pool(x, 2, ceil_mode=True, mode="avg"), [[7]])


def test_kernel_equal_to_the_input_reduces_everything():
    x = np.arange(12, dtype=np.int16).reshape(3, 4)
    assert pool(x, (3, 4)).tolist() == [[11]]
    assert pool(x, (3, 4), mode="min").tolist() == [[0]]
    assert pool(x, (3, 4), mode="avg").tolist() == [[6]]  # 5.5 rounds half up
    assert pool(x, (3, 4), mode="median").tolist() == [[6]]


def test_kernel_larger_than_the_input_is_an_input_error():
    with pytest.raises(InputError, match=r"kernel 5 is larger than axis 1 \(4 pixels\)"):
        pool(np.zeros((8, 4)), 5, stride=1)


def test_dilated_kernel_reach_is_named():
    with pytest.raises(InputError, match="a window of kernel 3 with dilation 3 spans 7 pixels"):
        pool(np.zeros((6, 6)), 3, dilation=3)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"kernel": 0}, r"kernel must be at least 1, got 0"),
        ({"kernel": 2, "stride": 0}, r"stride must be at least 1, got 0"),
        ({"kernel": 2, "dilation": (1, 0)}, r"dilation must be at least 1, got \(h=1, w=0\)"),
        ({"kernel": 3, "padding": 2}, r"padding must be between 0 and half the kernel .* got 2"),
        ({"kernel": 2, "padding": -1}, r"padding must be between 0 and half the kernel"),
        ({"kernel": 2.5}, r"kernel must be an int or an \(h, w\) pair of ints, got 2.5"),
        ({"kernel": (1, 2, 3)}, r"kernel \(1, 2, 3\) has 3 value\(s\) but axes \(0, 1\) names 2"),
        ({"kernel": True}, r"kernel must be an int"),
        (
            {"kernel": 2, "mode": "mean"},
            r"unknown pooling mode 'mean'; choose one of: max, min, avg",
        ),
        ({"kernel": 2, "mode": "max", "divisor": 3}, r"divisor only applies to mode 'avg'"),
        ({"kernel": 2, "mode": "avg", "divisor": 0}, r"divisor must be a non-zero integer, got 0"),
        ({"kernel": 2, "mode": "lp", "p": 0}, r"p must be a finite number above 0"),
        ({"kernel": 2, "mode": "lp", "p": float("inf")}, r"p must be a finite number above 0"),
        ({"kernel": 2, "mode": "lp", "padding": 1}, r"mode 'lp' takes no padding"),
        ({"kernel": 2, "axes": (0, 0)}, r"axes must be two distinct axes of a 2-d array"),
        ({"kernel": 2, "axes": (0, 5)}, r"axes must be two distinct axes"),
        ({"kernel": 2, "threads": 0}, r"threads must be a positive integer, got 0"),
    ],
)
def test_bad_parameters_are_parameter_errors(options, message):
    with pytest.raises(ParameterError, match=message) as raised:
        pool(np.zeros((4, 4)), **options)
    assert isinstance(raised.value, ValueError)
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.zeros(4), "needs an array of 2 or more dimensions, got 1"),
        (
            np.zeros((2, 2), complex),
            "cannot pool arrays of dtype complex128; supported dtypes: bool",
        ),
        (np.array([[object()]]), "cannot pool arrays of dtype object"),
    ],
)
def test_unpoolable_arrays_are_input_errors(x, message):
    with pytest.raises(InputError, match=message):
        pool(x, 1)


def test_channel_axis_cannot_be_spatial():
    with pytest.raises(ParameterError, match="channel_axis must be an axis .* other than"):
        pool(np.zeros((4, 4, 3)), 2, mode="mode", channel_axis=1)


def test_windows_of_only_padding_are_refused():
    # kernel 2, padding 1, dilation 3 on 2 pixels: the first window reads -1 and 2
    with pytest.raises(InputError, match="some windows hold only padding"):
        pool(np.zeros((2, 2)), 2, padding=1, dilation=3)


def test_adaptive_output_larger_than_input_is_refused():
    with pytest.raises(
        InputError,
        match="output_size 6 along axis 1 must be between 1 and the input's 5 pixels "
        ".poolcli only downsamples",
    ):
        adaptive_pool(FIVE, (2, 6))


# --- values -------------------------------------------------------------------


def test_nan_wins_max_and_min_but_padding_never_does():
    x = np.array([[np.nan, 1.0, -5.0, -6.0], [2.0, 3.0, -7.0, -8.0]])
    np.testing.assert_array_equal(pool(x, 2), [[np.nan, -5.0]])
    np.testing.assert_array_equal(pool(x, 2, mode="min"), [[np.nan, -8.0]])
    # all-negative windows beside zero padding: the padding must not win
    padded = pool(-np.ones((3, 3)), 3, stride=3, padding=1, ceil_mode=True)
    assert (padded == -1).all()
    assert pool(np.ones((3, 3)), 3, padding=1, mode="min").tolist() == [[1.0]]


def test_uint8_sum_of_255s_widens_without_wrapping():
    x = np.full((5, 5), 255, np.uint8)
    result = pool(x, 5, mode="sum")
    assert result.dtype == np.uint64
    assert result.tolist() == [[255 * 25]]
    assert pool(x.astype(np.int8), 5, mode="sum").dtype == np.int64


def test_int64_sum_saturates_instead_of_wrapping():
    big = np.iinfo(np.int64).max
    x = np.full((2, 2), big, np.int64)
    assert pool(x, 2, mode="sum").tolist() == [[big]]
    assert pool(x, 2, mode="avg").tolist() == [[big]]


def test_integer_means_round_half_up_for_either_sign():
    assert pool(np.array([[1, 2], [3, 4]], np.uint8), 2, mode="avg").tolist() == [[3]]  # 2.5
    assert pool(np.array([[-1, -2], [-3, -4]], np.int8), 2, mode="avg").tolist() == [[-2]]  # -2.5
    assert pool(np.array([[-1, -2], [-3, -5]], np.int8), 2, mode="avg").tolist() == [[-3]]  # -2.75
    assert pool(np.array([[1, 2], [3, 5]], np.uint8), 2, mode="median").tolist() == [[3]]  # 2.5


def test_divisor_overrides_the_window_area_and_clips():
    x = np.full((2, 2), 200, np.uint8)
    assert pool(x, 2, mode="avg", divisor=8).tolist() == [[100]]
    assert pool(x, 2, mode="avg", divisor=1).tolist() == [[255]]  # 800 clipped, not wrapped


def test_mode_ties_go_to_the_smallest_value():
    x = np.array([[3, 1], [1, 3]], np.uint8)
    assert pool(x, 2, mode="mode").tolist() == [[1]]
    y = np.array([[5, 5, 2], [2, 9, 9]], np.int32)
    assert pool(y, (2, 3), mode="mode").tolist() == [[2]]


def test_mode_on_rgb_returns_a_colour_present_in_the_window():
    red, green, blue = (255, 0, 0), (0, 255, 0), (0, 0, 255)
    # Per channel the majority would be (0, 0, 0): a colour that is not there.
    x = np.array([[red, green], [blue, red]], np.uint8)
    assert pool(x, 2, mode="mode", channel_axis=-1).tolist() == [[list(red)]]
    tie = np.array([[red, green], [blue, (9, 9, 9)]], np.uint8)
    # all once: the lexicographically smallest pixel wins
    assert pool(tie, 2, mode="mode", channel_axis=-1).tolist() == [[list(blue)]]
    per_channel = pool(x, 2, mode="mode")
    assert per_channel.tolist() == [[[0, 0, 0]]]


def test_rms_and_lp_stay_in_range():
    x = np.full((4, 4), 255, np.uint8)
    assert pool(x, 2, mode="rms").tolist() == [[255, 255], [255, 255]]
    assert pool(x, 2, mode="lp", p=2).tolist() == [[255, 255], [255, 255]]  # 510 clipped


def test_median_of_even_count_averages_the_middles():
    x = np.array([[1.0, 2.0], [10.0, 20.0]])
    assert pool(x, 2, mode="median").tolist() == [[6.0]]
    with_nan = np.array([[1.0, np.nan], [10.0, 20.0]])
    assert np.isnan(pool(with_nan, 2, mode="median")[0, 0])


def test_bool_max_is_or_min_is_and():
    x = np.array([[True, False], [False, False]])
    assert pool(x, 2).tolist() == [[True]]
    assert pool(x, 2, mode="min").tolist() == [[False]]
    assert pool(x, 2).dtype == bool


def test_big_endian_and_fortran_inputs_pool_like_native_ones():
    x = np.arange(36, dtype=np.uint16).reshape(6, 6)
    expected = pool(x, 2, mode="avg")
    np.testing.assert_array_equal(pool(x.astype(">u2"), 2, mode="avg"), expected)
    np.testing.assert_array_equal(pool(np.asfortranarray(x), 2, mode="avg"), expected)
    assert pool(x.astype(">u2"), 2).dtype == np.uint16


def test_channels_first_axes():
    x = np.arange(2 * 4 * 4, dtype=np.float32).reshape(2, 4, 4)
    result = pool(x, 2, axes=(1, 2))
    assert result.shape == (2, 2, 2)
    np.testing.assert_array_equal(result[1], pool(x[1], 2))


def test_the_input_is_not_modified_and_the_output_is_new():
    x = np.arange(64, dtype=np.uint8).reshape(8, 8)
    before = x.copy()
    for mode in PoolMode:
        padding = 0 if mode is PoolMode.LP else 1  # lp takes no padding
        out = pool(x, 3, stride=2, padding=padding, mode=mode)
        assert not np.shares_memory(out, x)
        assert out.flags.c_contiguous
        assert out.flags.writeable
    np.testing.assert_array_equal(x, before)


def test_output_shape():
    assert output_shape((480, 640, 3), 2) == (240, 320, 3)
    assert output_shape((3, 7, 9), (3, 2), stride=1, axes=(1, 2)) == (3, 5, 8)
    assert output_shape((7, 7), 2, ceil_mode=True) == (4, 4)
    with pytest.raises(InputError):
        output_shape((1, 1), 2)


def test_errors_share_one_base():
    assert issubclass(ParameterError, PoolcliError)
    assert issubclass(InputError, PoolcliError)


# --- Pillow parity: Image.reduce(2) is avg, kernel 2, ceil mode, real pixels only -----


def _reduce_like_pillow(array):
    return pool(array, 2, mode="avg", ceil_mode=True, count_include_pad=False)


@pytest.mark.parametrize("size", [(7, 13), (37, 37), (1, 9), (9, 1), (2, 2), (1, 1)])
@pytest.mark.parametrize("channels", [None, 3])
def test_avg_2_equals_pillow_reduce_byte_for_byte(size, channels):
    rng = np.random.default_rng(sum(size))
    shape = (size[1], size[0]) if channels is None else (size[1], size[0], channels)
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    image = Image.fromarray(array)
    np.testing.assert_array_equal(_reduce_like_pillow(array), np.asarray(image.reduce(2)))


@pytest.mark.parametrize("name", ["astronaut.png", "camera.png", "chelsea.png", "coffee.png"])
def test_avg_2_equals_pillow_reduce_on_the_sample_photos(name):
    with Image.open(SAMPLES / name) as image:
        array = np.asarray(image)
        np.testing.assert_array_equal(_reduce_like_pillow(array), np.asarray(image.reduce(2)))


# --- accumulators: exact and no wider than needed -----------------------------------


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (np.uint8, np.uint16),
        (np.int8, np.int16),
        (np.bool_, np.uint16),
        (np.uint16, np.uint32),
        (np.int16, np.int32),
        (np.uint32, np.uint64),
        (np.int32, np.int64),
        (np.float16, np.float64),
        (np.float32, np.float64),
    ],
)
def test_mean_accumulator_is_the_narrowest_exact_one(dtype, expected):
    # 2x2 windows plus the rounding headroom of divisor 4: an unsigned input once
    # fell through to Python-int (object) sums here, 60x slower
    assert numeric.accumulator(np.zeros(1, dtype), 4, headroom=2) == expected


def test_64_bit_accumulators_look_at_the_values():
    assert numeric.accumulator(np.array([1, 2], np.int64), 4) == np.int16
    big = np.array([np.iinfo(np.int64).max], np.int64)
    assert numeric.accumulator(big, 4) == np.dtype(object)


# --- memory: O(input + output), no window copies -------------------------------------


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_2x2_pool_of_a_big_image_allocates_little_beyond_its_output(mode):
    x = np.zeros((4096, 4096, 3), np.uint8)
    output_bytes = 2048 * 2048 * 3
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = pool(x, 2, mode=mode)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.nbytes == output_bytes
    assert peak - output_bytes < 4 * output_bytes, f"{(peak - output_bytes) / output_bytes:.2f}x"


def test_a_forked_child_pools_with_threads_of_its_own():
    import os

    x = np.arange(512 * 512 * 3, dtype=np.uint8).reshape(512, 512, 3)
    expected = pool(x, 2, mode="avg", threads=2)  # the parent's thread pool now exists
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        ok = np.array_equal(pool(x, 2, mode="avg", threads=2), expected)
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    import select
    import signal

    # a child queueing work for its parent's (absent) threads would wait forever
    ready, _, _ = select.select([read], [], [], 30)
    if not ready:
        os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    assert ready, "the forked child hung: it used its parent's thread pool"
    assert os.read(read, 1) == b"1"
