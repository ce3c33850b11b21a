"""``poolcli info`` on GeoTIFFs as GDAL writes them: the dtype pooling reads, the
metadata pooling keeps, the whole CRS, and what is wrong with a truncated file.

Inputs are written by GDAL (rasterio); pooled outputs are read back by rasterio.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from poolcli.cli import cli

rasterio = pytest.importorskip("rasterio")
from rasterio import shutil as rio_shutil  # noqa: E402
from rasterio.crs import CRS  # noqa: E402
from rasterio.enums import Resampling  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")


def run(*args: object):
    return CliRunner().invoke(cli, [*map(str, args)], catch_exceptions=False)


def info(path) -> dict:
    result = run("info", "--json", path)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def write_dem(path, *, crs: str = "EPSG:32633", **options) -> None:
    dem = np.arange(64 * 48, dtype=np.int16).reshape(48, 64) - 100
    with rasterio.open(
        path, "w", driver="GTiff", width=64, height=48, count=1, dtype="int16",
        crs=CRS.from_string(crs), transform=from_origin(500000, 5000000, 30, 30),
        nodata=-9999, **options,
    ) as dataset:  # fmt: skip
        dataset.write(dem, 1)


@pytest.mark.parametrize("kind", ["overviews", "cog"])
def test_an_int16_geotiff_with_overviews_is_one_int16_image(tmp_path, kind):
    path = tmp_path / "dem.tif"
    if kind == "cog":
        write_dem(tmp_path / "plain.tif")
        with rasterio.open(tmp_path / "plain.tif") as src:
            rio_shutil.copy(src, path, driver="COG", blocksize=32, overview_resampling="nearest")
    else:
        write_dem(path, tiled=True, blockxsize=16, blockysize=16)
        with rasterio.open(path, "r+") as dataset:
            dataset.build_overviews([2], Resampling.nearest)
    facts = info(path)
    assert facts["storage"]["pages"] == 2  # the image and its overview
    assert (facts["mode"], facts["dtype"], facts["frames"]) == ("L;int16", "int16", 1)
    assert facts["planes"] == [{"name": "0", "mode": "L;int16", "size": [64, 48]}]


def test_gdal_metadata_georeferencing_and_nodata_are_listed(tmp_path):
    path = tmp_path / "dem.tif"
    write_dem(path)
    with rasterio.open(path, "r+") as dataset:
        dataset.scales, dataset.offsets = (0.1,), (5.0,)
        dataset.units = ("m",)
        dataset.set_band_description(1, "height")
        dataset.update_tags(SOURCE="survey")
    facts = info(path)
    assert facts["metadata"] == ["georeferencing", "gdal_metadata", "nodata"]
    assert facts["metadata_values"]["gdal_metadata"] == [
        "SOURCE", "OFFSET", "SCALE", "UNITTYPE", "DESCRIPTION",
    ]  # fmt: skip
    lines = run("info", path).stdout.splitlines()
    assert (
        "  metadata: georeferencing, gdal_metadata (SOURCE, OFFSET, SCALE, UNITTYPE, "
        "DESCRIPTION), nodata"
    ) in lines
    assert run("pool", path, "-o", tmp_path / "out.tif").exit_code == 0  # and pooling keeps it
    with rasterio.open(tmp_path / "out.tif") as pooled:
        assert (pooled.scales, pooled.offsets, pooled.units) == ((0.1,), (5.0,), ("m",))
        assert pooled.descriptions == ("height",)
        assert pooled.tags()["SOURCE"] == "survey"


def test_a_compound_crs_is_said_with_its_vertical_part_and_kept(tmp_path):
    path = tmp_path / "dem.tif"
    write_dem(path, crs="EPSG:32633+5773")
    assert info(path)["raster"]["crs"] == "EPSG:32633+5773"
    assert "  raster: crs EPSG:32633+5773," in run("info", path).stdout
    assert run("pool", path, "-o", tmp_path / "out.tif").exit_code == 0
    with rasterio.open(tmp_path / "out.tif") as pooled, rasterio.open(path) as source:
        assert pooled.crs == source.crs
        assert "EGM96 height" in pooled.crs.to_wkt()


def test_a_tiff_whose_directory_is_cut_off_is_said_to_be_truncated(tmp_path):
    write_dem(tmp_path / "whole.tif")
    with rasterio.open(tmp_path / "whole.tif", "r+") as dataset:
        dataset.update_tags(SOURCE="survey")  # GDAL rewrites the IFD after the pixels
    data = (tmp_path / "whole.tif").read_bytes()
    assert int.from_bytes(data[4:8], "little") > len(data) // 2
    (tmp_path / "cut.tif").write_bytes(data[: len(data) // 2])
    said = "a TIFF whose header is damaged or cut short: its first image directory (IFD)"
    for command in (["info"], ["pool", "-o", tmp_path / "out.tif"]):
        result = run(*command, tmp_path / "cut.tif")
        assert result.exit_code == 1
        assert said in result.stderr
    assert not (tmp_path / "out.tif").exists()
