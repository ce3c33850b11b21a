"""Arrays written as TIFF planes: dtypes no Pillow mode holds (int16, uint16 RGB,
float64...) are written by tifffile as they are, and the nodata in effect goes into
GDAL_NODATA; read back by GDAL (rasterio) and tifffile."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from reference_nd import reference_pool_nd

from poolcli.cli import cli

rasterio = pytest.importorskip("rasterio")


def pool(*args):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], catch_exceptions=False)


def read_gdal(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path) as raster:
            return raster.read(), raster.nodata, raster.dtypes[0]


def dem():
    rng = np.random.default_rng(4)
    x = rng.integers(-400, 3000, (30, 44)).astype(np.int16)
    x[rng.random(x.shape) < 0.2] = -9999
    x[:4, :4] = -9999
    return x


def test_an_int16_dem_array_into_a_tiff_keeps_int16_and_its_nodata(tmp_path):
    np.save(tmp_path / "dem.npy", dem())
    result = pool(tmp_path / "dem.npy", "--nodata", "-9999", "-o", tmp_path / "out.tif")
    assert result.exit_code == 0, result.stderr
    values, nodata, dtype = read_gdal(tmp_path / "out.tif")
    assert (dtype, nodata) == ("int16", -9999.0)
    expected = reference_pool_nd(dem(), 2, mode="avg", nodata=-9999, axes=(0, 1))
    np.testing.assert_array_equal(values[0], expected)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out.tif"), expected)


def test_a_float32_array_s_nan_nodata_is_tagged_in_pillow_s_tiff(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.random((20, 30), dtype=np.float32)
    x[:6, :6] = np.nan
    np.save(tmp_path / "f.npy", x)
    result = pool(tmp_path / "f.npy", "--nodata", "nan", "-k", "3", "-o", tmp_path / "out.tif")
    assert result.exit_code == 0, result.stderr
    values, nodata, dtype = read_gdal(tmp_path / "out.tif")
    assert dtype == "float32"
    assert np.isnan(nodata)
    expected = reference_pool_nd(x, 3, mode="avg", nodata=np.nan, axes=(0, 1))
    np.testing.assert_allclose(values[0], expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("dtype", "shape", "layout"),
    [("uint16", (12, 10, 3), "hwc"), ("float64", (12, 10), "hw"), ("int32", (12, 10, 2), "hwc"),
     ("uint32", (12, 10), "hw"), ("int8", (12, 10, 4), "hwc")],
)  # fmt: skip
def test_dtypes_without_an_image_mode_are_written_as_they_are(tmp_path, dtype, shape, layout):
    x = (np.arange(np.prod(shape)) % 97).astype(dtype).reshape(shape)
    np.save(tmp_path / "a.npy", x)
    result = pool(tmp_path / "a.npy", "--layout", layout, "-m", "max", "-o", tmp_path / "o.tif")
    assert result.exit_code == 0, result.stderr
    got = tifffile.imread(tmp_path / "o.tif")
    expected = reference_pool_nd(x, 2, mode="max", axes=(0, 1))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, expected.squeeze() if len(shape) == 2 else expected)
    values, _, gdal_dtype = read_gdal(tmp_path / "o.tif")
    assert gdal_dtype == dtype
    assert values.shape[0] == (shape[2] if len(shape) == 3 else 1)


def test_an_array_of_many_channels_is_still_refused_with_the_layout_hint(tmp_path):
    pixels = np.zeros((48, 64, 3), np.uint16)  # channels last, read as chw: 48 channels
    np.save(tmp_path / "p.npy", pixels)
    result = pool(tmp_path / "p.npy", "-o", tmp_path / "o.tif")
    assert result.exit_code == 1
    assert "fits no image" in result.stderr
    assert "--layout hwc" in result.stderr
    assert not (tmp_path / "o.tif").exists()


def test_the_png_refusal_names_tiff_for_any_dtype(tmp_path):
    np.save(tmp_path / "dem.npy", dem())
    result = pool(tmp_path / "dem.npy", "-o", tmp_path / "o.png")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "TIFF (one plane of 1-4 channels, any dtype)" in result.stderr
