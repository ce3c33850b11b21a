"""The fast PNG writer: what Pillow reads back must be exactly what was written."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from poolcli.images.formats import FORMATS
from poolcli.images.writing import png
from poolcli.images.writing.save import save


def written(image: Image.Image, **options) -> Image.Image:
    buffer = io.BytesIO()
    png.save(image, buffer, options)
    buffer.seek(0)
    result = Image.open(buffer)
    result.load()
    return result


def sample(mode: str, size=(37, 23)) -> Image.Image:
    rng = np.random.default_rng(len(mode) * 7 + size[0])
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}.get(mode, 1)
    if mode == "I;16":
        values = rng.integers(0, 65536, (size[1], size[0]), dtype=np.uint16)
        return Image.frombytes("I;16", size, values.tobytes())
    values = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    return Image.frombytes(mode, size, values.tobytes())


@pytest.mark.parametrize("mode", sorted(FORMATS["PNG"].own_writer_modes))
@pytest.mark.parametrize("size", [(1, 1), (37, 23), (1, 300), (300, 1), (1500, 900)])
def test_pixels_and_mode_survive(mode, size):
    image = sample(mode, size)
    result = written(image)
    assert result.mode == mode
    assert result.size == size
    np.testing.assert_array_equal(np.asarray(result), np.asarray(image))


def test_metadata_is_written_as_pillow_reads_it():
    image = sample("RGB")
    text = PngImagePlugin.PngInfo()
    text.add_text("Title", "pooled")
    text.add_itxt("Caption", "vingt-trois \u00e9t\u00e9s")
    exif = Image.Exif()
    exif[0x0112] = 1
    exif[0x010F] = "poolcli"
    result = written(
        image,
        icc_profile=b"profile bytes",
        dpi=(150.0, 75.0),
        pnginfo=text,
        exif=exif.tobytes(),
        xmp=b"<x:xmpmeta/>",
    )
    assert result.info["icc_profile"] == b"profile bytes"
    pillow = io.BytesIO()
    image.save(pillow, "PNG", dpi=(150.0, 75.0))  # pixels per metre, rounded as Pillow does
    assert result.info["dpi"] == Image.open(pillow).info["dpi"]
    assert result.text["Title"] == "pooled"
    assert result.text["Caption"] == "vingt-trois \u00e9t\u00e9s"
    assert result.getexif()[0x010F] == "poolcli"
    assert result.info["xmp"] == b"<x:xmpmeta/>"


def test_output_does_not_depend_on_the_number_of_threads(monkeypatch):
    image = sample("RGB", (1500, 900))  # 4 MB of rows: several slices
    many = io.BytesIO()
    png.save(image, many, {})
    monkeypatch.setattr(png, "thread_count", lambda threads, work, minimum: 1)
    one = io.BytesIO()
    png.save(image, one, {})
    assert many.getvalue() == one.getvalue()


def test_compress_level_is_honoured():
    image = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (256, 1)))
    fast = io.BytesIO()
    png.save(image, fast, {"compress_level": 1})
    small = io.BytesIO()
    png.save(image, small, {"compress_level": 9})
    assert len(small.getvalue()) < len(fast.getvalue())
    small.seek(0)
    np.testing.assert_array_equal(np.asarray(Image.open(small)), np.asarray(image))


@pytest.mark.parametrize(
    ("mode", "options", "fast"),
    [
        ("RGB", {}, True),
        ("I;16", {"compress_level": 3}, True),
        ("RGB", {"optimize": True}, False),  # an option only Pillow knows
        ("P", {}, False),
        ("1", {}, False),
    ],
)
def test_what_goes_to_pillow_instead(mode, options, fast, monkeypatch):
    image = Image.new(mode, (8, 8))
    assert FORMATS["PNG"].own_writer_takes(mode, options) is fast
    used = []
    real = png.save
    monkeypatch.setattr(png, "save", lambda *args: used.append(args) or real(*args))
    buffer = io.BytesIO()
    save([image], buffer, "PNG", metadata_options={}, user_options=options, notes=[])
    buffer.seek(0)
    with Image.open(buffer) as result:
        assert result.mode == mode
    assert bool(used) is fast  # the own writer wrote it, or Pillow did
