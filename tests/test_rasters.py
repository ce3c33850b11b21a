"""Scientific rasters: GeoTIFFs written by GDAL (through rasterio), pooled by the
command line with nodata left out, read back by GDAL with their CRS, nodata and the
geotransform each pooling implies; values against the loop reference."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from image_reference import premultiplied_avg
from PIL import Image
from reference import reference_pool

from poolcli.cli import cli

rasterio = pytest.importorskip("rasterio")
from rasterio.enums import ColorInterp, MaskFlags  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

# rasterio multiplies its Affine objects with `*`, which affine 3.1 asks to be `@`
pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

ORIGIN = (400000.0, 5000000.0)
PIXEL = 30.0


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def holes(shape: tuple[int, int], seed: int) -> np.ndarray:
    """A mask of nodata blobs (rectangles) and scattered single pixels."""
    rng = np.random.default_rng(seed)
    mask = rng.random(shape) < 0.08
    for _ in range(4):
        y, x = rng.integers(0, shape[0] - 5), rng.integers(0, shape[1] - 5)
        mask[y : y + rng.integers(2, 9), x : x + rng.integers(2, 11)] = True
    return mask


def geotiff(path, values: np.ndarray, nodata, **profile) -> np.ndarray:
    """``values`` written by GDAL as a GeoTIFF in UTM 33N with 30 m pixels."""
    options = dict(
        driver="GTiff", height=values.shape[0], width=values.shape[1], count=1,
        dtype=values.dtype.name, crs="EPSG:32633", transform=from_origin(*ORIGIN, PIXEL, PIXEL),
        nodata=nodata,
    )  # fmt: skip
    options.update(profile)
    with rasterio.open(path, "w", **options) as dataset:
        dataset.write(values, 1)
    return values


def dem(path, shape=(43, 61)) -> np.ndarray:
    rng = np.random.default_rng(1)
    values = rng.normal(500, 120, shape).astype(np.int16)
    values[holes(shape, 2)] = -9999
    return geotiff(path, values, -9999)


def read(path):
    with rasterio.open(path) as dataset:
        return dataset.read(1), dataset.crs, dataset.nodata, dataset.transform.to_gdal()


def expected_transform(kernel: int, stride: int, padding: int) -> tuple[float, ...]:
    offset = kernel / 2 - stride / 2 - padding  # input pixels from the stride grid
    x0, y0 = ORIGIN
    return (x0 + offset * PIXEL, PIXEL * stride, 0.0, y0 - offset * PIXEL, 0.0, -PIXEL * stride)


CASES = {
    "avg 2x2": (["-m", "avg", "-k", "2"], "avg", 2, 2, 0),
    "max 3x3 s2 p1": (["-m", "max", "-k", "3", "-s", "2", "-p", "1"], "max", 3, 2, 1),
    "sum 4x4": (["-m", "sum", "-k", "4"], "sum", 4, 4, 0),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("memory", ["256M", "4K"], ids=["whole", "streamed"])
def test_a_gdal_dem_keeps_crs_nodata_dtype_and_moves_its_geotransform(tmp_path, case, memory):
    options, mode, k, s, p = CASES[case]
    values = dem(tmp_path / "dem.tif")
    done = run("pool", tmp_path / "dem.tif", "-o", tmp_path / "out.tif", *options,
               "--memory", memory)  # fmt: skip
    assert done.exit_code == 0, done.output
    pooled, crs, nodata, transform = read(tmp_path / "out.tif")
    assert crs.to_epsg() == 32633
    assert nodata == -9999
    assert transform == pytest.approx(expected_transform(k, s, p))
    want = reference_pool(values, k, stride=s, padding=p, mode=mode, nodata=-9999)
    # int16 stays int16; a sum keeps its widened integers, as GDAL reads them
    assert pooled.dtype == (np.int64 if mode == "sum" else np.int16)
    np.testing.assert_array_equal(pooled, want)
    assert (pooled == -9999).any()  # the blobs leave empty windows


def test_the_nodata_holes_change_the_mean_as_the_reference_says(tmp_path):
    """The bug the issue found: holes averaged into their neighbours."""
    values = dem(tmp_path / "dem.tif")
    assert run("pool", tmp_path / "dem.tif", "-o", tmp_path / "out.tif", "-m", "avg").exit_code == 0
    plain = reference_pool(values, 2, mode="avg")
    pooled = read(tmp_path / "out.tif")[0]
    valid = pooled != -9999
    assert (pooled[valid] != plain[valid]).sum() > 20  # windows with holes differ
    assert (pooled[valid] > 0).all()  # none pulled towards -9999


@pytest.mark.parametrize("memory", ["256M", "4K"], ids=["whole", "streamed"])
def test_a_nan_holed_float_raster_averages_its_valid_pixels(tmp_path, memory):
    rng = np.random.default_rng(3)
    values = rng.random((37, 50)).astype(np.float32) * 100
    values[holes(values.shape, 4)] = np.nan
    geotiff(tmp_path / "f.tif", values, float("nan"), compress="deflate")
    done = run("pool", tmp_path / "f.tif", "-o", tmp_path / "out.tif", "-m", "avg",
               "--memory", memory)  # fmt: skip
    assert done.exit_code == 0, done.output
    pooled, crs, nodata, transform = read(tmp_path / "out.tif")
    assert pooled.dtype == np.float32
    assert crs.to_epsg() == 32633
    assert math.isnan(nodata)
    assert transform == pytest.approx(expected_transform(2, 2, 0))
    want = reference_pool(values, 2, mode="avg", nodata=float("nan"))
    np.testing.assert_allclose(pooled, want, rtol=1e-6, equal_nan=True)
    assert np.isnan(pooled).any()
    assert not np.isnan(pooled[~np.isnan(want)]).any()


def test_a_land_cover_mode_never_votes_for_nodata(tmp_path):
    rng = np.random.default_rng(5)
    values = rng.integers(1, 7, (41, 57)).astype(np.uint8)
    values[holes(values.shape, 6)] = 0
    values[:8, :8] = 0  # whole windows of nodata
    values[8:12, 8:12] = [[0, 0, 0, 3]] * 4  # nodata the commonest, one valid class
    geotiff(tmp_path / "lc.tif", values, 0, tiled=True, blockxsize=16, blockysize=16)
    done = run("pool", tmp_path / "lc.tif", "-o", tmp_path / "out.tif", "-m", "mode", "-k", "4")
    assert done.exit_code == 0, done.output
    pooled, crs, nodata, transform = read(tmp_path / "out.tif")
    assert pooled.dtype == np.uint8
    assert crs.to_epsg() == 32633
    assert nodata == 0
    assert transform == pytest.approx(expected_transform(4, 4, 0))
    np.testing.assert_array_equal(pooled, reference_pool(values, 4, mode="mode", nodata=0))
    assert pooled[0, 0] == 0
    assert pooled[2, 2] == 3


def test_min_valid_makes_sparse_windows_nodata(tmp_path):
    values = dem(tmp_path / "dem.tif")
    done = run("pool", tmp_path / "dem.tif", "-o", tmp_path / "out.tif", "-m", "avg", "-k", "3",
               "--min-valid", "0.75")  # fmt: skip
    assert done.exit_code == 0, done.output
    want = reference_pool(values, 3, mode="avg", nodata=-9999, min_valid=0.75)
    np.testing.assert_array_equal(read(tmp_path / "out.tif")[0], want)
    assert (want == -9999).sum() > (
        reference_pool(values, 3, mode="avg", nodata=-9999) == -9999
    ).sum()


def test_nodata_none_pools_every_value_and_a_given_value_replaces_the_files(tmp_path):
    values = dem(tmp_path / "dem.tif")
    assert (
        run("pool", tmp_path / "dem.tif", "-o", tmp_path / "a.tif", "--nodata", "none").exit_code
        == 0
    )
    pooled, crs, nodata, _ = read(tmp_path / "a.tif")
    np.testing.assert_array_equal(pooled, reference_pool(values, 2, mode="avg"))
    # -9999 was pooled as data: GDAL must not mask a window that averaged it in
    assert (crs, nodata) == ("EPSG:32633", None)
    pyramid = tmp_path / "p.tif"
    assert run("pyramid", tmp_path / "dem.tif", "-o", pyramid, "--nodata", "none").exit_code == 0
    with rasterio.open(pyramid) as dataset:
        assert (dataset.crs, dataset.nodata) == ("EPSG:32633", None)
    done = run("pool", tmp_path / "dem.tif", "-o", tmp_path / "b.tif", "-m", "max", "--nodata", "0")
    assert done.exit_code == 0
    pooled, _, nodata, _ = read(tmp_path / "b.tif")
    assert nodata == 0
    np.testing.assert_array_equal(pooled, reference_pool(values, 2, mode="max", nodata=0))


def test_nodata_255_on_a_plain_png(tmp_path):
    rng = np.random.default_rng(7)
    values = rng.integers(0, 255, (30, 44)).astype(np.uint8)  # 0-254: 255 only where we say
    values[holes(values.shape, 8)] = 255
    Image.fromarray(values).save(tmp_path / "mask.png")
    for mode in ("avg", "max", "min", "median", "mode"):
        out = tmp_path / f"{mode}.png"
        done = run("pool", tmp_path / "mask.png", "-o", out, "-m", mode, "--nodata", "255")
        assert done.exit_code == 0, done.output
        want = reference_pool(values, 2, mode=mode, nodata=255)
        np.testing.assert_array_equal(np.asarray(Image.open(out)), want, err_msg=mode)
    plain = reference_pool(values, 2, mode="max")
    assert (plain == 255).sum() > (np.asarray(Image.open(tmp_path / "max.png")) == 255).sum()


def test_an_rgb_png_leaves_nodata_out_sample_by_sample(tmp_path):
    rng = np.random.default_rng(9)
    values = rng.integers(0, 250, (12, 16, 3)).astype(np.uint8)
    values[holes((12, 16), 10)] = 255
    Image.fromarray(values).save(tmp_path / "rgb.png")
    done = run("pool", tmp_path / "rgb.png", "-o", tmp_path / "out.png", "--nodata", "255")
    assert done.exit_code == 0, done.output
    want = reference_pool(values, 2, mode="avg", nodata=255)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), want)


def test_a_geotiff_into_png_says_the_georeferencing_is_not_kept(tmp_path):
    values = dem(tmp_path / "dem.tif")
    uint8 = geotiff(tmp_path / "u8.tif", (values > 0).astype(np.uint8) * 200 + 1, 1)
    done = run("pool", tmp_path / "u8.tif", "-o", tmp_path / "out.png")
    assert done.exit_code == 0
    assert "PNG holds no georeferencing or nodata; write TIFF to keep them" in done.output
    want = reference_pool(uint8, 2, mode="avg", nodata=1)  # the file's nodata still applies
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")), want)


def test_model_transformation_and_pixel_is_point_tags_move_as_gdal_reads_them(tmp_path):
    """Tags GDAL writes less often, written by tifffile, moved by poolcli, read by GDAL."""
    values = np.arange(20 * 24, dtype=np.uint16).reshape(20, 24)
    rotated = (2.0, 0.5, 0, 1000.0, 0.25, -3.0, 0, 2000.0, 0, 0, 0, 0, 0, 0, 0, 1)
    keys = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32633)
    tags = [(34264, 12, 16, rotated, True), (34735, 3, 16, keys, True)]
    tifffile.imwrite(tmp_path / "m.tif", values, extratags=tags)
    point = (1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 2, 3072, 0, 1, 32633)  # PixelIsPoint
    tie = (0.0, 0.0, 0.0, 500.0, 800.0, 0.0)
    tifffile.imwrite(tmp_path / "p.tif", values, extratags=[
        (33550, 12, 3, (10.0, 10.0, 0.0), True), (33922, 12, 6, tie, True),
        (34735, 3, 16, point, True)])  # fmt: skip
    for name in ("m", "p"):
        source = tmp_path / f"{name}.tif"
        out = tmp_path / f"{name}_out.tif"
        assert run("pool", source, "-o", out, "-k", "3", "-s", "2", "-p", "1").exit_code == 0
        with rasterio.open(source) as before, rasterio.open(out) as after:
            # output pixel (0, 0)'s centre is input pixel coordinate (0.5, 0.5): window
            # -1..2's centre; one output pixel spans two input pixels each way
            want = (
                before.transform
                * rasterio.Affine.translation(-0.5, -0.5)
                * rasterio.Affine.scale(2)
            )
            assert after.transform.to_gdal() == pytest.approx(want.to_gdal())
            assert after.crs.to_epsg() == 32633


def test_info_shows_crs_geotransform_and_nodata(tmp_path):
    dem(tmp_path / "dem.tif")
    done = run("info", tmp_path / "dem.tif", "-k", "3", "-s", "2", "-p", "1")
    assert done.exit_code == 0, done.output
    assert (
        "raster: crs EPSG:32633, geotransform (400000, 30, 0, 5000000, 0, -30), nodata -9999"
        in done.output
    )
    assert (
        "pooled raster: geotransform (399985, 60, 0, 5000015, 0, -60), nodata -9999" in done.output
    )
    facts = json.loads(run("info", "--json", tmp_path / "dem.tif").output)
    assert facts["raster"] == {
        "crs": "EPSG:32633", "geotransform": [400000.0, 30.0, 0.0, 5000000.0, 0.0, -30.0],
        "nodata": -9999,
    }  # fmt: skip


def test_gdal_statistics_are_dropped_and_other_metadata_kept(tmp_path):
    values = dem(tmp_path / "dem.tif")
    with rasterio.open(tmp_path / "dem.tif", "r+") as dataset:
        dataset.update_tags(AREA="alps")
        dataset.update_tags(1, STATISTICS_MAXIMUM=int(values.max()), UNITS="metres")
    assert run("pool", tmp_path / "dem.tif", "-o", tmp_path / "out.tif").exit_code == 0
    with rasterio.open(tmp_path / "out.tif") as dataset:
        assert dataset.tags()["AREA"] == "alps"
        assert dataset.tags(1) == {"UNITS": "metres"}


@pytest.mark.parametrize(("value", "problem"), [
    ("abc", "'abc' is not a number, nan or none"),
    ("inf", "nodata must be finite or nan"),
])  # fmt: skip
def test_a_bad_nodata_is_a_usage_error(tmp_path, value, problem):
    dem(tmp_path / "dem.tif")
    done = run("pool", tmp_path / "dem.tif", "-o", tmp_path / "out.tif", "--nodata", value)
    assert done.exit_code == 2
    assert problem in done.output
    assert not (tmp_path / "out.tif").exists()


def test_a_nodata_the_dtype_cannot_hold_fails_that_input_in_one_line(tmp_path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    done = run("pool", tmp_path / "a.png", "-o", tmp_path / "out.png", "--nodata", "300")
    assert done.exit_code == 1
    assert "--nodata 300 is not a value of uint8 (0 to 255)" in done.output
    assert len(done.output.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def test_zarr_nodata_attribute_is_the_default_and_ome_pixel_sizes_scale(tmp_path):
    zarr = pytest.importorskip("zarr")
    values = dem(tmp_path / "dem.tif")
    group = zarr.open_group(tmp_path / "in.ome.zarr", mode="w", zarr_format=2)
    group.create_array("0", data=values, chunks=(16, 16)).attrs["nodata"] = -9999
    group.attrs["multiscales"] = [{
        "version": "0.4",
        "axes": [{"name": "y", "type": "space", "unit": "micrometer"},
                 {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [0.5, 0.25]}]}],
    }]  # fmt: skip
    done = run("pool", tmp_path / "in.ome.zarr", "-o", tmp_path / "out.ome.zarr", "-m", "avg",
               "-O", "zarr_format=2")  # fmt: skip
    assert done.exit_code == 0, done.output
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    node = next(iter(Reader(parse_url(str(tmp_path / "out.ome.zarr")))()))
    transforms = node.metadata["coordinateTransformations"][0]
    assert transforms == [{"type": "scale", "scale": [1.0, 0.5]},
                          {"type": "translation", "translation": [0.25, 0.125]}]  # fmt: skip
    assert [a.get("unit") for a in node.metadata["axes"]] == ["micrometer", "micrometer"]
    pooled = np.asarray(node.data[0])
    np.testing.assert_array_equal(pooled, reference_pool(values, 2, mode="avg", nodata=-9999))
    assert zarr.open_group(tmp_path / "out.ome.zarr")["0"].attrs["nodata"] == -9999


def test_an_ome_tiff_keeps_its_physical_pixel_sizes_scaled(tmp_path):
    values = np.arange(48 * 64, dtype=np.uint16).reshape(48, 64)
    sizes = {"PhysicalSizeX": 0.25, "PhysicalSizeY": 0.5, "PhysicalSizeXUnit": "µm",
             "PhysicalSizeYUnit": "µm"}  # fmt: skip
    tifffile.imwrite(tmp_path / "in.ome.tif", values, ome=True, metadata={"axes": "YX", **sizes})
    done = run("pool", tmp_path / "in.ome.tif", "-o", tmp_path / "out.ome.tif", "-k", "4")
    assert done.exit_code == 0, done.output
    with tifffile.TiffFile(tmp_path / "out.ome.tif") as tif:
        assert tif.is_ome
        pixels = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]
        pooled = tif.asarray()
    assert (pixels["PhysicalSizeX"], pixels["PhysicalSizeY"]) == (1.0, 2.0)
    assert pixels["PhysicalSizeXUnit"] == "µm"
    np.testing.assert_array_equal(pooled, reference_pool(values, 4, mode="avg"))


def test_an_npy_takes_nodata_and_min_valid_without_nodata_says_it_changes_nothing(tmp_path):
    values = np.arange(36, dtype=np.int16).reshape(6, 6)
    values[:2, :2] = -1
    np.save(tmp_path / "a.npy", values)
    done = run("pool", tmp_path / "a.npy", "-o", tmp_path / "b.npy", "--nodata", "-1")
    assert done.exit_code == 0, done.output
    np.testing.assert_array_equal(
        np.load(tmp_path / "b.npy"), [[-1, 6, 8], [16, 18, 20], [28, 30, 32]]
    )
    done = run("pool", tmp_path / "a.npy", "-o", tmp_path / "c.npy", "--min-valid", "0.5")
    assert done.exit_code == 0
    assert "--min-valid changes nothing: no nodata value is given or declared" in done.output
    done = run("pool", tmp_path / "a.npy", "-o", tmp_path / "d.npy", "--min-valid", "0.5",
               "--nodata", "none")  # fmt: skip
    assert done.exit_code == 2
    assert "--min-valid counts valid pixels, but --nodata is 'none'" in done.output


def test_a_classified_raster_keeps_its_colour_table_and_georeferencing(tmp_path):
    rng = np.random.default_rng(11)
    values = rng.integers(1, 6, (40, 50)).astype(np.uint8)
    values[:8, :8] = 0
    geotiff(tmp_path / "lc.tif", values, 0)
    colours = {0: (0, 0, 0, 255), 1: (255, 0, 0, 255), 5: (0, 255, 255, 255)}
    with rasterio.open(tmp_path / "lc.tif", "r+") as dataset:
        dataset.write_colormap(1, colours)
    done = run("pool", tmp_path / "lc.tif", "-o", tmp_path / "out.tif", "-m", "mode", "-k", "4")
    assert done.exit_code == 0, done.output
    with rasterio.open(tmp_path / "out.tif") as dataset:
        assert dataset.colormap(1)[1] == (255, 0, 0, 255)
        assert dataset.colormap(1)[5] == (0, 255, 255, 255)
        assert dataset.crs.to_epsg() == 32633
        assert dataset.nodata == 0
        pooled = dataset.read(1)
    np.testing.assert_array_equal(pooled, reference_pool(values, 4, mode="mode", nodata=0))


def test_a_palette_geotiff_read_by_pillow_keeps_its_georeferencing(tmp_path):
    """A PALETTE-photometric TIFF goes through Pillow (P mode): its tags go along."""
    values = np.random.default_rng(12).integers(0, 4, (24, 32)).astype(np.uint8)
    image = Image.fromarray(values, "P")
    image.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
    tags = {33550: (10.0, 10.0, 0.0), 33922: (0.0, 0.0, 0.0, 500.0, 800.0, 0.0),
            34735: (1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, 32633)}  # fmt: skip
    image.save(tmp_path / "p.tif", tiffinfo=_typed(tags))
    done = run("pool", tmp_path / "p.tif", "-o", tmp_path / "out.tif", "-m", "mode", "-k", "3",
               "-s", "2", "-p", "1")  # fmt: skip
    assert done.exit_code == 0, done.output
    with rasterio.open(tmp_path / "out.tif") as dataset:
        assert dataset.crs.to_epsg() == 32633
        assert dataset.transform.to_gdal() == pytest.approx((495.0, 20.0, 0.0, 805.0, 0.0, -20.0))
        assert dataset.colormap(1)[1] == (255, 0, 0, 255)
        np.testing.assert_array_equal(
            dataset.read(1), reference_pool(values, 3, stride=2, padding=1, mode="mode")
        )


def _palette_geotiff(path) -> tuple[np.ndarray, dict[int, tuple[int, ...]]]:
    """A land-cover map as GDAL writes it: PALETTE photometric, nodata index 0."""
    rng = np.random.default_rng(14)
    values = rng.integers(1, 6, (45, 61)).astype(np.uint8)
    values[holes(values.shape, 15)] = 0
    geotiff(path, values, 0, photometric="palette")
    colours = {i: (i * 40 % 256, (255 - i * 40) % 256, 100, 255) for i in range(256)}
    with rasterio.open(path, "r+") as dataset:
        dataset.write_colormap(1, colours)
    return values, colours


def test_a_palette_geotiff_pyramid_under_mode_pools_its_indices_and_keeps_its_table(tmp_path):
    """A classified GeoTIFF's TIFF pyramid was RGB, with no CRS, transform, nodata or
    colour table; under mode every level is its indices, as pool -m mode keeps them."""
    values, colours = _palette_geotiff(tmp_path / "lc.tif")
    out = tmp_path / "pyr.tif"
    done = run("pyramid", tmp_path / "lc.tif", "-o", out, "-m", "mode", "--tile-size", "16")
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    with rasterio.open(out) as dataset:
        assert (dataset.count, dataset.colorinterp) == (1, (ColorInterp.palette,))
        assert dataset.crs.to_epsg() == 32633
        assert dataset.transform.to_gdal() == pytest.approx(expected_transform(1, 1, 0))
        assert dataset.nodata == 0
        assert dataset.overviews(1) == [2, 4]
        np.testing.assert_array_equal(dataset.read(1), values)
    for level in (1, 2):
        with rasterio.open(out, overview_level=level - 1) as overview:
            assert overview.colorinterp == (ColorInterp.palette,)
            assert overview.colormap(1)[3] == colours[3]
            assert overview.nodata == 0
            got = overview.read(1)
        np.testing.assert_array_equal(got, _one_shot(values, level, "mode", 0))


def test_a_palette_geotiff_averaged_into_a_pyramid_keeps_its_place_and_hides_nodata(tmp_path):
    """Averaged, a palette is its colours: the georeferencing stays, and the nodata index
    (no colour) is made transparent, so means leave it out and GDAL masks it."""
    values, colours = _palette_geotiff(tmp_path / "lc.tif")
    out = tmp_path / "pyr.tif"
    done = run("pyramid", tmp_path / "lc.tif", "-o", out, "--tile-size", "16")
    assert done.exit_code == 0, done.output
    name = tmp_path / "lc.tif"
    assert done.stderr == (
        f"poolcli: {name}: palette pooled as its colours, its nodata index 0 made "
        "transparent; -m mode keeps its indices and colour table\n"
    )
    table = np.array([colours[i][:3] for i in range(256)], np.uint8)
    rgba = np.dstack([table[values], np.where(values == 0, 0, 255).astype(np.uint8)])
    with rasterio.open(out) as dataset:
        assert dataset.colorinterp[3] is ColorInterp.alpha
        assert dataset.crs.to_epsg() == 32633
        assert dataset.transform.to_gdal() == pytest.approx(expected_transform(1, 1, 0))
        assert dataset.nodata is None
        np.testing.assert_array_equal(np.moveaxis(dataset.read(), 0, -1), rgba)
    with rasterio.open(out, overview_level=0) as overview:
        got = np.moveaxis(overview.read(), 0, -1)
    np.testing.assert_array_equal(got, premultiplied_avg(rgba))
    # pool averages it alike: colours weighted by alpha, nodata GDAL's mask, not band 1's
    assert run("pool", name, "-o", tmp_path / "avg.tif").exit_code == 0
    with rasterio.open(tmp_path / "avg.tif") as dataset:
        assert dataset.crs.to_epsg() == 32633
        assert dataset.nodata is None
        pooled = np.moveaxis(dataset.read(), 0, -1)
        even = rgba[: 2 * pooled.shape[0], : 2 * pooled.shape[1]]  # pool drops a last odd row
        np.testing.assert_array_equal(pooled, premultiplied_avg(even))
        assert dataset.colorinterp[3] is ColorInterp.alpha  # GDAL's mask: the alpha itself
        np.testing.assert_array_equal(dataset.read_masks(1), pooled[..., 3])


def _typed(tags: dict[int, tuple]) -> object:
    from PIL import TiffImagePlugin

    ifd = TiffImagePlugin.ImageFileDirectory_v2()
    for code, value in tags.items():
        ifd[code] = value
        ifd.tagtype[code] = 3 if code == 34735 else 12
    return ifd


@pytest.mark.parametrize(("count", "dtype", "interleave", "mode"), [
    (3, "uint16", "pixel", "3-band;uint16"),  # GDAL: grey and two unspecified samples
    (5, "float32", "band", "5-band;float32"),
])  # fmt: skip
def test_a_multiband_raster_is_described_and_pooled_band_by_band(
    tmp_path, count, dtype, interleave, mode
):
    rng = np.random.default_rng(13)
    values = rng.integers(1, 1000, (count, 20, 26)).astype(dtype)
    values[:, 4:8, 4:9] = 0
    with rasterio.open(tmp_path / "b.tif", "w", driver="GTiff", height=20, width=26, count=count,
                       dtype=dtype, crs="EPSG:4326", transform=from_origin(10, 50, 0.1, 0.1),
                       nodata=0, interleave=interleave) as dataset:  # fmt: skip
        dataset.write(values)
    facts = json.loads(run("info", "--json", tmp_path / "b.tif").output)
    assert (facts["mode"], facts["dtype"], facts["size"]) == (mode, dtype, [26, 20])
    assert facts["raster"]["crs"] == "EPSG:4326"
    assert run("pool", tmp_path / "b.tif", "-o", tmp_path / "out.tif", "-m", "avg").exit_code == 0
    with rasterio.open(tmp_path / "out.tif") as dataset:
        assert (dataset.count, dataset.dtypes[0], dataset.nodata) == (count, dtype, 0)
        pooled = np.moveaxis(dataset.read(), 0, -1)
    want = reference_pool(np.moveaxis(values, 0, -1), 2, mode="avg", nodata=0)
    np.testing.assert_allclose(pooled, want, rtol=1e-6)


def test_a_tiff_pyramid_of_a_geotiff_has_overviews_gdal_places_like_level_0(tmp_path):
    values = dem(tmp_path / "dem.tif", shape=(300, 420))
    done = run("pyramid", tmp_path / "dem.tif", "-o", tmp_path / "pyr.tif", "-m", "max",
               "--tile-size", "64")  # fmt: skip
    assert done.exit_code == 0, done.output
    with rasterio.open(tmp_path / "pyr.tif") as dataset:
        assert dataset.crs.to_epsg() == 32633
        assert dataset.nodata == -9999
        assert dataset.transform.to_gdal() == pytest.approx(expected_transform(1, 1, 0))
        assert dataset.overviews(1)[:2] == [2, 4]
        np.testing.assert_array_equal(dataset.read(1), values)
        half = dataset.read(1, out_shape=(150, 210))  # overview 2, placed by GDAL
    np.testing.assert_array_equal(half, reference_pool(values, 2, mode="max"))


def _one_shot(values, level, mode, nodata, min_valid=0.0):
    return reference_pool(values, 2**level, mode=mode, ceil_mode=True, count_include_pad=False,
                          nodata=nodata, min_valid=min_valid)  # fmt: skip


@pytest.mark.parametrize("mode", ["avg", "max", "median"])
def test_a_dem_pyramid_leaves_nodata_out_of_every_overview(tmp_path, mode):
    values = dem(tmp_path / "dem.tif", shape=(150, 210))
    out = tmp_path / "pyr.tif"
    done = run("pyramid", tmp_path / "dem.tif", "-o", out, "-m", mode, "--tile-size", "32")
    assert done.exit_code == 0, done.output
    with rasterio.open(out) as dataset:
        assert dataset.nodata == -9999
        assert dataset.overviews(1) == [2, 4, 8]
    for level in (1, 2, 3):
        # an overview opened on its own (gdal_translate -oo OVERVIEW_LEVEL) masks it too
        with rasterio.open(out, overview_level=level - 1) as overview:
            assert overview.nodata == -9999
            assert overview.mask_flag_enums == ([MaskFlags.nodata],)
            got = overview.read(1)
            masked = overview.read_masks(1) == 0
        expected = _one_shot(values, level, mode, -9999)
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(masked, expected == -9999)
        # a valid window never averages a hole in: every value is a valid elevation
        assert got[got != -9999].min() > -9999 // 2


def test_a_folder_of_tiff_levels_places_and_masks_every_level(tmp_path):
    """Each TIFF level of a folder is a GeoTIFF of its own: the CRS, the geotransform
    of a 2**k pooling of level 0 (pixels 2**k times wider, the same corner) and GDAL_NODATA."""
    values = dem(tmp_path / "dem.tif", shape=(45, 61))
    done = run("pyramid", tmp_path / "dem.tif", "-o", f"{tmp_path / 'levels'}/", "--format",
               "tif", "--levels", "4", "-m", "median")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    for level in range(4):
        with rasterio.open(tmp_path / "levels" / f"{level}.tif") as dataset:
            assert dataset.crs.to_epsg() == 32633
            assert dataset.transform.to_gdal() == pytest.approx(
                expected_transform(2**level, 2**level, 0)
            )
            assert dataset.nodata == -9999
            assert dataset.mask_flag_enums == ([MaskFlags.nodata],)
            got = dataset.read(1)
        expected = values if level == 0 else _one_shot(values, level, "median", -9999)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("fmt", "extension"), [("png", "png"), ("npy", "npy")])
def test_a_folder_of_levels_that_hold_no_geotiff_tags_says_so(tmp_path, fmt, extension):
    values = dem(tmp_path / "dem.tif").astype(np.uint16)
    geotiff(tmp_path / "u.tif", values, 0)
    done = run("pyramid", tmp_path / "u.tif", "-o", f"{tmp_path / 'levels'}/", "--format", fmt,
               "--levels", "2")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stderr == (
        f"poolcli: {tmp_path / 'u.tif'}: a .{extension} level holds no georeferencing or "
        "nodata; write TIFF to keep them\n"
    )


@pytest.mark.parametrize(("name", "note"), [
    ("p.ome.zarr", "OME-Zarr holds no georeferencing; write TIFF to keep it"),
    ("p.dzi", "a Deep Zoom tile holds no georeferencing or nodata; write TIFF to keep them"),
])  # fmt: skip
def test_a_pyramid_container_that_holds_no_georeferencing_says_so(tmp_path, name, note):
    values = dem(tmp_path / "dem.tif").astype(np.uint8)
    geotiff(tmp_path / "b.tif", values, 0)
    done = run("pyramid", tmp_path / "b.tif", "-o", tmp_path / name)
    assert done.exit_code == 0, done.output
    assert done.stderr == f"poolcli: {tmp_path / 'b.tif'}: {note}\n"


def test_a_nan_holed_raster_pyramid_into_ome_zarr_keeps_its_nodata(tmp_path):
    import zarr

    rng = np.random.default_rng(3)
    values = rng.normal(10, 3, (70, 90)).astype(np.float32)
    values[holes(values.shape, 4)] = np.nan
    geotiff(tmp_path / "f.tif", values, float("nan"))
    out = tmp_path / "f.ome.zarr"
    done = run("pyramid", tmp_path / "f.tif", "-o", out, "--tile-size", "16", "--min-valid", "0.5")
    assert done.exit_code == 0, done.output
    group = zarr.open_group(str(out), mode="r")
    for level in range(4):
        array = group[str(level)]
        assert array.attrs["nodata"] == "NaN"
        expected = values if level == 0 else _one_shot(values, level, "avg", float("nan"), 0.5)
        np.testing.assert_allclose(array[...], expected, rtol=1e-6, equal_nan=True)


def test_a_pyramid_of_a_png_with_a_nodata_value_given_and_none(tmp_path):
    rng = np.random.default_rng(5)
    grey = rng.integers(1, 250, (40, 52), dtype=np.uint8)
    grey[holes(grey.shape, 6)] = 255
    Image.fromarray(grey).save(tmp_path / "g.png")
    out = tmp_path / "g.tif"
    done = run("pyramid", tmp_path / "g.png", "-o", out, "--nodata", "255", "--tile-size", "16")
    assert done.exit_code == 0, done.output
    with tifffile.TiffFile(out) as tif:
        assert tif.pages[0].tags["GDAL_NODATA"].value.strip("\0") == "255"
        levels = [page.asarray() for page in tif.pages]
    for level, got in enumerate(levels[1:], start=1):
        np.testing.assert_array_equal(got, _one_shot(grey, level, "avg", 255))
    plain = tmp_path / "plain.tif"
    done = run("pyramid", tmp_path / "g.png", "-o", plain, "--nodata", "none", "--tile-size", "16")
    assert done.exit_code == 0, done.output
    with tifffile.TiffFile(plain) as tif:
        assert "GDAL_NODATA" not in tif.pages[0].tags
        np.testing.assert_array_equal(tif.pages[1].asarray(), _one_shot(grey, 1, "avg", None))
