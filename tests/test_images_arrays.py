"""Feature maps: .npy/.npz in and out, layouts, dtypes, and arrays as images."""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest
from PIL import Image
from reference import reference_pool

from poolcli import PoolSettings
from poolcli.errors import InputError, LimitError, OutputError
from poolcli.images import ReadOptions, WriteOptions, convert, describe


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def run(source, fmt="NPY", *, layout=None, dtype=None, max_pixels=None, **settings):
    kernel = settings.pop("kernel", 2)
    settings.setdefault("mode", "max")
    buffer = io.BytesIO()
    report = convert(
        source,
        buffer,
        PoolSettings.make(kernel, **settings),
        WriteOptions(fmt, {}, dtype),
        ReadOptions(max_pixels=max_pixels, layout=layout),
    )
    buffer.seek(0)
    return report, buffer


def load(buffer):
    return np.load(buffer, allow_pickle=False)


FEATURES = np.random.default_rng(0).standard_normal((8, 12, 10)).astype(np.float32)


def test_3d_arrays_default_to_channels_first():
    report, buffer = run(npy(FEATURES))
    result = load(buffer)
    assert result.shape == (8, 6, 5)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, reference_pool(FEATURES, 2, axes=(1, 2)))
    assert report.in_size == (10, 12)
    assert report.out_size == (5, 6)


@pytest.mark.parametrize(
    ("layout", "shape", "axes"),
    [
        ("hw", (12, 10), (0, 1)),
        ("hwc", (12, 10, 3), (0, 1)),
        ("chw", (3, 12, 10), (1, 2)),
        ("nchw", (2, 3, 12, 10), (2, 3)),
        ("nhwc", (2, 12, 10, 3), (1, 2)),
    ],  # fmt: skip
)
def test_every_layout_pools_its_own_spatial_axes(layout, shape, axes):
    array = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    _, buffer = run(npy(array), layout=layout, mode="avg")
    np.testing.assert_array_equal(load(buffer), reference_pool(array, 2, mode="avg", axes=axes))


def test_default_layouts_follow_pytorch():
    planes = describe(npy(np.zeros((2, 3, 8, 8), np.float32))).planes
    assert (planes[0].layout, planes[0].size, planes[0].mode) == ("nchw", (8, 8), "float32")
    assert describe(npy(np.zeros((8, 6)))).planes[0].layout == "hw"


def test_a_layout_that_does_not_fit_names_the_ones_that_do():
    with pytest.raises(
        InputError,
        match=r"shape 8x12x10 \(3 dims\) but layout nchw needs 4; "
        r"use layout='hwc' or layout='chw' or layout='dhw' or layout='ncw'$",
    ):
        run(npy(FEATURES), layout="nchw")
    with pytest.raises(InputError, match="has 6 dims"):
        run(npy(np.zeros((1, 1, 1, 1, 4, 4))))


def test_object_arrays_and_pickles_are_refused_without_unpickling():
    objects = np.array([[{"a": 1}, None]], dtype=object)
    buffer = io.BytesIO()
    np.save(buffer, objects, allow_pickle=True)
    with pytest.raises(
        InputError, match=r"holds Python objects \(dtype object\); poolcli never unpickles"
    ):
        run(buffer.getvalue())
    with pytest.raises(InputError, match=r"^a Python pickle, .* poolcli never unpickles"):
        run(pickle.dumps(np.zeros((4, 4))))


def test_npz_pools_every_array_and_keeps_names():
    source = npz(features=FEATURES, mask=np.eye(6, dtype=bool))
    report, buffer = run(source, "NPZ", layout=None)
    with np.load(buffer, allow_pickle=False) as result:
        assert sorted(result.files) == ["features", "mask"]
        assert result["features"].shape == (8, 6, 5)
        np.testing.assert_array_equal(result["mask"], reference_pool(np.eye(6, dtype=bool), 2))
    assert report.frames == 2
    with pytest.raises(OutputError, match="holds 2 arrays and .npy holds one; write .npz"):
        run(source, "NPY")


def test_dtype_converts_with_rounding_and_clipping():
    values = np.array([[-1.6, 0.5], [254.5, 300.0]], np.float64)
    _, buffer = run(npy(values), kernel=1, dtype="uint8")
    result = load(buffer)
    assert result.dtype == np.uint8
    assert result.tolist() == [[0, 1], [255, 255]]
    _, buffer = run(npy(values), kernel=1, dtype="float16")
    assert load(buffer).dtype == np.float16
    with pytest.raises(InputError, match="unsupported dtype 'complex64'"):
        run(npy(values), dtype="complex64")


