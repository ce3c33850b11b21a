"""``poolcli pyramid -O KEY=VALUE``: keys checked against the formats each container
writes, before any work; compressions tifffile cannot write are usage errors too."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from poolcli.cli import cli


@pytest.fixture
def rgb(tmp_path):
    path = tmp_path / "in.tif"
    x = np.random.default_rng(1).integers(0, 256, (70, 90, 3), dtype=np.uint8)
    tifffile.imwrite(path, x, photometric="rgb")
    return path


def run(*args: str):
    return CliRunner().invoke(cli, ["pyramid", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("output", "option", "said"),
    [
        ("out.ome.zarr", "qualty=3", "-O qualty is not a save option of ZARR (its options: zarr"),
        ("out.tif", "zarr_format=3", "-O zarr_format is not a save option of TIFF"),
        ("out.tif", "compression=zlib", "TIFF's compression takes one of raw, tiff_lzw"),
        ("out.dzi", "compress_level=12", "PNG's compress_level takes a whole number from 0 to 9"),
        ("out.ome.zarr", "zarr_format=4", "ZARR's zarr_format takes one of 2, 3"),
    ],
)  # fmt: skip
def test_unknown_keys_and_bad_values_are_usage_errors(rgb, tmp_path, output, option, said):
    done = run(str(rgb), "-o", str(tmp_path / output), "-O", option)
    assert done.exit_code == 2, done.output
    assert said in done.output
    assert list(tmp_path.iterdir()) == [rgb]


@pytest.mark.parametrize("output", ["out.tif", "out.ome.tif"])
def test_compressions_only_pillow_writes_are_usage_errors_before_any_file_is_read(
    rgb, tmp_path, output
):
    missing = tmp_path / "missing.tif"  # never read: the options alone are wrong
    done = run(str(missing), "-o", str(tmp_path / output), "-O", "compression=group4")
    assert done.exit_code == 2
    assert done.output.strip().splitlines()[-1] == (
        "Error: -O compression=group4: a pyramid TIFF (written by tifffile) takes raw, "
        "tiff_lzw, tiff_adobe_deflate, tiff_deflate, packbits, jpeg, zstd, lzma"
    )
    assert list(tmp_path.iterdir()) == [rgb]


def test_jpeg_of_16_bit_samples_is_deflated_with_a_note(tmp_path):
    path = tmp_path / "deep.tif"
    x = np.random.default_rng(2).integers(0, 65536, (70, 90), dtype=np.uint16)
    tifffile.imwrite(path, x, photometric="minisblack")
    done = run(str(path), "-o", str(tmp_path / "out.tif"), "-O", "compression=jpeg")
    assert done.exit_code == 0, done.output
    assert done.stderr == (
        f"poolcli: {path}: -O compression=jpeg holds 8-bit grey and colour only, not uint16 "
        "samples: written with tiff_adobe_deflate (lossless) instead\n"
    )
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert {page.compression for page in tif.pages} == {8}  # deflate
        assert np.array_equal(tif.pages[0].asarray(), x)


@pytest.mark.parametrize(
    ("output", "option", "compression"),
    [("out.tif", "compression=tiff_lzw", 5), ("out.ome.tif", "compression=raw", 1)],
)
def test_known_tiff_compressions_are_written(rgb, tmp_path, output, option, compression):
    done = run(str(rgb), "-o", str(tmp_path / output), "-O", option, "--tile-size", "32")
    assert done.exit_code == 0, done.output
    with tifffile.TiffFile(tmp_path / output) as tif:
        assert tif.pages[0].compression == compression


def test_jpeg_quality_reaches_deep_zoom_tiles(rgb, tmp_path):
    sizes = []
    for quality in (10, 95):
        out = tmp_path / f"q{quality}.dzi"
        done = run(str(rgb), "-o", str(out), "-O", f"quality={quality}")
        assert done.exit_code == 0, done.output
        sizes.append((tmp_path / f"q{quality}_files" / "7" / "0_0.jpeg").stat().st_size)
    assert sizes[0] < sizes[1] / 2


@pytest.mark.parametrize("existing", [(), ("--overwrite",)])
def test_two_inputs_named_alike_are_refused_before_either_is_written(tmp_path, existing):
    """a.tif and a.png both make a.ome.zarr in the folder: neither may replace the other."""
    (tmp_path / "in").mkdir()
    pixels = np.zeros((20, 30, 3), np.uint8)
    tifffile.imwrite(tmp_path / "in" / "a.tif", pixels)
    np.save(tmp_path / "in" / "a.npy", pixels[..., 0])
    result = run("-r", str(tmp_path / "in"), "-o", str(tmp_path / "out"), *existing)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: {tmp_path / 'in' / 'a.npy'} and {tmp_path / 'in' / 'a.tif'} would both be "
        f"written to {tmp_path / 'out' / 'a.ome.zarr'}; run them separately or rename one"
    )
    assert not (tmp_path / "out").exists()
