"""Metadata that must not lie: structural EXIF tags, made-up and stale resolutions.

Outputs are read back with tifffile and Pillow (and ImageMagick's identify where it
is installed), never with poolcli's own code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL
import pytest
import tifffile
from PIL import Image

CORPUS = Path(__file__).parent / "corpus"


def pool(*args: object) -> None:
    done = subprocess.run([sys.executable, "-m", "poolcli", "pool", *map(str, args)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr


def phone_jpeg(path, *, dpi: int = 300) -> None:
    """A 10x10 JPEG whose EXIF claims the camera's 4000x3000 and 300 dpi, as phones write."""
    exif = Image.Exif()
    exif[256], exif[257] = 4000, 3000  # ImageWidth, ImageLength
    exif[0x011A], exif[0x011B], exif[0x0128] = 300, 300, 2
    exif[0x0112] = 1
    noise = np.random.default_rng(0).integers(0, 256, (10, 10, 3), np.uint8)
    Image.fromarray(noise).save(path, exif=exif, dpi=(dpi, dpi), quality=95)


def test_exif_never_overrides_a_pooled_tiffs_structure(tmp_path):
    phone_jpeg(tmp_path / "phone.jpg")
    pool(tmp_path / "phone.jpg", "-o", tmp_path / "small.tif")
    with tifffile.TiffFile(tmp_path / "small.tif") as tif:
        assert tif.pages.first.shape == (5, 5, 3)
        assert tif.asarray().shape == (5, 5, 3)
    with Image.open(tmp_path / "small.tif") as im:
        im.load()
        assert im.size == (5, 5)


def test_exif_resolution_is_pooled_with_the_jfif_density(tmp_path):
    phone_jpeg(tmp_path / "phone.jpg")
    pool(tmp_path / "phone.jpg", "-o", tmp_path / "half.jpg")
    with Image.open(tmp_path / "half.jpg") as im:
        assert im.info["dpi"] == pytest.approx((150, 150))
        exif = im.getexif()
        assert float(exif[0x011A]) == pytest.approx(150)
        assert float(exif[0x011B]) == pytest.approx(150)
    if shutil.which("identify"):
        said = subprocess.run(["identify", "-format", "%x %y", str(tmp_path / "half.jpg")],
                              capture_output=True, text=True, check=True).stdout  # fmt: skip
        assert [round(float(v)) for v in said.split()] == [150, 150]


@pytest.mark.parametrize("out", ["tif", "png"])
@pytest.mark.parametrize("writer", ["pillow", "tifffile"])
def test_no_resolution_in_none_out(tmp_path, out, writer):
    """No tags (Pillow's writer), or 1/1 with unit 'none' (tifffile's): no resolution."""
    if writer == "pillow":
        Image.new("L", (20, 20)).save(tmp_path / "plain.tif")
    else:
        tifffile.imwrite(tmp_path / "plain.tif", np.zeros((20, 20), np.uint8))
    pool(tmp_path / "plain.tif", "-o", tmp_path / f"half.{out}")
    if out == "tif":
        with tifffile.TiffFile(tmp_path / "half.tif") as tif:
            tags = tif.pages.first.tags
            assert 282 not in tags or tags.valueof(296) == 1
    else:
        assert b"pHYs" not in (tmp_path / "half.png").read_bytes()


def test_a_real_resolution_is_still_halved(tmp_path):
    tifffile.imwrite(tmp_path / "scan.tif", np.zeros((20, 20), np.uint8), resolution=(600, 600),
                     resolutionunit="INCH")  # fmt: skip
    pool(tmp_path / "scan.tif", "-o", tmp_path / "half.tif")
    with tifffile.TiffFile(tmp_path / "half.tif") as tif:
        assert tif.pages.first.get_resolution() == pytest.approx((300, 300))


@pytest.mark.parametrize("out", ["gif", "png", "webp"])
@pytest.mark.parametrize("loop", [None, 0, 3])
def test_a_gif_keeps_its_loop_count_play_once_included(tmp_path, out, loop):
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "lime", "blue")]
    extra = {} if loop is None else {"loop": loop}
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:],
                   duration=100, **extra)  # fmt: skip
    with Image.open(tmp_path / "anim.gif") as im:
        assert im.info.get("loop") == loop  # Pillow: no NETSCAPE block, no loop key
    pool(tmp_path / "anim.gif", "-o", tmp_path / f"half.{out}")
    with Image.open(tmp_path / f"half.{out}") as im:
        assert im.n_frames == 3
        if out == "gif":
            assert im.info.get("loop") == loop
        else:  # APNG and WebP count plays: 0 is forever, play-once is 1
            assert im.info.get("loop") == (1 if loop is None else loop)


