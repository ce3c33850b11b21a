"""A volume's own nodata: a TIFF Z stack's GDAL_NODATA and a Zarr's ``nodata``
attribute are left out by default (``poolcli pool`` whole and in slabs, ``poolcli
pyramid``), and the outputs carry the nodata in effect, read back by tifffile and
zarr-python."""

from __future__ import annotations

import json
from xml.etree import ElementTree

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from reference_nd import reference_pool_nd

from poolcli.cli import cli

GDAL_NODATA = 42113


def run(*args):
    result = CliRunner().invoke(cli, [*map(str, args), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout.splitlines()[0]) if result.stdout.strip() else {}


@pytest.fixture
def holes():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 200, (6, 10, 12)).astype(np.int16)
    x[rng.random(x.shape) < 0.3] = -9999
    x[:2, :4, :4] = -9999  # a window of nodata only
    return x


def geotiff_stack(path, volume, nodata="-9999"):
    tifffile.imwrite(path, volume, photometric="minisblack",
                     extratags=[(GDAL_NODATA, "s", 0, nodata, True)])  # fmt: skip


def nodata_tag(path):
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages.first.tags.get(GDAL_NODATA)
        return None if tag is None else tag.value.strip("\0")


@pytest.mark.parametrize("memory", [None, "2K"], ids=["whole", "slabs"])
@pytest.mark.parametrize("mode", ["avg", "max", "median"])
def test_a_tiff_stack_s_gdal_nodata_is_left_out_and_carried(tmp_path, holes, memory, mode):
    geotiff_stack(tmp_path / "v.tif", holes)
    budget = () if memory is None else ("--memory", memory)
    line = run("pool", tmp_path / "v.tif", "-k", "2x2x2", "-m", mode, *budget,
               "-o", tmp_path / "o.tif")  # fmt: skip
    assert line["streamed"] is (memory is not None)
    expected = reference_pool_nd(holes, 2, mode=mode, nodata=-9999)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "o.tif"), expected)
    assert (expected == -9999).any()  # the empty window stayed nodata, which the tag says
    assert nodata_tag(tmp_path / "o.tif") == "-9999"


def test_nodata_none_pools_every_value_and_writes_no_tag(tmp_path, holes):
    geotiff_stack(tmp_path / "v.tif", holes)
    run("pool", tmp_path / "v.tif", "-k", "2x2x2", "--nodata", "none", "-o", tmp_path / "o.tif")
    expected = reference_pool_nd(holes, 2, mode="avg")
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "o.tif"), expected)
    assert nodata_tag(tmp_path / "o.tif") is None


def test_a_given_nodata_is_written_into_a_tiff_stack_of_an_npy(tmp_path, holes):
    np.save(tmp_path / "v.npy", holes)
    run("pool", tmp_path / "v.npy", "-k", "2x2x2", "--nodata", "-9999", "-o", tmp_path / "o.tif")
    assert nodata_tag(tmp_path / "o.tif") == "-9999"


def test_a_nan_nodata_tag_of_a_float_stack(tmp_path):
    rng = np.random.default_rng(3)
    volume = rng.random((4, 6, 8), dtype=np.float32)
    volume[rng.random(volume.shape) < 0.3] = np.nan
    geotiff_stack(tmp_path / "v.tif", volume, nodata="nan")
    run("pool", tmp_path / "v.tif", "-k", "2x2x2", "-o", tmp_path / "o.tif")
    expected = reference_pool_nd(volume, 2, mode="avg", nodata=np.nan)
    np.testing.assert_allclose(tifffile.imread(tmp_path / "o.tif"), expected, rtol=1e-6)
    assert nodata_tag(tmp_path / "o.tif") == "nan"


def test_an_ome_tif_name_gives_an_ome_tiff_without_a_voxel_size(tmp_path, holes):
    geotiff_stack(tmp_path / "v.tif", holes)
    run("pool", tmp_path / "v.tif", "-k", "2x2x2", "-o", tmp_path / "o.ome.tif")
    with tifffile.TiffFile(tmp_path / "o.ome.tif") as tif:
        assert tif.is_ome
        pixels = ElementTree.fromstring(tif.ome_metadata).find(".//{*}Pixels")
        assert pixels is not None
        assert (pixels.get("SizeZ"), pixels.get("SizeY"), pixels.get("SizeX")) == ("3", "5", "6")
        assert pixels.get("Type") == "int16"
        np.testing.assert_array_equal(
            tif.series[0].asarray(), reference_pool_nd(holes, 2, mode="avg", nodata=-9999)
        )


def levels_expected(volume, count, nodata):
    for k in range(count):
        window = (2**k,) * 3
        yield k, volume if k == 0 else reference_pool_nd(
            volume, window, window, mode="avg", ceil_mode=True, count_include_pad=False,
            nodata=nodata,
        )  # fmt: skip


def test_a_zarr_volume_s_nodata_attribute_goes_into_its_pyramid(tmp_path, holes):
    source = zarr.open_array(str(tmp_path / "v.zarr"), mode="w", shape=holes.shape,
                             dtype=holes.dtype, chunks=(3, 5, 6))  # fmt: skip
    source[...] = holes
    source.attrs["nodata"] = -9999
    run("pyramid", tmp_path / "v.zarr", "--factors", "2x2x2", "--levels", "3",
        "-o", tmp_path / "p.ome.zarr")  # fmt: skip
    group = zarr.open_group(str(tmp_path / "p.ome.zarr"), mode="r")
    for k, expected in levels_expected(holes, 3, -9999):
        np.testing.assert_array_equal(group[str(k)][...], expected)
        assert group[str(k)].attrs["nodata"] == -9999


def test_a_tiff_stack_s_gdal_nodata_goes_into_every_level_of_a_folder(tmp_path, holes):
    geotiff_stack(tmp_path / "v.tif", holes)
    run("pyramid", tmp_path / "v.tif", "--factors", "2x2x2", "--levels", "3",
        "-o", f"{tmp_path / 'levels'}/")  # fmt: skip
    for k, expected in levels_expected(holes, 3, -9999):
        path = tmp_path / "levels" / f"{k}.tif"
        np.testing.assert_array_equal(tifffile.imread(path), expected)
        assert nodata_tag(path) == "-9999"
