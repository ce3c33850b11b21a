"""Multi-band rasters: a TIFF's extra samples that are not alpha (a 4-band satellite
image, as GDAL writes it: grey and three unspecified samples) are bands, each pooled
on its own and written back as bands; alpha stays alpha where the file says so.
Inputs written by GDAL (rasterio) and tifffile, outputs read back by both."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image
from reference import reference_pool

from poolcli.cli import cli

rasterio = pytest.importorskip("rasterio")
from rasterio.enums import ColorInterp, MaskFlags  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")


def run(*args: object):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result


def bands_geotiff(path, dtype, count, nodata=None, seed=0, **profile) -> np.ndarray:
    """``count`` bands written by GDAL (extra samples unspecified; GDAL makes 3 or 4
    bytes RGB, and the fourth alpha, unless ``photometric="MINISBLACK"``)."""
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    values = rng.integers(1, top, (count, 30, 44), dtype=dtype)
    values[:, :5, :7] = 0 if nodata is not None else values[:, :5, :7]
    options = dict(
        driver="GTiff",
        height=30,
        width=44,
        count=count,
        dtype=np.dtype(dtype).name,
        crs="EPSG:32633",
        nodata=nodata,
        transform=from_origin(400000, 5000000, 10, 10),
    )
    with rasterio.open(path, "w", **options, **profile) as dataset:
        dataset.write(values)
    return values


def read_bands(path):
    with rasterio.open(path) as dataset:
        return dataset.read(), dataset.crs, dataset.nodata


@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["small", "bands-of-rows"])
@pytest.mark.parametrize(("dtype", "count", "profile"), [
    (np.uint16, 4, {}), (np.uint16, 2, {}), (np.uint8, 3, {}),
    (np.uint8, 4, {"photometric": "MINISBLACK"}), (np.uint8, 2, {}),
])  # fmt: skip
@pytest.mark.parametrize("mode", ["avg", "max"])
def test_every_band_is_pooled_on_its_own(tmp_path, dtype, count, profile, mode, memory):
    source = bands_geotiff(tmp_path / "in.tif", dtype, count, **profile)
    run("pool", tmp_path / "in.tif", "-m", mode, "--memory", memory, "-o", tmp_path / "out.tif")
    got, crs, _ = read_bands(tmp_path / "out.tif")
    assert crs.to_epsg() == 32633
    assert got.dtype == np.dtype(dtype)
    for band in range(count):
        np.testing.assert_array_equal(got[band], reference_pool(source[band], 2, mode=mode))
    with tifffile.TiffFile(tmp_path / "in.tif") as tif:  # GDAL: RGB for 3 bytes
        kind, extras = tif.pages.first.photometric, tif.pages.first.extrasamples
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert tif.pages.first.photometric == kind
        assert tif.pages.first.extrasamples == extras
    assert all(e.name == "UNSPECIFIED" for e in extras)


def test_a_satellite_image_s_nodata_is_left_out_band_by_band(tmp_path):
    source = bands_geotiff(tmp_path / "in.tif", np.uint16, 4, nodata=0, seed=3)
    result = run("pool", tmp_path / "in.tif", "-o", tmp_path / "out.tif")
    assert "alpha" not in result.stderr  # no band is taken for alpha
    got, _, nodata = read_bands(tmp_path / "out.tif")
    assert nodata == 0
    for band in range(4):
        expected = reference_pool(source[band], 2, mode="avg", nodata=0)
        np.testing.assert_array_equal(got[band], expected)


@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["small", "bands-of-rows"])
@pytest.mark.parametrize("count", [2, 4, 5])
def test_mode_votes_band_by_band_and_never_gives_a_band_s_nodata_where_it_has_data(
    tmp_path, count, memory
):
    rng = np.random.default_rng(count)
    classes = rng.integers(1, 4, (count, 30, 44)).astype(np.uint16)
    classes[rng.random(classes.shape) < 0.3] = 0  # holes, each band its own
    options = dict(driver="GTiff", height=30, width=44, count=count, dtype="uint16",
                   photometric="MINISBLACK", nodata=0, crs="EPSG:32633",
                   transform=from_origin(400000, 5000000, 10, 10))  # fmt: skip
    with rasterio.open(tmp_path / "in.tif", "w", **options) as dataset:
        dataset.write(classes)
    run("pool", tmp_path / "in.tif", "-m", "mode", "--memory", memory, "-o", tmp_path / "out.tif")
    got, _, nodata = read_bands(tmp_path / "out.tif")
    assert nodata == 0
    for band in range(count):
        expected = reference_pool(classes[band], 2, mode="mode", nodata=0)
        np.testing.assert_array_equal(got[band], expected)


def test_info_names_the_bands(tmp_path):
    bands_geotiff(tmp_path / "in.tif", np.uint16, 4)
    result = run("info", tmp_path / "in.tif")
    assert "mode: 4-band;uint16" in result.stdout


def test_a_tiff_s_alpha_is_still_alpha(tmp_path):
    """RGBA written by tifffile with an unassociated alpha: colour weighted by alpha,
    as the same pixels in a PNG are."""
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (30, 44, 4), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb", extrasamples=["unassalpha"])
    Image.fromarray(pixels, "RGBA").save(tmp_path / "in.png")
    run("pool", tmp_path / "in.tif", "-o", tmp_path / "out.tif")
    run("pool", tmp_path / "in.png", "-o", tmp_path / "out.png")
    from_tiff = tifffile.imread(tmp_path / "out.tif")
    with Image.open(tmp_path / "out.png") as png:
        np.testing.assert_array_equal(from_tiff, np.asarray(png))
    plain = reference_pool(pixels.astype(np.int64), 2, mode="avg")
    assert not np.array_equal(from_tiff, plain)  # alpha weighted, not band by band


def test_a_satellite_pyramid_s_overviews_are_band_by_band_means(tmp_path):
    source = bands_geotiff(tmp_path / "in.tif", np.uint16, 4, seed=5)
    run("pyramid", tmp_path / "in.tif", "--tile-size", "16", "-o", tmp_path / "p.tif")
    with rasterio.open(tmp_path / "p.tif") as dataset:
        assert dataset.count == 4
        assert dataset.overviews(1) == [2, 4]
        level = dataset.read(out_shape=(4, 15, 22))
    for band in range(4):
        expected = reference_pool(source[band], 2, mode="avg", ceil_mode=True)
        np.testing.assert_array_equal(level[band], expected)


def _band_by_band(source, level, nodata):
    return np.stack([reference_pool(band, 2**level, mode="avg", ceil_mode=True,
                                    count_include_pad=False, nodata=nodata)
                     for band in source])  # fmt: skip


@pytest.mark.parametrize(("dtype", "count", "nodata"), [
    (np.uint16, 4, None), (np.uint16, 4, 0), (np.uint16, 3, None), (np.float32, 3, None),
    (np.uint16, 5, None),
])  # fmt: skip
@pytest.mark.parametrize("container", ["tif", "folder"])
def test_a_pyramid_of_bands_keeps_grey_and_unspecified_samples(
    tmp_path, dtype, count, nodata, container
):
    """GDAL's multispectral raster (grey + unspecified samples) was written as RGB (and
    alpha: GDAL then masked every pixel whose last band is 0): every level keeps the
    input's photometric and extra samples, so GDAL reads bands and masks nothing."""
    if dtype == np.float32:
        source = bands_geotiff(tmp_path / "in.tif", np.uint16, count, nodata, seed=9)
        source = source.astype(np.float32) / 7
        with rasterio.open(tmp_path / "in.tif", "w", driver="GTiff", height=30, width=44,
                           count=count, dtype="float32", crs="EPSG:32633",
                           transform=from_origin(400000, 5000000, 10, 10)) as dataset:  # fmt: skip
            dataset.write(source)
    else:
        source = bands_geotiff(tmp_path / "in.tif", dtype, count, nodata, seed=9)
    source[-1, :, ::2] = 0  # a last band of zeros: an alpha would hide these pixels
    with rasterio.open(tmp_path / "in.tif", "r+") as dataset:
        dataset.write(source)
        kinds = dataset.colorinterp
    assert kinds[0] is ColorInterp.gray
    assert set(kinds[1:]) == {ColorInterp.undefined}
    if container == "tif":
        out = tmp_path / "p.tif"
        run("pyramid", tmp_path / "in.tif", "--tile-size", "16", "-o", out)
        paths = [(out, {}), (out, {"overview_level": 0}), (out, {"overview_level": 1})]
    else:
        out = tmp_path / "levels"
        run("pyramid", tmp_path / "in.tif", "--levels", "3", "--format", "tif", "-o", f"{out}/")
        paths = [(out / f"{level}.tif", {}) for level in range(3)]
    flags = [MaskFlags.all_valid] if nodata is None else [MaskFlags.nodata]
    for level, (path, opened) in enumerate(paths):
        with rasterio.open(path, **opened) as dataset:
            assert dataset.count == count
            assert dataset.colorinterp == kinds
            assert all(dataset.mask_flag_enums[b] == flags for b in range(count))
            got = dataset.read()
        expected = source if level == 0 else _band_by_band(source, level, nodata)
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_bands_into_png_say_that_png_has_no_bands(tmp_path):
    source = bands_geotiff(tmp_path / "in.tif", np.uint8, 4, photometric="MINISBLACK")
    result = run("pool", tmp_path / "in.tif", "-o", tmp_path / "out.png")
    said = f"poolcli: {tmp_path / 'in.tif'}: "
    assert result.stderr == (
        f"{said}PNG has no bands: the 4 bands are written as grey "
        "or colour and alpha; write TIFF or .npy to keep them bands\n"
        f"{said}PNG holds no georeferencing; write TIFF to keep it\n"
    )
    with Image.open(tmp_path / "out.png") as png:  # the values, band by band, as stored
        expected = reference_pool(np.moveaxis(source, 0, -1), 2, mode="avg")
        np.testing.assert_array_equal(np.asarray(png), expected)


