"""A GeoTIFF into every array and image format: samples keep their dtype where the
format holds it, and each note says what was lost and which formats keep it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from test_rasters import dem, run

rasterio = pytest.importorskip("rasterio")

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")


@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["small", "bands-of-rows"])
def test_an_int16_dem_stays_int16_in_npz_as_in_npy(tmp_path, memory):
    dem(tmp_path / "dem.tif")
    with rasterio.open(tmp_path / "dem.tif") as dataset:
        values = dataset.read(1)
    for name in ("out.npz", "out.npy"):
        done = run("pool", tmp_path / "dem.tif", "-o", tmp_path / name, "--memory", memory)
        assert done.exit_code == 0
        assert (
            f"{name[-3:].upper()} holds no georeferencing or nodata; write TIFF to keep them"
            in done.output
        )
        assert "pixels read by Pillow" not in done.output
    pooled = np.load(tmp_path / "out.npz")["arr_0"]
    assert pooled.dtype == np.int16
    np.testing.assert_array_equal(pooled, np.load(tmp_path / "out.npy"))
    assert pooled.shape == (values.shape[0] // 2, values.shape[1] // 2)


def test_into_png_an_int16_dem_is_told_which_formats_keep_it(tmp_path):
    dem(tmp_path / "dem.tif")
    done = run("pool", tmp_path / "dem.tif", "-o", tmp_path / "out.png")
    assert done.exit_code == 0
    assert "PNG holds none of this depth; write TIFF or .npy to keep it" in done.output


@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["small", "bands-of-rows"])
def test_rpcs_that_are_not_kept_are_said(tmp_path, memory):
    from rasterio.rpc import RPC

    rpcs = RPC(height_off=100, height_scale=500, lat_off=48.0, lat_scale=0.1,
               line_den_coeff=[1] + [0] * 19, line_num_coeff=[0, 0, -1] + [0] * 17,
               line_off=40, line_scale=40, long_off=12.0, long_scale=0.1,
               samp_den_coeff=[1] + [0] * 19, samp_num_coeff=[0, 1] + [0] * 18,
               samp_off=50, samp_scale=50)  # fmt: skip
    values = np.arange(80 * 100, dtype=np.uint16).reshape(80, 100)
    options = dict(driver="GTiff", width=100, height=80, count=1, dtype="uint16", rpcs=rpcs)
    with rasterio.open(tmp_path / "l1.tif", "w", **options) as dataset:
        dataset.write(values, 1)
    done = run("pool", tmp_path / "l1.tif", "-o", tmp_path / "out.tif", "--memory", memory)
    assert done.exit_code == 0
    assert (
        "its RPCs (a camera model of its pixels) are not kept in the pooled output" in done.output
    )
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert 50844 not in tif.pages[0].tags  # none that would place the pixels wrongly
