"""-O save options are checked once, up front, against the format table (exit 2,
naming the known keys); keys some outputs take go to those; quality=keep keeps a
JPEG input's own tables; a streamed TIFF takes -O compression too."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image, JpegImagePlugin
from processes import poolcli


@pytest.fixture
def photos(tmp_path):
    (tmp_path / "d").mkdir()
    rng = np.random.default_rng(1)
    for index in range(3):
        pixels = rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / "d" / f"{index}.jpg", quality=35)
    Image.fromarray(pixels).save(tmp_path / "d" / "flat.png")
    return tmp_path


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("quality=abc", "-O quality=abc: JPEG's quality takes a whole number from 0 to 100"),
        ("quality=101", "-O quality=101: JPEG's quality takes a whole number from 0 to 100"),
        ("qualty=50", "-O qualty is not a save option of JPEG/PNG (its options: compress_level,"),
        ("optimize=3", "-O optimize=3: JPEG's optimize takes true or false"),
    ],
)
def test_a_bad_option_is_one_usage_error_before_any_work(photos, option, message):
    done = poolcli("pool", "-r", "d", "-o", "out", "-O", option, cwd=photos)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stderr.count("Error:") == 1
    assert not (photos / "out").exists()


def test_an_option_no_output_format_takes_is_refused(photos):
    done = poolcli("pool", "d/flat.png", "-o", "x.png", "-O", "quality=50", cwd=photos)
    assert done.returncode == 2
    assert "-O quality is not a save option of PNG (its options: compress_level, optimize)" in (
        done.stderr
    )


def test_a_key_goes_to_the_formats_that_take_it(photos):
    done = poolcli("pool", "-r", "d", "-o", "out", "-O", "quality=20", cwd=photos)
    assert done.returncode == 0, done.stderr
    with Image.open(photos / "out" / "flat.png") as image:
        assert image.format == "PNG"
    small = (photos / "out" / "0.jpg").stat().st_size
    done = poolcli("pool", "-r", "d", "-o", "out95", "-O", "quality=95", cwd=photos)
    assert (photos / "out95" / "0.jpg").stat().st_size > small


def test_quality_keep_keeps_the_jpeg_inputs_tables_and_subsampling(photos):
    done = poolcli("pool", "d/0.jpg", "-o", "kept.jpg", "-O", "quality=keep",
                   "-O", "subsampling=keep", cwd=photos)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with Image.open(photos / "d" / "0.jpg") as source, Image.open(photos / "kept.jpg") as out:
        assert out.quantization == source.quantization
        assert JpegImagePlugin.get_sampling(out) == JpegImagePlugin.get_sampling(source)
    done = poolcli("pool", "d/flat.png", "-o", "x.jpg", "-O", "quality=keep", cwd=photos)
    assert done.returncode == 2
    assert "-O quality=keep keeps a JPEG input's own setting" in done.stderr


def test_a_streamed_tiff_takes_its_compression_from_dash_o(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 65535, (600, 500), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "in.tif", pixels, compression="zlib", tile=(256, 256))
    done = poolcli("pool", "in.tif", "-o", "out.tif", "--memory", "64K", "-v",
                   "-O", "compression=tiff_lzw", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "streamed" in done.stderr
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert tif.pages.first.compression.name == "LZW"
        expected = pixels.reshape(300, 2, 250, 2).astype(np.int64).sum((1, 3))
        np.testing.assert_array_equal(tif.asarray(), (expected + 2) // 4)