def test_bands_into_a_format_only_pillow_writes_are_refused_in_one_line(tmp_path):
    bands_geotiff(tmp_path / "in.tif", np.uint16, 4)
    result = CliRunner().invoke(cli, ["pool", str(tmp_path / "in.tif"), "-o",
                                      str(tmp_path / "out.jpg")])  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr == (
        f"poolcli: {tmp_path / 'in.tif'}: Pillow, which writes JPEG, cannot read these "
        "4-band;uint16 pixels; write TIFF, PNG, .npy or Zarr, which keep them as stored\n"
    )
    assert not (tmp_path / "out.jpg").exists()


@pytest.mark.parametrize("channels", [2, 3])
@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["small", "bands-of-rows"])
def test_an_ome_tiff_with_channels_as_pages_stays_one_ome_image(tmp_path, channels, memory):
    """Microscopy's CYX OME-TIFF (a page per channel) was pooled as frames, its OME-XML
    and pixel size lost; it is one image, its channels bands, written with OME-XML."""
    rng = np.random.default_rng(channels)
    source = rng.integers(0, 4000, (channels, 30, 44), dtype=np.uint16)
    metadata = {"axes": "CYX", "PhysicalSizeX": 0.5, "PhysicalSizeY": 0.25}
    tifffile.imwrite(tmp_path / "in.ome.tif", source, ome=True, photometric="minisblack",
                     metadata=metadata)  # fmt: skip
    run("pool", tmp_path / "in.ome.tif", "--memory", memory, "-o", tmp_path / "out.ome.tif")
    with tifffile.TiffFile(tmp_path / "out.ome.tif") as tif:
        assert tif.is_ome
        pixels = tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]
        got = tif.series[0].asarray()
    assert (pixels["SizeC"], pixels["SizeX"], pixels["SizeY"]) == (channels, 22, 15)
    assert (pixels["PhysicalSizeX"], pixels["PhysicalSizeY"]) == (1.0, 0.5)
    for c in range(channels):  # each channel on its own: none is alpha
        np.testing.assert_array_equal(got[..., c], reference_pool(source[c], 2, mode="avg"))


def test_info_tells_an_ome_tiff_with_channels_as_pages_as_one_image_of_bands(tmp_path):
    pixels = np.zeros((3, 30, 44), np.uint16)
    tifffile.imwrite(tmp_path / "in.ome.tif", pixels, ome=True, photometric="minisblack",
                     metadata={"axes": "CYX"})  # fmt: skip
    result = run("info", tmp_path / "in.ome.tif")
    assert "  mode: 3-band;uint16\n  size: 44x30\n  frames: 1\n" in result.stdout
