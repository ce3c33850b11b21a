"""TIFFs and 16-bit colour PNGs read from stdin take the file's route (tifffile,
bands of rows): dtype, bands, GeoTIFF tags and pages as depth are kept as when
the file is named, read back by GDAL (rasterio), tifffile and Pillow."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from poolcli.cli import cli

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import from_origin  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")
CORPUS = Path(__file__).parent / "corpus"


def pool(*args, input=None):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], input=input,
                              catch_exceptions=False)  # fmt: skip


def geotiff(path, values, nodata):
    count, height, width = values.shape
    options = dict(driver="GTiff", height=height, width=width, count=count, crs="EPSG:32633",
                   dtype=values.dtype.name, nodata=nodata,
                   transform=from_origin(400000, 5000000, 30, 30))  # fmt: skip
    with rasterio.open(path, "w", **options) as out:
        out.write(values)


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    rng = np.random.default_rng(8)
    dem = rng.integers(-50, 3000, (1, 40, 52), dtype=np.int16)
    dem[0, :6, :6] = -9999
    geotiff(tmp_path / "dem.tif", dem, -9999)
    geotiff(tmp_path / "bands.tif", rng.integers(1, 4000, (4, 30, 44), dtype=np.uint16), 0)
    tifffile.imwrite(tmp_path / "stack.tif", rng.integers(0, 200, (6, 10, 12), dtype=np.uint8),
                     photometric="minisblack")  # fmt: skip
    return tmp_path


@pytest.mark.parametrize(("name", "args"), [
    ("dem.tif", ()), ("bands.tif", ("-m", "max")), ("stack.tif", ("-k", "2x2x2")),
])  # fmt: skip
def test_a_tiff_from_stdin_pools_as_the_named_file_does(files, name, args):
    named = pool(files / name, *args, "-o", files / f"named-{name}")
    assert named.exit_code == 0, named.stderr
    piped = pool("-", *args, "-o", "-", "--format", "tif", input=(files / name).read_bytes())
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout_bytes == (files / f"named-{name}").read_bytes()
    assert list((files / "tmp").iterdir()) == []  # the spooled copy is gone


def test_a_dem_from_stdin_keeps_int16_crs_and_nodata(files):
    piped = pool("-", "-o", files / "out.tif", input=(files / "dem.tif").read_bytes())
    assert piped.exit_code == 0, piped.stderr
    with rasterio.open(files / "out.tif") as out:
        assert (out.dtypes[0], out.nodata, out.crs.to_epsg()) == ("int16", -9999, 32633)
        assert out.transform.a == 60


def test_a_16_bit_colour_png_from_stdin_keeps_16_bits(tmp_path):
    source = CORPUS / "basn2c16.png"  # 16-bit RGB, which Pillow reads at 8 bits
    named = pool(source, "-o", tmp_path / "named.png")
    piped = pool("-", "-o", "-", "--format", "png", input=source.read_bytes())
    assert named.exit_code == piped.exit_code == 0
    assert piped.stdout_bytes == (tmp_path / "named.png").read_bytes()
    assert piped.stdout_bytes[24] == 16  # IHDR's bit depth
    with Image.open(tmp_path / "named.png") as png:
        assert png.size == (16, 16)


def test_a_broken_tiff_from_stdin_is_one_line_without_the_spooled_name(files):
    broken = (CORPUS / "rdf.tif").read_bytes()[:3000]
    piped = pool("-", "-o", "-", "--format", "tif", input=broken)
    assert piped.exit_code == 1
    assert piped.stderr.count("\n") == 1
    assert piped.stderr.startswith("poolcli: -: ")
    assert "stdin" not in piped.stderr.removeprefix("poolcli: -: ")
    assert list((files / "tmp").iterdir()) == []


def test_info_of_a_tiff_on_stdin_tells_what_the_named_file_tells(files):
    import json

    named = CliRunner().invoke(cli, ["info", "--json", str(files / "bands.tif")])
    piped = CliRunner().invoke(cli, ["info", "--json", "-"],
                               input=(files / "bands.tif").read_bytes())  # fmt: skip
    assert named.exit_code == piped.exit_code == 0, piped.stderr
    told, heard = json.loads(named.stdout), json.loads(piped.stdout)
    assert heard["input"] == "-"
    assert heard["mode"] == "4-band;uint16"
    for key in ("mode", "size", "dtype", "raster", "storage"):
        assert heard[key] == told[key]
    assert list((files / "tmp").iterdir()) == []
