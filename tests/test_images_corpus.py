"""Every corpus file through the image layer: pooled correctly, or refused cleanly."""

from __future__ import annotations

import io

import numpy as np
import pytest
from image_reference import (
    CORPUS,
    EIGHT_BIT,
    entries,
    expected_array,
    expected_mode,
    expected_tiff_mode,
    half,
    upright,
)
from PIL import Image, ImageSequence

from poolcli import PoolSettings
from poolcli.batch.naming import default_format
from poolcli.errors import InputError, LimitError
from poolcli.images import WriteOptions, convert, describe
from poolcli.images.formats import writable_named

MODES = ["avg", "max", "mode"]
OK = entries("ok")
ERRORS = entries("error")


def _pool(path, fmt, mode, **write):
    buffer = io.BytesIO()
    report = convert(
        path, buffer, PoolSettings.make(2, mode=mode, ceil_mode=True), WriteOptions(fmt, **write)
    )
    buffer.seek(0)
    return report, buffer


def _frames(buffer):
    with Image.open(buffer) as image:
        return [frame.copy() for frame in ImageSequence.Iterator(image)]


def _upright_sizes(entry):
    with Image.open(CORPUS / entry["file"]) as image:
        sizes = []
        for frame in ImageSequence.Iterator(image):
            frame.load()
            from PIL import ImageOps

            sizes.append(ImageOps.exif_transpose(frame.copy()).size)
    return sizes


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", OK, ids=[e["file"] for e in OK])
def test_every_ok_file_pools_into_tiff_with_every_frame(entry, mode):
    path = CORPUS / entry["file"]
    report, buffer = _pool(path, "TIFF", mode)
    frames = _frames(buffer)
    sizes = _upright_sizes(entry)
    assert report.frames == entry["n_frames"] == len(frames)
    assert [f.size for f in frames] == [half(s) for s in sizes]
    assert report.in_size == sizes[0]
    assert report.out_size == half(sizes[0])
    if entry["n_frames"] == 1:
        source = upright(path)
        # TIFF holds every mode; a palette's transparency it keeps as RGBA
        assert frames[0].mode == expected_tiff_mode(source, mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "entry",
    [e for e in OK if e["n_frames"] == 1 and e["pillow_mode"] in EIGHT_BIT],
    ids=lambda e: e["file"],
)
def test_single_frame_8_bit_pixels_match_the_reference(entry, mode):
    path = CORPUS / entry["file"]
    # a file Pillow misreads is read by tifffile on the route of a str path (the
    # command line's); a pathlib.Path still takes Pillow's route
    _, buffer = _pool(str(path) if entry.get("pillow_misreads") else path, "TIFF", mode)
    (frame,) = _frames(buffer)
    source = upright(path)
    expected = expected_array(source, mode)
    actual = np.asarray(frame)
    if frame.mode == "RGBA" and expected_mode(source, mode) == "P":
        # a transparent palette written to TIFF as RGBA: compare the colours it means
        palette_image = Image.fromarray(np.ascontiguousarray(expected), "P")
        palette_image.putpalette(source.getpalette())
        palette_image.info["transparency"] = source.info["transparency"]
        expected = np.asarray(palette_image.convert("RGBA"))
    rows, cols = expected.shape[:2]
    np.testing.assert_array_equal(actual[:rows, :cols], expected)


@pytest.mark.parametrize("entry", OK, ids=[e["file"] for e in OK])
def test_every_ok_file_pools_into_its_own_format(entry):
    path = CORPUS / entry["file"]
    fmt = default_format(entry["file"])
    if writable_named(fmt) is None:
        pytest.skip(f"Pillow cannot write {fmt}")
    sizes = _upright_sizes(entry)
    if entry["n_frames"] > 1 and fmt in ("PNG", "GIF", "WEBP") and len(set(sizes)) > 1:
        with pytest.raises(Exception, match="differ in size"):
            _pool(path, fmt, "avg")
        return
    report, buffer = _pool(path, fmt, "avg")
    frames = _frames(buffer)
    assert len(frames) == entry["n_frames"]
    assert [f.size for f in frames] == [half(s) for s in sizes]
    assert report.out_size == half(sizes[0])


@pytest.mark.parametrize("entry", ERRORS, ids=[e["file"] for e in ERRORS])
def test_every_error_file_is_refused_in_one_line(entry):
    path = CORPUS / entry["file"]
    expected = LimitError if "bomb" in entry["file"] else InputError
    with pytest.raises(expected) as raised:
        _pool(path, "PNG", "avg")
    message = str(raised.value)
    assert message
    assert "\n" not in message
    assert "Traceback" not in message


def test_the_bomb_is_refused_from_its_header_naming_the_option():
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(LimitError, match=r"image is 4,364,696,535 pixels.*max_pixels=None$"):
            _pool(CORPUS / "decompression_bomb.gif", "PNG", "avg")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20  # refused before decoding: no 4-gigapixel buffer


@pytest.mark.parametrize("entry", OK, ids=[e["file"] for e in OK])
def test_describe_reads_headers_that_match_the_manifest(entry):
    description = describe(CORPUS / entry["file"])
    assert description.format == entry["format"]
    assert len(description.planes) == entry["n_frames"]
    assert description.planes[0].mode == entry["pillow_mode"]
    assert description.size == tuple(entry.get("exif_transposed_size", entry["size"]))
