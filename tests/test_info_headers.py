"""`poolcli info` and dry runs read headers only: a PNG's pixels are never decoded
(Pillow's getexif() and text would load them), and a still WebP is no animation."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFile, PngImagePlugin

from poolcli import PoolSettings
from poolcli.batch.info import inspect
from poolcli.images import ReadOptions, describe


def refuse_decoding(monkeypatch):
    def refuse(self, *args, **kwargs):
        message = "pixels decoded"
        raise AssertionError(message)

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", refuse)


def test_describing_a_png_decodes_no_pixels(tmp_path, monkeypatch):
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "scan 12")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the size must still come out upright
    image = Image.fromarray(np.zeros((30, 40, 3), np.uint8))
    image.save(tmp_path / "a.png", pnginfo=info, exif=exif)
    refuse_decoding(monkeypatch)
    description = describe(str(tmp_path / "a.png"))
    assert description.size == (30, 40)
    assert description.metadata.text == {"Title": "scan 12"}
    facts = inspect(str(tmp_path / "a.png"), ReadOptions(), PoolSettings.make(2))
    assert facts["status"] == "ok"
    assert facts["out_size"] == [15, 20]


def test_a_still_webp_is_not_an_animation(tmp_path):
    Image.new("RGB", (20, 10), "red").save(tmp_path / "still.webp")
    facts = inspect(str(tmp_path / "still.webp"), ReadOptions(), None)
    assert "animation" not in facts["metadata"]
    frames = [Image.new("RGB", (20, 10), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "moving.webp", save_all=True, append_images=frames[1:], loop=0)
    facts = inspect(str(tmp_path / "moving.webp"), ReadOptions(), None)
    assert "animation" in facts["metadata"]


def test_an_animated_webps_durations_come_from_its_headers(tmp_path, monkeypatch):
    """Pillow knows a WebP frame's duration only once it decoded it: info reads the
    ANMF chunks instead, and decodes nothing."""
    frames = [Image.new("RGB", (20, 10), c) for c in ("red", "blue", "green")]
    frames[0].save(tmp_path / "moving.webp", save_all=True, append_images=frames[1:],
                   duration=[40, 70, 120], loop=2)  # fmt: skip
    refuse_decoding(monkeypatch)
    facts = inspect(str(tmp_path / "moving.webp"), ReadOptions(), None)
    assert facts["frames"] == 3
    assert facts["metadata_values"] == {"loop": 2, "durations": [40, 70, 120]}
