"""Nodata values checked and carried the same way on every route: refused alike by
``pool``, ``pool --dry-run`` and ``info``; a float32 raster's lowest value as its
nodata; the nodata attribute of Zarr outputs of images read by Pillow."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from PIL import Image
from test_rasters import dem, geotiff, run

rasterio = pytest.importorskip("rasterio")
zarr = pytest.importorskip("zarr")

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

LOWEST = float(np.finfo(np.float32).min)


@pytest.mark.parametrize("value", ["1e39", "-1e39", "1e-50"])
def test_a_nodata_float32_cannot_hold_is_refused_not_rounded_to_inf_or_0(tmp_path, value):
    values = np.random.default_rng(3).normal(0, 1, (6, 8)).astype(np.float32)
    values[0, 0] = 0.0  # 1e-50 rounded to 0.0 would make this pixel nodata
    geotiff(tmp_path / "f.tif", values, None)
    done = run("pool", tmp_path / "f.tif", "-o", tmp_path / "out.tif", "--nodata", value)
    assert done.exit_code == 1
    assert "is not a value of float32 (finite values from -3.40282e+38" in done.output
    assert "Warning" not in done.output
    assert len(done.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.tif").exists()


def test_float32_lowest_as_nodata_is_written_as_a_float_gdal_and_zarr_read(tmp_path):
    values = np.random.default_rng(4).normal(100, 5, (8, 10)).astype(np.float32)
    values[:2, :2] = LOWEST  # one window of nodata only
    geotiff(tmp_path / "f.tif", values, LOWEST)  # GDAL writes -3.40282346638529e+38
    assert run("pool", tmp_path / "f.tif", "-o", tmp_path / "out.tif").exit_code == 0
    with rasterio.open(tmp_path / "out.tif") as dataset:
        assert dataset.nodata == LOWEST
        assert dataset.read(1)[0, 0] == LOWEST
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        text = tif.pages[0].tags[42113].value
    assert float(text) == LOWEST
    assert "e+38" in text
    assert run("pool", tmp_path / "f.tif", "-o", tmp_path / "out.zarr").exit_code == 0
    assert zarr.open_array(tmp_path / "out.zarr", mode="r").attrs["nodata"] == LOWEST
    info = json.loads(run("info", tmp_path / "f.tif", "--json").output)
    assert info["raster"]["nodata"] == LOWEST


@pytest.mark.parametrize(
    ("values", "nodata"),
    [
        (np.arange(48, dtype=np.uint8).reshape(6, 8), 0),
        (np.arange(48, dtype=np.uint16).reshape(6, 8) * 1000, 65535),
        (np.arange(48, dtype=np.float32).reshape(6, 8), float("nan")),
    ],
)
def test_zarr_outputs_of_every_dtype_carry_the_nodata_attribute(tmp_path, values, nodata):
    geotiff(tmp_path / "r.tif", values, nodata)
    assert run("pool", tmp_path / "r.tif", "-o", tmp_path / "out.zarr").exit_code == 0
    array = zarr.open_array(tmp_path / "out.zarr", mode="r")
    assert array.attrs["nodata"] == ("NaN" if nodata != nodata else nodata)
    assert array.dtype == values.dtype


def test_info_and_dry_run_refuse_a_nodata_as_pool_does(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    dem(tmp_path / "dem.tif")
    refusals = {
        tmp_path / "a.png": ("300", "--nodata 300 is not a value of uint8 (0 to 255)"),
        tmp_path / "dem.tif": ("nan", "--nodata NaN needs a float array; this one is int16"),
    }
    for path, (value, said) in refusals.items():
        pooled = run("pool", path, "-o", tmp_path / "out.tif", "--nodata", value)
        planned = run("pool", path, "-o", tmp_path / "out.tif", "--nodata", value, "-n")
        assert pooled.exit_code == planned.exit_code == 1
        assert said in pooled.output
        assert said in planned.output
        facts = run("info", path, "-k", "2", "--nodata", value, "--json")
        assert facts.exit_code == 1
        assert json.loads(facts.output)["pooling"] == said
    assert not (tmp_path / "out.tif").exists()


def test_checking_nodata_loads_numpy_only_when_there_is_one(tmp_path):
    import subprocess
    import sys

    Image.new("RGB", (8, 6), "orange").save(tmp_path / "a.jpg")
    for args in (["pool", "a.jpg", "-o", "b.jpg", "-n"], ["info", "a.jpg", "-k", "2"]):
        code = (
            "import sys; from click.testing import CliRunner; from poolcli.cli import cli; "
            f"done = CliRunner().invoke(cli, {args!r}); "
            "print(done.exit_code, 'numpy' in sys.modules)"
        )
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                              text=True, check=True)  # fmt: skip
        assert done.stdout.split() == ["0", "False"], (args, done.stdout, done.stderr)
