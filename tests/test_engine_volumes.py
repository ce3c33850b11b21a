"""Signals (1 axis) and volumes (3 axes) against the N-axis loop reference and PyTorch.

Integers must match exactly, floats as in :mod:`test_engine_reference` (the same
tolerances, through its ``assert_matches``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference import NoRealResult, out_len
from reference_nd import reference_adaptive_pool_nd, reference_pool_nd
from test_engine_reference import DTYPES, MODES, SETTINGS, assert_matches

from poolcli import adaptive_pool, output_shape, pool
from poolcli.errors import InputError, ParameterError
from poolcli.pooling import volume_modes, volume_ranked
from poolcli.spec.bands import RowBand

# Where the spatial axes sit in the layouts a user meets.
VOLUME_LAYOUTS = {"dhw": (0, 1, 2), "cdhw": (1, 2, 3), "dhwc": (0, 1, 2), "ncdhw": (2, 3, 4)}
SIGNAL_LAYOUTS = {"w": (0,), "cw": (1,), "wc": (0,), "ncw": (2,)}


def elements(draw, dtype):
    """Values that create ties and hit the extremes (as the 2-D tests draw them)."""
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        small = draw(st.booleans())
        lo, hi = (max(info.min, -3), min(info.max, 3)) if small else (int(info.min), int(info.max))
        return st.integers(lo, hi)
    bound = 1000.0 if dtype.itemsize == 2 else 1e6
    specials = [0.0, 1.0, -1.0, np.nan] if draw(st.booleans()) else [0.0, 1.0, -1.0]
    return st.floats(-bound, bound, width=dtype.itemsize * 8) | st.sampled_from(specials)


@st.composite
def volumes(draw, dtype):
    layout = draw(st.sampled_from(sorted(VOLUME_LAYOUTS)))
    d, h, w = (draw(st.integers(1, n)) for n in (6, 9, 9))
    c = draw(st.integers(1, 3))
    shape = {"dhw": (d, h, w), "cdhw": (c, d, h, w), "dhwc": (d, h, w, c),
             "ncdhw": (2, c, d, h, w)}[layout]  # fmt: skip
    dtype = np.dtype(dtype)
    x = draw(hnp.arrays(dtype, shape, elements=elements(draw, dtype)))
    return x, VOLUME_LAYOUTS[layout]


@st.composite
def signals(draw, dtype):
    layout = draw(st.sampled_from(sorted(SIGNAL_LAYOUTS)))
    w, c = draw(st.integers(1, 40)), draw(st.integers(1, 3))
    shape = {"w": (w,), "cw": (c, w), "wc": (w, c), "ncw": (2, c, w)}[layout]
    dtype = np.dtype(dtype)
    x = draw(hnp.arrays(dtype, shape, elements=elements(draw, dtype)))
    return x, SIGNAL_LAYOUTS[layout]


@st.composite
def cases(draw, shapes, modes=MODES):
    dtype = draw(st.sampled_from(DTYPES))
    x, axes = draw(shapes(dtype))
    n = len(axes)
    mode = draw(st.sampled_from(modes))
    top = 5 if n == 1 else 3
    kernel = tuple(draw(st.integers(1, top)) for _ in range(n))
    stride = tuple(draw(st.integers(1, top)) for _ in range(n))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(n))
    padding = (0,) * n if mode == "lp" else tuple(draw(st.integers(0, k // 2)) for k in kernel)
    options = dict(
        kernel=kernel, stride=stride, padding=padding, dilation=dilation, mode=mode,
        ceil_mode=draw(st.booleans()),
        count_include_pad=mode not in ("avg", "rms") or draw(st.booleans()),
        axes=axes,
    )  # fmt: skip
    if mode == "avg" and draw(st.booleans()):
        options["divisor"] = draw(st.integers(1, 30) | st.integers(-30, -1))
    if mode == "lp":
        options["p"] = draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, 2.5]))
    return x, options


def fits(x, options):
    """True when every window has a real pixel (otherwise both must refuse)."""
    for i, axis in enumerate(options["axes"]):
        n = x.shape[axis]
        k, s, p, d = (options[key][i] for key in ("kernel", "stride", "padding", "dilation"))
        out = out_len(n, k, s, p, d, options["ceil_mode"])
        if out < 1 or not all(
            any(0 <= j * s - p + t * d < n for t in range(k)) for j in range(out)
        ):
            return False
    return True


def check_against_reference(x, options):
    before = x.copy()
    if not fits(x, options):
        with pytest.raises(InputError):
            pool(x, **options)
        return
    try:
        expected = reference_pool_nd(x, **options)
    except NoRealResult:
        with pytest.raises(InputError, match="no real result"):
            pool(x, **options)
        return
    actual = pool(x, **options)
    assert_matches(actual, expected, x, options)
    assert output_shape(x.shape, **{k: v for k, v in options.items() if k in SHAPE_KEYS}) == (
        actual.shape
    )
    np.testing.assert_array_equal(x, before)


SHAPE_KEYS = ("kernel", "stride", "padding", "dilation", "ceil_mode", "axes")


@settings(SETTINGS, max_examples=300)
@given(cases(volumes))
def test_volume_pool_matches_reference(case):
    check_against_reference(*case)


@settings(SETTINGS, max_examples=200)
@given(cases(signals))
def test_signal_pool_matches_reference(case):
    check_against_reference(*case)


@SETTINGS
@given(cases(volumes, modes=["max", "avg", "sum", "median", "mode"]), st.integers(2, 3))
def test_volume_threads_give_identical_results(case, threads):
    x, options = case
    if not fits(x, options):
        return
    np.testing.assert_array_equal(
        pool(x, **options, threads=1), pool(x, **options, threads=threads)
    )


@SETTINGS
@given(st.data())
def test_adaptive_volume_and_signal_match_reference(data):
    dtype = data.draw(st.sampled_from(DTYPES))
    x, axes = data.draw(data.draw(st.sampled_from([volumes, signals]))(dtype))
    mode = data.draw(st.sampled_from(MODES))
    size = tuple(data.draw(st.integers(1, x.shape[a]) | st.none()) for a in axes)
    actual = adaptive_pool(x, size, mode=mode, axes=axes)
    expected = reference_adaptive_pool_nd(x, size, mode=mode, axes=axes)
    assert_matches(actual, expected, x, {"mode": mode})


@SETTINGS
@given(st.data())
def test_volume_mode_on_whole_voxels_matches_reference(data):
    dtype = data.draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.float32, np.bool_]))
    d, h, w, c = (data.draw(st.integers(1, n)) for n in (5, 7, 7, 3))
    values = st.integers(0, 2) if np.dtype(dtype).kind in "iu" else st.sampled_from([0.0, 0.5])
    if dtype is np.bool_:
        values = st.booleans()
    x = data.draw(hnp.arrays(dtype, (d, h, w, c), elements=values))
    kernel = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    options = dict(kernel=kernel, stride=kernel, ceil_mode=True, mode="mode", axes=(0, 1, 2),
                   padding=(0, 0, 0), dilation=(1, 1, 1))  # fmt: skip
    if not fits(x, options):
        return
    actual = pool(x, **options, channel_axis=3)
    np.testing.assert_array_equal(actual, reference_pool_nd(x, **options, channel_axis=3))


@pytest.mark.parametrize("mode", ["mode", "median"])
@pytest.mark.parametrize("dtype", [np.uint32, np.int16, np.uint8, np.bool_])
def test_label_volumes_mostly_uniform_windows(mode, dtype):
    """Label volumes (blocks of one value, a few odd voxels) take the uniform-window
    shortcut; windows with ties must still go to the smallest most frequent value."""
    rng = np.random.default_rng(7)
    blocks = rng.integers(0, 5, (3, 4, 4))
    x = np.repeat(np.repeat(np.repeat(blocks, 3, 0), 3, 1), 3, 2).astype(dtype)
    x = np.roll(x, 1, axis=(0, 1, 2))  # block edges fall inside windows
    noise = rng.random(x.shape) < 0.05
    x[noise] = rng.integers(0, 5, int(noise.sum())).astype(dtype)
    options = dict(kernel=2, stride=2, mode=mode, axes=(0, 1, 2), ceil_mode=True)
    np.testing.assert_array_equal(pool(x, **options), reference_pool_nd(x, **options))


@pytest.mark.parametrize("kernel", [(3, 3, 3), (6, 7, 7)])  # 27 taps: a network; 294: np.sort
def test_label_volumes_with_big_windows(kernel):
    rng = np.random.default_rng(8)
    x = rng.integers(0, 3, (12, 14, 14)).astype(np.int32)
    x[:6] = 1  # uniform windows beside mixed ones, two labels and more
    x[6:, :7] ^= x[6:, :7] > 0
    options = dict(kernel=kernel, mode="mode", axes=(0, 1, 2))
    np.testing.assert_array_equal(pool(x, **options), reference_pool_nd(x, **options))


@pytest.mark.parametrize("dtype", [np.uint32, np.int32, np.int16, np.int8, np.uint8, np.bool_])
@pytest.mark.parametrize("flat_share", [1.0, 0.8, 0.3])
def test_2x2x2_label_mode_of_boundaries_across_each_axis(dtype, flat_share):
    """Label boundaries across columns (words of two labels, four times over: the
    smaller wins the tie), across rows or depth only (windows constant along x,
    voted on half their voxels) and across columns with them (sorted whole), in
    shares that take each way through the vote; negative labels too."""
    rng = np.random.default_rng(int(flat_share * 10))
    low = -3 if np.dtype(dtype).kind == "i" else 0
    labels = rng.integers(low, 4, (10, 10, 6))
    x = np.repeat(labels, 2, axis=2)  # constant along column pairs: flat windows
    x = np.roll(x, 1, axis=(0, 1))  # boundaries across rows and depth inside windows
    odd = rng.random(x.shape) > flat_share  # single voxels break a pair
    x[odd] = rng.integers(low, 4, int(odd.sum()))
    blocks = rng.integers(low, 4, (5, 5, 3))
    columns = np.repeat(np.repeat(np.repeat(blocks, 2, 0), 2, 1), 4, 2)
    x = np.concatenate([x, np.roll(columns, 1, axis=2)], axis=2).astype(dtype)
    options = dict(kernel=2, mode="mode", axes=(0, 1, 2))
    np.testing.assert_array_equal(pool(x, **options), reference_pool_nd(x, **options))


def test_volume_2x2x2_mode_breaks_ties_to_the_smallest_value():
    x = np.array([[[7, 3], [3, 7]], [[5, 5], [1, 2]]], np.uint32)  # 7, 3 and 5 twice each
    assert pool(x, 2, axes=(0, 1, 2), mode="mode").item() == 3


def _torch():
    return pytest.importorskip("torch")


@SETTINGS
@given(st.data())
def test_max_avg_lp_agree_with_torch_in_1d_and_3d(data):
    torch = _torch()
    functional = torch.nn.functional
    n = data.draw(st.sampled_from([1, 3]))
    mode = data.draw(st.sampled_from(["max", "avg", "lp"]))
    shape = tuple(data.draw(st.integers(1, 9 if n == 3 else 40)) for _ in range(n))
    x = data.draw(hnp.arrays(np.float64, (2, *shape), elements=st.floats(-100, 100, width=64)))
    kernel = tuple(data.draw(st.integers(1, min(3, side))) for side in shape)
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    padding = (0,) * n if mode == "lp" else tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    dilation = (1,) * n
    if mode == "max":
        dilation = tuple(data.draw(st.integers(1, 2)) for _ in range(n))
    ceil = data.draw(st.booleans())
    options = dict(kernel=kernel, stride=stride, padding=padding, dilation=dilation,
                   ceil_mode=ceil, axes=tuple(range(1, n + 1)))  # fmt: skip
    if mode == "lp":  # PyTorch scales a partial window's mean by the whole kernel's size
        options["ceil_mode"] = ceil = False
    if not fits(x, options):
        return
    t = torch.from_numpy(x)[None]
    suffix = f"{n}d"
    if mode == "max":
        expected = getattr(functional, f"max_pool{suffix}")(t, kernel, stride, padding, dilation,
                                                            ceil_mode=ceil)  # fmt: skip
        actual = pool(x, **options, mode="max")
    elif mode == "avg":
        include = data.draw(st.booleans())
        expected = getattr(functional, f"avg_pool{suffix}")(t, kernel, stride, padding, ceil,
                                                            include)  # fmt: skip
        actual = pool(x, **options, mode="avg", count_include_pad=include)
    else:
        x = np.abs(x)  # PyTorch's lp of negatives with fractional p differs (sign kept)
        t = torch.from_numpy(x)[None]
        power = data.draw(st.sampled_from([1.0, 2.0, 3.0]))
        lp = getattr(functional, f"lp_pool{suffix}", None)
        if lp is None:
            return
        sizes = (kernel[0], stride[0]) if n == 1 else (kernel, stride)  # lp_pool1d takes ints
        expected = lp(t, power, *sizes)
        actual = pool(x, **options, mode="lp", p=power)
    np.testing.assert_allclose(actual, expected[0].numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("n", [1, 3])
def test_adaptive_avg_and_max_agree_with_torch(n):
    torch = _torch()
    rng = np.random.default_rng(3)
    shape = (7, 11, 9)[:n] if n == 3 else (37,)
    x = rng.standard_normal((2, *shape))
    size = (3, 4, 5)[:n] if n == 3 else (8,)
    t = torch.from_numpy(x)[None]
    functional = torch.nn.functional
    axes = tuple(range(1, n + 1))
    avg = getattr(functional, f"adaptive_avg_pool{n}d")(t, size)[0].numpy()
    top = getattr(functional, f"adaptive_max_pool{n}d")(t, size)[0].numpy()
    np.testing.assert_allclose(adaptive_pool(x, size, axes=axes), avg, rtol=1e-12)
    np.testing.assert_array_equal(adaptive_pool(x, size, axes=axes, mode="max"), top)


def test_signal_is_the_plane_engine_with_a_unit_axis():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (3, 50)).astype(np.uint8)
    for mode in MODES:
        expected = pool(x[:, None, :], (1, 3), stride=(1, 2), axes=(1, 2), mode=mode)[:, 0]
        np.testing.assert_array_equal(pool(x, 3, stride=2, axes=(1,), mode=mode), expected)


def test_signal_band_and_nodata_work_as_in_2d():
    x = np.array([1, 0, 3, 5, 0, 0, 2, 8], np.uint8)
    assert pool(x, 2, axes=(0,), mode="avg", nodata=0).tolist() == [1, 4, 0, 5]
    whole = pool(x, 2, axes=(0,))
    assert pool(x[2:6], 2, axes=(0,), band=RowBand(8, 1, 3)).tolist() == whole[1:3].tolist()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: pool(x, (2, 2, 2)), r"kernel \(2, 2, 2\) has 3 value\(s\) but axes"),
        (lambda x: pool(x, (2, 2), axes=(0, 1, 2)), r"kernel must be an int or a \(d, h, w\)"),
        (lambda x: pool(x, 2, axes=(0, 0, 1)), "axes must be 3 distinct axes"),
        (lambda x: pool(x, 2, axes=(0, 1, 2), nodata=-1), r"nodata -1 is not a value of uint8"),
        (lambda x: pool(x, 2, axes=(0, 1, 2), nodata=0, min_valid=2), "min_valid must be a fra"),
        (lambda x: pool(x, 2, axes=(0, 1, 2), band=RowBand(4, 0, 3)), "not within the 2 output"),
        (lambda x: pool(x, 2, axes=(0, 1, 2), padding=(0, 0, 2)), r"kernel 2 allows at most 1"),
        (lambda x: pool(x, 2, stride=(1, 0, 1), axes=(0, 1, 2)), "stride must be at least 1"),
        (lambda x: pool(x, 2, axes=(0, 1, 2), mode="lp", padding=1), "takes no padding"),
        (lambda x: adaptive_pool(x, (2, 2), axes=(0, 1, 2)), "output_size must be an int"),
        (lambda x: pool(x, 2, axes=(0, 1, 2), channel_axis=1), "channel_axis must be"),
    ],
)
def test_volume_parameter_errors_name_the_parameter(call, match):
    with pytest.raises(ParameterError, match=match):
        call(np.zeros((4, 4, 4), np.uint8))


def test_volume_input_errors():
    with pytest.raises(InputError, match="axis 0"):
        pool(np.zeros((1, 4, 4)), 2, axes=(0, 1, 2))
    with pytest.raises(InputError, match="3 or more dimensions"):
        pool(np.zeros((4, 4)), 2, axes=(0, 1, 2))
    with pytest.raises(InputError, match="between 1 and the input's 4"):
        adaptive_pool(np.zeros((4, 4, 4)), (5, 1, 1), axes=(0, 1, 2))


def test_output_shape_of_volumes_and_signals():
    assert output_shape((5, 64, 64, 3), (1, 2, 2), axes=(0, 1, 2)) == (5, 32, 32, 3)
    assert output_shape((3, 7), 2, axes=(1,), ceil_mode=True) == (3, 4)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("noise", [0.02, 0.6])
def test_2x2x2_label_mode_across_many_small_vote_batches(monkeypatch, threads, noise):
    """With votes a few windows at a time, the windows set aside to be sorted whole
    wait across batches and chunks, and their modes (written after the others')
    must still land on their own outputs, and a band's last ones be voted on before
    it ends; with much noise most windows are sorted whole at once instead."""
    monkeypatch.setattr(volume_modes, "_VOTE_WINDOWS", 16)
    monkeypatch.setattr(volume_modes, "_CHUNK_WINDOWS", 40)
    monkeypatch.setattr(volume_ranked, "_STACK_BYTES", 1 << 13)  # bands of 2 slices
    rng = np.random.default_rng(11)
    blocks = rng.integers(0, 6, (4, 4, 4)).astype(np.uint32)
    x = np.roll(np.repeat(np.repeat(np.repeat(blocks, 6, 0), 6, 1), 6, 2), 1, axis=(0, 1, 2))
    odd = rng.random(x.shape) < noise
    x[odd] = rng.integers(0, 6, int(odd.sum()))
    options = dict(kernel=2, mode="mode", axes=(0, 1, 2))
    expected = reference_pool_nd(x, **options)
    np.testing.assert_array_equal(pool(x, **options, threads=threads), expected)
