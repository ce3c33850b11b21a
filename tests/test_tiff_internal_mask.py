"""GDAL internal masks (``GDAL_TIFF_INTERNAL_MASK``: a 1-bit page after the image's,
NewSubfileType 4, photometric MASK) are read as alpha: masked pixels are transparent.

Inputs are written by GDAL (rasterio); outputs are read back with rasterio, tifffile
and Pillow. The whole-image (Pillow) and streamed (tifffile, ``--memory 4K``) paths
give the same pixels.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner
from PIL import Image

from poolcli.cli import cli

rasterio = pytest.importorskip("rasterio")
from rasterio.crs import CRS  # noqa: E402
from rasterio.enums import ColorInterp  # noqa: E402
from rasterio.transform import from_origin  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:Use `@` matmul:PendingDeprecationWarning")

GARBAGE = 7  # the colour under the mask: never seen in an output


def run(*args: object):
    return CliRunner().invoke(cli, [*map(str, args)], catch_exceptions=False)


def masked_rgb(path, garbage: int = GARBAGE) -> tuple[np.ndarray, np.ndarray]:
    """An 8x6 RGB GeoTIFF with an internal mask; returns its (H, W, 3) colour and (H, W) mask."""
    rng = np.random.default_rng(3)
    colour = rng.integers(20, 240, (6, 8, 3)).astype(np.uint8)
    valid = np.ones((6, 8), bool)
    valid[:2, :2] = False  # a window all masked
    valid[2, 3] = valid[5, 6] = valid[4, 7] = False  # windows partly masked
    colour[~valid] = garbage
    with (
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True),
        rasterio.open(
            path, "w", driver="GTiff", width=8, height=6, count=3, dtype="uint8",
            crs="EPSG:32633", transform=from_origin(0, 0, 30, 30), photometric="RGB",
        ) as dataset,
    ):  # fmt: skip
        dataset.write(np.moveaxis(colour, -1, 0))
        dataset.write_mask(np.where(valid, 255, 0).astype(np.uint8))
    return colour, valid


def alpha_weighted_mean(colour: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """2x2 windows: colour = sum(c*a)/sum(a), alpha = mean(a), rounded half up once;
    colour 0 where a window is all masked."""
    alpha = np.where(valid, 255, 0).astype(np.int64)
    h, w = valid.shape
    out = np.zeros((h // 2, w // 2, 4), np.uint8)
    for i in range(h // 2):
        for j in range(w // 2):
            a = alpha[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
            c = colour[2 * i : 2 * i + 2, 2 * j : 2 * j + 2].astype(np.int64)
            total = a.sum()
            out[i, j, 3] = (2 * total + 4) // 8
            if total:
                out[i, j, :3] = (2 * (c * a[..., None]).sum((0, 1)) + total) // (2 * total)
    return out


@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["whole", "bands-of-rows"])
def test_an_internal_mask_is_pooled_as_alpha_and_written_as_gdals_mask(tmp_path, memory):
    colour, valid = masked_rgb(tmp_path / "in.tif")
    out = tmp_path / "out.tif"
    result = run("pool", tmp_path / "in.tif", "-o", out, "--memory", memory)
    assert result.exit_code == 0, result.output
    expected = alpha_weighted_mean(colour, valid)
    with rasterio.open(out) as dataset:
        assert dataset.count == 4
        assert dataset.colorinterp[3] == ColorInterp.alpha
        assert np.array_equal(np.moveaxis(dataset.read(), 0, -1), expected)
        assert np.array_equal(dataset.read_masks(1), expected[..., 3])
        assert dataset.crs == CRS.from_epsg(32633)
    assert expected[0, 0].tolist() == [0, 0, 0, 0]  # all masked: transparent, not GARBAGE
    assert GARBAGE not in expected[..., :3][expected[..., 3] > 0]


def test_whole_image_and_streamed_paths_give_the_same_bytes(tmp_path):
    masked_rgb(tmp_path / "in.tif")
    outputs = {}
    for memory in ("1G", "4K"):
        for suffix in ("tif", "png"):
            out = tmp_path / f"{memory}.{suffix}"
            assert run("pool", tmp_path / "in.tif", "-o", out, "--memory", memory).exit_code == 0
            outputs[memory, suffix] = out.read_bytes()
    assert outputs["1G", "tif"] == outputs["4K", "tif"]
    assert outputs["1G", "png"] == outputs["4K", "png"]
    with Image.open(tmp_path / "1G.png") as png:
        assert png.mode == "RGBA"
        assert np.array_equal(np.asarray(png), tifffile.imread(tmp_path / "4K.tif"))


def test_max_takes_visible_pixels_only(tmp_path):
    colour, valid = masked_rgb(tmp_path / "in.tif", garbage=255)
    out = tmp_path / "out.png"  # not georeferenced: Pillow's whole-image path
    assert run("pool", tmp_path / "in.tif", "-o", out, "-m", "max").exit_code == 0
    with Image.open(out) as image:
        pooled = np.asarray(image)
    window = colour[2:4, 2:4][valid[2:4, 2:4]]  # one pixel masked
    assert pooled[1, 1, :3].tolist() == window.max(axis=0).tolist()
    assert pooled[1, 1, 3] == 255
    assert 255 not in window


def test_into_jpeg_the_mask_is_flattened_as_rgba_is(tmp_path):
    masked_rgb(tmp_path / "in.tif")
    result = run("pool", tmp_path / "in.tif", "-o", tmp_path / "out.jpg")
    assert result.exit_code == 0
    assert "JPEG cannot hold mode RGBA: written as RGB" in result.output
    with Image.open(tmp_path / "out.jpg") as image:
        assert image.mode == "RGB"
        assert min(image.getpixel((0, 0))) > 200  # all masked: near white, not GARBAGE


def test_info_describes_the_image_and_its_mask_which_is_no_page(tmp_path):
    masked_rgb(tmp_path / "in.tif")
    result = run("info", "--json", tmp_path / "in.tif")
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert (facts["format"], facts["mode"], facts["size"], facts["frames"]) == (
        "TIFF", "RGBA", [8, 6], 1,
    )  # fmt: skip
    assert facts["storage"]["internal_mask"] == "1-bit (pooled as alpha)"
    lines = run("info", tmp_path / "in.tif").stdout
    assert "internal_mask 1-bit (pooled as alpha)" in lines


def test_a_pyramid_of_a_masked_tiff_is_one_image_without_a_first_frame_note(tmp_path):
    masked_rgb(tmp_path / "in.tif")
    done = run("pyramid", tmp_path / "in.tif", "-o", tmp_path / "p.tif", "--tile-size", "16")
    assert done.exit_code == 0, done.output
    assert "frames is used" not in done.output  # the mask is no second image
    with rasterio.open(tmp_path / "p.tif") as dataset:
        assert dataset.count == 4
        assert dataset.colorinterp[3] is ColorInterp.alpha


def test_an_8_bit_tiff_with_overviews_is_one_image_on_every_path(tmp_path):
    colour = np.random.default_rng(4).integers(0, 256, (32, 40, 3)).astype(np.uint8)
    options = dict(driver="GTiff", width=40, height=32, count=3, dtype="uint8", photometric="RGB",
                   crs="EPSG:32633", transform=from_origin(0, 0, 30, 30))  # fmt: skip
    with rasterio.open(tmp_path / "ov.tif", "w", **options) as dataset:
        dataset.write(np.moveaxis(colour, -1, 0))
        dataset.build_overviews([2, 4])
    facts = json.loads(run("info", tmp_path / "ov.tif", "--json").output)
    assert facts["frames"] == 1
    done = run("pool", tmp_path / "ov.tif", "-o", tmp_path / "out.png")
    assert done.exit_code == 0, done.output  # overviews are no frames of other sizes
    with Image.open(tmp_path / "out.png") as pooled:
        expected = colour.reshape(16, 2, 20, 2, 3).mean(axis=(1, 3))
        np.testing.assert_array_equal(np.asarray(pooled), np.floor(expected + 0.5))
