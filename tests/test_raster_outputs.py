"""A GeoTIFF into every array and image format: samples keep their dtype where the
format holds it, and each note says what was lost and which formats keep it."""

from __future__ import annotations

import numpy as np
import pytest
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
        assert f"{name[-3:].upper()} holds no georeferencing; write TIFF to keep it" in done.output
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
