"""Deep images: 16-bit RGB(A) and grey-alpha PNGs and TIFFs, and signed 16-bit TIFFs,
keep their depth (Pillow reads the first at 8 bits and the last as 32-bit ``I``).

Inputs are written with imagecodecs and tifffile, outputs read back with
imagecodecs, tifffile and OpenCV, values checked against the loop reference.
"""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import imagecodecs
import numpy as np
import pytest
import tifffile
from image_reference import expected_deep, premultiplied_avg
from reference import reference_pool


def poolcli(*args, cwd):
    done = subprocess.run([sys.executable, "-m", "poolcli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def deep(channels, seed=1, shape=(9, 11)):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 65535, (*shape, channels), endpoint=True).astype(np.uint16)
    if channels in (2, 4):
        pixels[..., -1] = rng.choice([0, 1, 40000, 65535], shape)
    return pixels


def expected(pixels, mode="avg"):
    return expected_deep(pixels, mode)  # 2x2, ceil mode


def read_back(path):
    if path.suffix == ".png":
        return imagecodecs.png_decode(path.read_bytes())
    if path.suffix == ".tif":
        return tifffile.imread(path)
    return np.load(path)


@pytest.mark.parametrize("channels", [2, 3, 4])
@pytest.mark.parametrize("out", ["png", "tif", "npy"])
@pytest.mark.parametrize("mode", ["avg", "max", "median"])
def test_a_16_bit_colour_png_pools_at_16_bits(tmp_path, channels, out, mode):
    pixels = deep(channels)
    (tmp_path / "in.png").write_bytes(imagecodecs.png_encode(pixels))
    done = poolcli("pool", "in.png", "-o", f"out.{out}", "-m", mode, "--ceil-mode", "--json",
                   cwd=tmp_path)  # fmt: skip
    result = read_back(tmp_path / f"out.{out}")
    assert result.dtype == np.uint16
    np.testing.assert_array_equal(result, expected(pixels, mode))
    assert json.loads(done.stdout)["out_size"] == [6, 5]


def test_opencv_reads_the_16_bit_png_it_would_write(tmp_path):
    pixels = deep(3)
    (tmp_path / "in.png").write_bytes(imagecodecs.png_encode(pixels))
    poolcli("pool", "in.png", "-o", "out.png", "--ceil-mode", cwd=tmp_path)
    bgr = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)
    assert bgr.dtype == np.uint16
    np.testing.assert_array_equal(bgr[..., ::-1], expected(pixels))


@pytest.mark.parametrize("out", ["png", "tif", "npy"])
def test_a_16_bit_rgb_tiff_pools_at_16_bits(tmp_path, out):
    pixels = deep(3, seed=2)
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb", compression="zlib")
    poolcli("pool", "in.tif", "-o", f"out.{out}", "--ceil-mode", cwd=tmp_path)
    np.testing.assert_array_equal(read_back(tmp_path / f"out.{out}"), expected(pixels))


@pytest.mark.parametrize("out", ["png", "tif"])
def test_dtype_given_for_a_16_bit_image_changes_nothing_and_says_so(tmp_path, out):
    pixels = deep(3, seed=2)
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb")
    done = poolcli("pool", "in.tif", "-o", f"out.{out}", "--ceil-mode", "--dtype", "uint16",
                   cwd=tmp_path)  # fmt: skip
    np.testing.assert_array_equal(read_back(tmp_path / f"out.{out}"), expected(pixels))
    assert "this image keeps its own depth" in done.stderr
    assert "pixels read by Pillow" not in done.stderr  # not read at 8 bits


def test_a_16_bit_rgba_tiff_weights_colour_by_alpha(tmp_path):
    pixels = deep(4, seed=3)
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb", extrasamples=["unassalpha"])
    poolcli("pool", "in.tif", "-o", "out.tif", "--ceil-mode", cwd=tmp_path)
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert tif.pages.first.extrasamples == (2,)  # unassociated alpha kept
        np.testing.assert_array_equal(tif.asarray(), premultiplied_avg(pixels))


@pytest.mark.parametrize("mode", ["avg", "min", "sum"])
def test_a_signed_16_bit_tiff_stays_int16(tmp_path, mode):
    rng = np.random.default_rng(5)
    pixels = rng.integers(-32768, 32767, (10, 12), endpoint=True).astype(np.int16)
    tifffile.imwrite(tmp_path / "in.tif", pixels)
    poolcli("pool", "in.tif", "-o", "out.tif", "-m", mode, cwd=tmp_path)
    result = tifffile.imread(tmp_path / "out.tif")
    reference = reference_pool(pixels, 2, mode=mode)
    if mode == "sum":
        reference = np.clip(reference, -32768, 32767)  # an image keeps its dtype
    assert result.dtype == np.int16
    np.testing.assert_array_equal(result, reference)


def test_the_16_bit_png_keeps_dpi_and_icc(tmp_path):
    from PIL import Image, ImageCms

    pixels = deep(3, seed=6, shape=(8, 8))
    (tmp_path / "raw.png").write_bytes(imagecodecs.png_encode(pixels))
    # add pHYs and iCCP with a writer of its own: OpenCV keeps neither, so splice chunks
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = (tmp_path / "raw.png").read_bytes()
    import struct
    import zlib

    def chunk(kind, body):
        crc = zlib.crc32(body, zlib.crc32(kind)) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    extra = chunk(b"pHYs", struct.pack(">IIB", 11811, 11811, 1))  # 300 dpi
    extra += chunk(b"iCCP", b"srgb\0\0" + zlib.compress(icc))
    (tmp_path / "in.png").write_bytes(data[:33] + extra + data[33:])
    poolcli("pool", "in.png", "-o", "out.png", cwd=tmp_path)
    with Image.open(tmp_path / "out.png") as image:
        assert image.info["icc_profile"] == icc
        assert image.info["dpi"] == pytest.approx((150, 150), abs=0.1)
    assert imagecodecs.png_decode((tmp_path / "out.png").read_bytes()).dtype == np.uint16


def test_into_jpeg_a_16_bit_png_says_it_was_read_at_8_bits(tmp_path):
    (tmp_path / "in.png").write_bytes(imagecodecs.png_encode(deep(3)))
    done = poolcli("pool", "in.png", "-o", "out.jpg", cwd=tmp_path)
    assert "RGB;uint16 pixels read by Pillow" in done.stderr
    assert "write PNG, TIFF or .npy to keep it" in done.stderr


def test_info_and_the_pixel_limit_apply_before_decoding(tmp_path):
    (tmp_path / "in.png").write_bytes(imagecodecs.png_encode(deep(3, shape=(40, 50))))
    command = [sys.executable, "-m", "poolcli", "pool", "in.png", "-o", "o.png"]
    done = subprocess.run([*command, "--max-pixels", "1000"], cwd=tmp_path,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 1
    assert "2,000 pixels, over the limit of 1,000" in done.stderr
    assert not (tmp_path / "o.png").exists()
