"""-O save options are checked once, up front, against the format table (exit 2,
naming the known keys); keys some outputs take go to those; quality=keep keeps a
JPEG input's own tables; a streamed TIFF takes -O compression too."""

from __future__ import annotations

from pathlib import Path

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


# --- TIFF compressions that hold some results only --------------------------------------

CORPUS = Path(__file__).parent / "corpus"


@pytest.mark.parametrize("compression", ["group4", "group3"])
def test_group4_of_an_averaging_mode_is_a_usage_error_up_front(tmp_path, compression):
    done = poolcli("pool", CORPUS / "camera.png", "-o", "c.tif", "-O",
                   f"compression={compression}", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"Error: -O compression={compression}: Group 3 and 4 hold 1-bit images only, and "
        "--mode avg never gives one (a 1-bit input pooled with max, min or mode stays "
        "1-bit); pick tiff_lzw or tiff_adobe_deflate"
    )
    assert list(tmp_path.iterdir()) == []


def test_group4_of_a_result_that_is_not_1_bit_fails_that_file_in_one_line(tmp_path):
    (tmp_path / "d").mkdir()
    Image.open(CORPUS / "camera.png").save(tmp_path / "d" / "grey.png")
    Image.open(CORPUS / "basn0g01.png").save(tmp_path / "d" / "bits.png")
    done = poolcli("pool", "-r", "d", "-o", "out", "-m", "max", "--format", "tif",
                   "-O", "compression=group4", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "poolcli: d/grey.png: -O compression=group4: Group 3 and 4 hold 1-bit images only, "
        "and this result is L; pool a 1-bit input with max, min or mode, or pick tiff_lzw "
        "or tiff_adobe_deflate",
        done.stderr.splitlines()[-1],
    ]  # no libtiff chatter (Fax3SetupState...), no encoder error
    assert done.stderr.splitlines()[-1].startswith("poolcli: 1 ok, 0 skipped, 1 failed")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bits.tif"]
    with tifffile.TiffFile(tmp_path / "out" / "bits.tif") as tif:
        assert tif.pages[0].compression == 4  # CCITT Group 4
        pooled = tif.asarray()
    source = np.array(Image.open(CORPUS / "basn0g01.png"))
    np.testing.assert_array_equal(pooled, source.reshape(16, 2, 16, 2).max(axis=(1, 3)))


@pytest.mark.parametrize(
    ("source", "samples"),
    [
        ("basn2c16.png", "uint16 samples"),  # streamed: tifffile writes it
        ("basn0g16.png", "mode I;16"),  # Pillow writes it
        ("int16.tif", "int16 samples"),
        ("int16.npy", "int16 samples"),
    ],
)
def test_jpeg_of_samples_it_cannot_hold_is_deflated_with_a_note(tmp_path, source, samples):
    values = np.arange(-2000, 2096, dtype=np.int16).reshape(64, 64)
    if source == "int16.tif":
        tifffile.imwrite(tmp_path / source, values)
    elif source == "int16.npy":
        np.save(tmp_path / source, values)
    path = tmp_path / source if source.startswith("int16") else CORPUS / source
    done = poolcli("pool", path, "-o", "c.tif", "-O", "compression=jpeg", "-m", "max",
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == (
        f"poolcli: {path}: -O compression=jpeg holds 8-bit grey and colour only, not "
        f"{samples}: written with tiff_adobe_deflate (lossless) instead\n"
    )
    with tifffile.TiffFile(tmp_path / "c.tif") as tif:
        assert tif.pages[0].compression == 8  # Adobe deflate
        pooled = tif.asarray()
    if source.startswith("int16"):
        np.testing.assert_array_equal(pooled, values.reshape(32, 2, 32, 2).max(axis=(1, 3)))


def test_jpeg_of_8_bit_results_is_jpeg_without_a_note(tmp_path):
    done = poolcli("pool", CORPUS / "camera.png", "-o", "c.tif", "-O", "compression=jpeg",
                   cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    with tifffile.TiffFile(tmp_path / "c.tif") as tif:
        assert tif.pages[0].compression == 7
        assert tif.asarray().shape == (256, 256)