def test_an_image_written_as_npy_is_its_pooled_pixels():
    image = Image.fromarray(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    png = io.BytesIO()
    image.save(png, "PNG")
    _, buffer = run(png.getvalue(), "NPY", mode="avg")
    result = load(buffer)
    assert result.shape == (2, 2, 3)
    np.testing.assert_array_equal(result, reference_pool(np.asarray(image), 2, mode="avg"))


def test_an_array_written_as_an_image_when_a_mode_fits():
    gray = np.arange(64, dtype=np.uint8).reshape(8, 8)
    _, buffer = run(npy(gray), "PNG")
    with Image.open(buffer) as result:
        assert result.mode == "L"
        np.testing.assert_array_equal(np.asarray(result), reference_pool(gray, 2))
    rgb = np.zeros((3, 8, 8), np.uint8)  # chw by default
    _, buffer = run(npy(rgb), "PNG")
    with Image.open(buffer) as result:
        assert (result.mode, result.size) == ("RGB", (4, 4))
    with pytest.raises(OutputError, match="dtype float64 with 1 channel.* fits no image mode"):
        run(npy(np.zeros((8, 8))), "PNG")


def test_a_batch_becomes_frames():
    batch = np.zeros((3, 1, 8, 8), np.uint8)  # nchw, three grey frames
    report, buffer = run(npy(batch), "TIFF")
    with Image.open(buffer) as result:
        assert result.n_frames == 3
    assert report.frames == 3


def test_the_pixel_limit_reads_the_header_only():
    header_only = npy(np.zeros((2, 2), np.uint8))
    with pytest.raises(LimitError, match=r"2x2 = 4 pixels per plane, over the limit of 3"):
        run(header_only, max_pixels=3)


def test_empty_and_broken_files():
    with pytest.raises(InputError, match="file is empty"):
        run(b"")
    with pytest.raises(InputError, match="broken header|cannot read"):
        run(npy(np.zeros((4, 4)))[:20])
    with pytest.raises(InputError, match=r"is empty \(shape 0x4\)"):
        run(npy(np.zeros((0, 4))))


@pytest.mark.parametrize(
    ("mode", "dtype"), [("L", np.uint8), ("RGB", np.uint8), ("RGBA", np.uint8), ("I;16", "<u2")]
)
@pytest.mark.parametrize("fmt", ["NPY", "NPZ", "ZARR"])
def test_a_sum_of_an_image_into_an_array_keeps_its_widened_integers(tmp_path, mode, dtype, fmt):
    rng = np.random.default_rng(4)
    channels = {"L": (), "I;16": (), "RGB": (3,), "RGBA": (4,)}[mode]
    top = 65535 if mode == "I;16" else 255
    pixels = rng.integers(top - 10, top, (6, 8, *channels), endpoint=True).astype(dtype)
    source = tmp_path / "in.png"
    Image.fromarray(pixels, mode if mode != "I;16" else None).save(source)
    with Image.open(source) as image:
        decoded = np.asarray(image).astype(np.int64)  # what Pillow reads back
    target = str(tmp_path / "out.zarr") if fmt == "ZARR" else io.BytesIO()
    report = convert(str(source), target, PoolSettings.make(3, mode="sum"), WriteOptions(fmt))
    assert not report.notes  # no "saturates" note: nothing saturated
    if fmt == "ZARR":
        import zarr

        out = zarr.open_array(target, mode="r")[...]
    elif fmt == "NPZ":
        out = next(iter(np.load(io.BytesIO(target.getvalue())).values()))
    else:
        out = np.load(io.BytesIO(target.getvalue()))
    expected = reference_pool(decoded, 3, mode="sum")
    assert out.dtype.kind in "iu"
    assert out.dtype.itemsize == 8
    assert np.array_equal(out, expected)
    assert out.max() > top  # the point: more than the image mode could hold


def test_a_channels_last_array_read_as_chw_gets_a_layout_hint(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    report = convert(npy(pixels), io.BytesIO(), PoolSettings.make(2), WriteOptions("NPY"))
    assert report.notes == (
        "the array of shape 48x64x3 was read as chw (the default: 48 channels); if its "
        "last axis holds the channels, pass `layout=hwc`",
    )
    with pytest.raises(OutputError, match=r"fits no image mode .*; the array of shape 48x64x3 "
                       r"was read as chw .* pass layout='hwc'"):  # fmt: skip
        convert(npy(pixels), io.BytesIO(), PoolSettings.make(2), WriteOptions("PNG"))
    # asked for, or not image-like: no hint
    report = convert(npy(pixels), io.BytesIO(), PoolSettings.make(2), WriteOptions("NPY"),
                     ReadOptions(layout="chw"))  # fmt: skip
    assert report.notes == ()
    image = io.BytesIO()
    convert(
        npy(pixels), image, PoolSettings.make(2), WriteOptions("PNG"), ReadOptions(layout="hwc")
    )
    assert Image.open(io.BytesIO(image.getvalue())).size == (32, 24)
    report = convert(npy(np.zeros((3, 48, 64), np.uint8)), io.BytesIO(), PoolSettings.make(2),
                     WriteOptions("NPY"))  # fmt: skip
    assert report.notes == ()