@pytest.mark.parametrize(
    ("compression", "mode", "pool_mode", "kept"),
    [
        ("tiff_lzw", "RGB", "avg", "LZW"),
        ("tiff_adobe_deflate", "L", "avg", "ADOBE_DEFLATE"),
        ("packbits", "RGB", "max", "PACKBITS"),
        ("group4", "1", "max", "CCITTFAX4"),
        ("group4", "1", "avg", "ADOBE_DEFLATE"),  # grey levels: lossless, not Group 4
        ("jpeg", "RGBA", "avg", "JPEG"),  # as -O compression=jpeg writes it
    ],
)
def test_a_tiff_keeps_its_compression(tmp_path, compression, mode, pool_mode, kept):
    rng = np.random.default_rng(3)
    channels = {"RGB": (3,), "RGBA": (4,)}.get(mode, ())
    pixels = rng.integers(0, 255, (40, 60, *channels), dtype=np.uint8)
    image = Image.fromarray(pixels).convert(mode)
    image.save(tmp_path / "in.tif", compression=compression)
    command = [sys.executable, "-m", "poolcli", "pool", "in.tif", "-o", "out.tif"]
    done = subprocess.run([*command, "-m", pool_mode], cwd=tmp_path, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert tif.pages.first.compression.name == kept
        assert tif.pages.first.shape[:2] == (20, 30)


@pytest.mark.parametrize(
    ("pool_mode", "first", "notes"),
    [
        ("max", "CCITTFAX4", []),  # still 1-bit: Group 4 (Pillow writes no CCITT RLE)
        ("avg", "ADOBE_DEFLATE", [
            "1-bit pixels pooled into grey levels (L) by --mode avg; --mode max, min or mode "
            "keeps 1 bit",
            "tiff_ccitt (CCITT) holds 1-bit pages only, and page 1 was pooled into L: written "
            "with tiff_adobe_deflate (lossless)",
        ]),
    ],
)  # fmt: skip
@pytest.mark.skipif(
    tuple(int(part) for part in PIL.__version__.split(".")[:2]) < (11, 3),
    reason="Pillow writes each TIFF page's own options from 11.3 on",
)
def test_each_tiff_page_keeps_its_own_compression(tmp_path, pool_mode, first, notes):
    # a CCITT page, then a PackBits page: both became deflate
    source = CORPUS / "compression.tif"
    command = [sys.executable, "-m", "poolcli", "pool", source, "-o", "out.tif", "-m", pool_mode]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [f"poolcli: {source}: {note}" for note in notes]
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert [page.compression.name for page in tif.pages] == [first, "PACKBITS"]
        pages = [page.asarray() for page in tif.pages]
    with Image.open(source) as image:
        image.seek(1)
        second = np.asarray(image, dtype=np.uint16)
    pooled = second.reshape(5, 2, 5, 2).swapaxes(1, 2).reshape(5, 5, 4)
    expected = pooled.max(axis=2) if pool_mode == "max" else (pooled.sum(axis=2) + 2) // 4
    assert np.array_equal(pages[1], expected.astype(np.uint8))


def test_a_lossless_webp_stays_lossless_and_exact(tmp_path):
    pixels = np.random.default_rng(4).integers(0, 255, (16, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "in.webp", lossless=True)
    done = subprocess.run([sys.executable, "-m", "poolcli", "pool", "in.webp", "-o", "out.webp"],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.webp").read_bytes()[12:16] == b"VP8L"
    with Image.open(tmp_path / "out.webp") as out:
        expected = (pixels.reshape(8, 2, 10, 2, 3).astype(int).sum((1, 3)) + 2) // 4
        np.testing.assert_array_equal(np.asarray(out.convert("RGB")), expected)


def test_sixteen_bits_into_gif_say_so(tmp_path):
    values = (np.arange(400, dtype=np.uint16).reshape(20, 20) * 150).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "in.png")
    done = subprocess.run([sys.executable, "-m", "poolcli", "pool", "in.png", "-o", "out.gif"],
                          cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "GIF cannot hold mode I;16: written as P (16 bits scaled to 8)" in done.stderr


@pytest.mark.parametrize("out", ["png", "jpg"])
def test_a_profile_of_another_colour_space_is_never_attached(tmp_path, out):
    """A Lab TIFF or a CMYK JPEG written as RGB loses its Lab/CMYK profile (with a
    note): viewers would read RGB pixels through it. Kept where the space is kept."""
    from PIL import ImageCms

    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    Image.new("LAB", (20, 20), (128, 140, 120)).save(tmp_path / "lab.tif", icc_profile=lab)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    cmyk = srgb[:16] + b"CMYK" + srgb[20:]  # a CMYK profile's header says so
    Image.new("CMYK", (20, 20), (10, 200, 30, 0)).save(tmp_path / "ink.jpg", icc_profile=cmyk)
    cases = [("lab.tif", "Lab")] + ([("ink.jpg", "CMYK")] if out == "png" else [])
    for source, space in cases:
        command = [sys.executable, "-m", "poolcli", "pool", source, "-o", f"o.{out}"]
        done = subprocess.run([*command, "--overwrite"], cwd=tmp_path, capture_output=True,
                              text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"the ICC profile describes {space} colour, not the RGB pixels written" in (
            done.stderr
        )
        with Image.open(tmp_path / f"o.{out}") as image:
            assert image.mode == "RGB"
            assert "icc_profile" not in image.info
    for source, kept, profile in (("lab.tif", "o.tif", lab), ("ink.jpg", "o2.jpg", cmyk)):
        done = subprocess.run([sys.executable, "-m", "poolcli", "pool", source, "-o", kept],
                              cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
        with Image.open(tmp_path / kept) as image:
            assert image.mode in ("LAB", "CMYK")
            assert image.info["icc_profile"] == profile
        assert "ICC" not in done.stderr


# --- XMP in TIFF outputs (Pillow's TIFF writer ignores its xmp= argument) ----------------

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'


def _xmp_of(path, page: int = 0) -> bytes | None:
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[page].tags.get(700)
        if tag is None:
            return None
        assert tag.dtype == 1  # BYTE, as GDAL and exiftool read it
        return bytes(tag.value)


def _png_with_xmp(source, target) -> None:
    """``source``'s PNG with an XMP iTXt chunk after IHDR (a 16-bit RGB one: no Pillow
    writer writes those)."""
    import struct
    import zlib

    data = source.read_bytes()
    body = b"XML:com.adobe.xmp\0\0\0\0\0" + XMP
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + body))
    target.write_bytes(data[:33] + chunk + data[33:])


@pytest.mark.parametrize(
    ("source", "args"),
    [
        ("jpeg", []),  # Pillow's own TIFF writer
        ("jpeg", ["-O", "compression=tiff_lzw"]),  # Pillow through libtiff
        ("tiff", []),
        ("tiff", ["--nodata", "0"]),  # with GDAL_NODATA in the same tags
        ("tiff", ["--memory", "16K"]),  # streamed, written by tifffile
        ("int16", []),  # no Pillow mode: tifffile
        ("png16", []),  # 16-bit colour PNG: streamed
    ],
)
def test_tiff_outputs_keep_xmp(tmp_path, source, args):
    from click.testing import CliRunner

    from poolcli.cli import cli

    rng = np.random.default_rng(1)
    if source == "jpeg":
        path = tmp_path / "in.jpg"
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), np.uint8)).save(path, xmp=XMP)
    elif source == "png16":
        path = tmp_path / "in.png"
        _png_with_xmp(CORPUS / "basn2c16.png", path)
        with Image.open(path) as image:
            assert image.info["xmp"] == XMP  # as Pillow reads it
    else:
        path = tmp_path / "in.tif"
        dtype = np.int16 if source == "int16" else np.uint8
        pixels = rng.integers(0, 100, (64, 64), dtype)
        tifffile.imwrite(path, pixels, extratags=[(700, 1, len(XMP), XMP, True)])
    out = tmp_path / "out.tif"
    result = CliRunner().invoke(cli, ["pool", str(path), "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    assert _xmp_of(out) == XMP
    if "--nodata" in args:
        with tifffile.TiffFile(out) as tif:
            assert tif.pages[0].tags[42113].value == "0"


@pytest.mark.parametrize("name", ["p.tif", "p.ome.tif"])
def test_tiff_pyramids_keep_xmp_on_level_0(tmp_path, name):
    from click.testing import CliRunner

    from poolcli.cli import cli

    path = tmp_path / "in.tif"
    pixels = np.random.default_rng(2).integers(0, 256, (600, 520), np.uint8)
    tifffile.imwrite(path, pixels, extratags=[(700, 1, len(XMP), XMP, True)])
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["pyramid", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _xmp_of(out) == XMP
    with tifffile.TiffFile(out) as tif:
        assert tif.series[0].levels[1].shape == (300, 260)
