"""``poolcli pyramid`` into every container, read back by readers poolcli did not write:
ome-zarr-py and zarr (OME-Zarr), tifffile (TIFF pages, OME-TIFF SubIFDs), GDAL through
rasterio (overviews), Pillow (Deep Zoom tiles, folders); every level exact against
one-shot pooling of level 0."""

from __future__ import annotations

import json
import math
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from PIL import Image

import poolcli
from poolcli.cli import cli

CORPUS = Path(__file__).parent / "corpus"


def run(*args: str):
    return CliRunner().invoke(cli, ["pyramid", *args], catch_exceptions=False)


def one_shot(x: np.ndarray, level: int, mode: str = "avg") -> np.ndarray:
    if level == 0:
        return x
    extra = {"count_include_pad": False} if mode == "avg" else {}
    channel_axis = 2 if mode == "mode" and x.ndim == 3 else None
    return poolcli.pool(x, 2**level, mode=mode, ceil_mode=True, channel_axis=channel_axis, **extra)


@pytest.fixture
def rgb(tmp_path):
    x = np.random.default_rng(5).integers(0, 256, (301, 517, 3), dtype=np.uint8)
    path = tmp_path / "in.tif"
    tifffile.imwrite(path, x, tile=(64, 64), photometric="rgb", compression="zlib")
    return path, x


def test_ome_zarr_ngff_04_read_by_ome_zarr_py_every_level_exact(rgb, tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    path, x = rgb
    out = tmp_path / "out.ome.zarr"
    # a small budget: level 0 read in bands of a few rows
    result = run(str(path), "-o", str(out), "--tile-size", "64", "--memory", "64K")
    assert result.exit_code == 0, result.output
    nodes = list(Reader(parse_url(str(out)))())
    image = nodes[0]
    assert any(isinstance(spec, Multiscales) for spec in image.specs)
    assert [d.shape for d in image.data] == [
        (3, 301, 517), (3, 151, 259), (3, 76, 130), (3, 38, 65), (3, 19, 33)]  # fmt: skip
    attrs = zarr.open_group(str(out), mode="r").attrs.asdict()
    (multiscales,) = attrs["multiscales"]
    assert multiscales["version"] == "0.4"
    assert [a["name"] for a in multiscales["axes"]] == ["c", "y", "x"]
    assert [a["type"] for a in multiscales["axes"]] == ["channel", "space", "space"]
    scales = [d["coordinateTransformations"][0]["scale"] for d in multiscales["datasets"]]
    assert scales == [[1.0, 2.0**k, 2.0**k] for k in range(5)]
    for level, data in enumerate(image.data):
        assert zarr.open_array(str(out / str(level)), mode="r").chunks == (3, 64, 64)
        np.testing.assert_array_equal(np.moveaxis(np.asarray(data), 0, -1), one_shot(x, level))
    assert (out / "0" / ".zarray").exists()
    assert (out / "0" / "0" / "0" / "0").exists()


def test_ome_zarr_05_on_zarr_v3_and_the_inputs_pixel_size(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    x = np.random.default_rng(6).integers(0, 60000, (300, 200), dtype=np.uint16)
    source = tmp_path / "in.ome.zarr"
    group = zarr.open_group(str(source), mode="w", zarr_format=3)
    group.create_array("0", data=x, chunks=(64, 64))
    group.attrs["ome"] = {"version": "0.5", "multiscales": [{
        "axes": [{"name": "y", "type": "space", "unit": "micrometer"},
                 {"name": "x", "type": "space", "unit": "micrometer"}],
        "datasets": [{"path": "0", "coordinateTransformations": [
            {"type": "scale", "scale": [0.5, 0.25]}]}]}]}  # fmt: skip
    out = tmp_path / "out.ome.zarr"
    assert run(str(source), "-o", str(out), "-O", "zarr_format=3", "--levels", "3").exit_code == 0
    nodes = list(Reader(parse_url(str(out)))())
    assert [d.shape for d in nodes[0].data] == [(300, 200), (150, 100), (75, 50)]
    ome = zarr.open_group(str(out), mode="r").attrs["ome"]
    assert ome["version"] == "0.5"
    image = ome["multiscales"][0]
    assert [a.get("unit") for a in image["axes"]] == ["micrometer", "micrometer"]
    scales = [d["coordinateTransformations"][0]["scale"] for d in image["datasets"]]
    assert scales == [[0.5, 0.25], [1.0, 0.5], [2.0, 1.0]]
    for level, data in enumerate(nodes[0].data):
        np.testing.assert_array_equal(np.asarray(data), one_shot(x, level))


def test_tiff_reduced_pages_are_gdal_overviews(rgb, tmp_path):
    import rasterio

    path, x = rgb
    out = tmp_path / "out.tif"
    assert run(str(path), "-o", str(out), "--tile-size", "64", "--memory", "64K").exit_code == 0
    with tifffile.TiffFile(out) as tif:
        pages = list(tif.pages)
        assert [p.shape for p in pages] == [
            (301, 517, 3), (151, 259, 3), (76, 130, 3), (38, 65, 3), (19, 33, 3)]  # fmt: skip
        assert [int(p.subfiletype) for p in pages] == [0, 1, 1, 1, 1]
        assert all(p.is_tiled and (p.tilelength, p.tilewidth) == (64, 64) for p in pages)
        assert tif.series[0].is_pyramidal
        for level, page in enumerate(pages):
            np.testing.assert_array_equal(page.asarray(), one_shot(x, level))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(out) as dataset:
            assert dataset.overviews(1) == [2, 4, 8, 16]
            overview = dataset.read(out_shape=(3, 76, 130))  # GDAL picks overview 4
    np.testing.assert_array_equal(np.moveaxis(overview, 0, -1), one_shot(x, 2))


def test_ome_tiff_levels_are_subifds(rgb, tmp_path):
    path, x = rgb
    out = tmp_path / "out.ome.tif"
    assert run(str(path), "-o", str(out), "--levels", "3").exit_code == 0
    with tifffile.TiffFile(out) as tif:
        assert tif.is_ome
        assert len(tif.pages) == 1
        assert len(tif.pages.first.subifds) == 2
        assert "<Pixels" in tif.ome_metadata
        assert 'SizeX="517"' in tif.ome_metadata
        levels = tif.series[0].levels
        assert [level.shape for level in levels] == [(301, 517, 3), (151, 259, 3), (76, 130, 3)]
        for k, level in enumerate(levels):
            np.testing.assert_array_equal(level.asarray(), one_shot(x, k))


def test_deep_zoom_descriptor_and_tile_grid_as_openseadragon_reads_them(rgb, tmp_path):
    path, x = rgb
    out = tmp_path / "out.dzi"
    assert run(str(path), "-o", str(out), "--format", "png").exit_code == 0
    root = ET.parse(out).getroot()
    ns = "{http://schemas.microsoft.com/deepzoom/2008}"
    assert root.tag == f"{ns}Image"
    assert (root.get("Format"), root.get("Overlap"), root.get("TileSize")) == ("png", "1", "254")
    size = root.find(f"{ns}Size")
    width, height = int(size.get("Width")), int(size.get("Height"))
    assert (width, height) == (517, 301)
    # OpenSeadragon's DziTileSource: maxLevel = ceil(log2(max(w, h))); level l is the
    # image scaled by 2**(l - maxLevel), sides rounded up; tile (c, r) spans
    # c*size - overlap*(c > 0) to min((c+1)*size + overlap, level width)
    top = math.ceil(math.log2(max(width, height)))
    folder = tmp_path / "out_files"
    assert sorted(int(p.name) for p in folder.iterdir()) == list(range(top + 1))
    tile, overlap = 254, 1
    for level in range(top + 1):
        k = top - level
        expected = one_shot(x, k)
        lw, lh = math.ceil(width / 2**k), math.ceil(height / 2**k)
        assert expected.shape[:2] == (lh, lw)
        cols, rows = math.ceil(lw / tile), math.ceil(lh / tile)
        names = sorted(p.name for p in (folder / str(level)).iterdir())
        assert names == sorted(f"{c}_{r}.png" for c in range(cols) for r in range(rows))
        for c in range(cols):
            for r in range(rows):
                x0, y0 = c * tile - (overlap if c else 0), r * tile - (overlap if r else 0)
                x1, y1 = min((c + 1) * tile + overlap, lw), min((r + 1) * tile + overlap, lh)
                got = np.asarray(Image.open(folder / str(level) / f"{c}_{r}.png"))
                np.testing.assert_array_equal(got, expected[y0:y1, x0:x1])


def test_deep_zoom_jpeg_tiles_by_default(rgb, tmp_path):
    path, _ = rgb
    assert run(str(path), "-o", str(tmp_path / "a.dzi")).exit_code == 0
    assert ET.parse(tmp_path / "a.dzi").getroot().get("Format") == "jpeg"
    with Image.open(tmp_path / "a_files" / "10" / "0_0.jpeg") as tile:
        assert tile.format == "JPEG"
        assert tile.size == (255, 255)


def test_folder_of_levels_and_rgba_weighted_by_alpha(tmp_path):
    from poolcli.images.engine_route.route import pool_channels
    from poolcli.images.modes import mode_of
    from poolcli.spec.settings import PoolSettings

    x = np.random.default_rng(7).integers(0, 256, (90, 130, 4), dtype=np.uint8)
    x[:20, :20, 3] = 0
    Image.fromarray(x, "RGBA").save(tmp_path / "in.png")
    out = tmp_path / "levels"
    assert run(str(tmp_path / "in.png"), "-o", f"{out}/", "--levels", "4").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png", "2.png", "3.png"]
    for level in range(4):
        got = np.asarray(Image.open(out / f"{level}.png"))
        one = PoolSettings.make(2**level, mode="avg", ceil_mode=True, count_include_pad=False)
        expected = x if level == 0 else pool_channels(x, mode_of("RGBA"), one, [])
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("mode", ["median", "mode", "max"])
def test_other_modes_equal_one_shot(rgb, tmp_path, mode):
    path, x = rgb
    out = tmp_path / "out.tif"
    assert run(str(path), "-o", str(out), "-m", mode, "--memory", "256K").exit_code == 0
    with tifffile.TiffFile(out) as tif:
        for level, page in enumerate(tif.pages):
            np.testing.assert_array_equal(page.asarray(), one_shot(x, level, mode))


def test_label_pyramid_under_the_image_keeps_only_input_labels(rgb, tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Reader

    path, _ = rgb
    image = tmp_path / "img.ome.zarr"
    assert run(str(path), "-o", str(image)).exit_code == 0
    rng = np.random.default_rng(8)
    values = np.array([0, 7, 70000, 4_000_000_000], np.uint32)
    labels = values[rng.integers(0, 4, (301, 517))]
    np.save(tmp_path / "cells.npy", labels)
    cells = str(tmp_path / "cells.npy")
    result = run(cells, "-m", "mode", "--label", "cells", "--image", str(image))
    assert result.exit_code == 0, result.output
    nodes = list(Reader(parse_url(str(image)))())
    label = next(n for n in nodes if any(isinstance(s, Label) for s in n.specs))
    assert label.metadata["name"] == "cells"
    assert zarr.open_group(str(image / "labels"), mode="r").attrs["labels"] == ["cells"]
    attrs = zarr.open_group(str(image / "labels" / "cells"), mode="r").attrs
    assert attrs["image-label"]["source"] == {"image": "../../"}
    for level, data in enumerate(label.data):
        pooled = np.asarray(data)
        assert set(np.unique(pooled)) <= set(values.tolist())
        np.testing.assert_array_equal(pooled, one_shot(labels, level, "mode"))


def test_batch_into_a_folder_with_json_existing_and_dry_run(tmp_path):
    x = np.random.default_rng(9).integers(0, 256, (40, 60), dtype=np.uint8)
    (tmp_path / "in").mkdir()
    Image.fromarray(x).save(tmp_path / "in" / "a.png")
    Image.fromarray(x.T.copy()).save(tmp_path / "in" / "b.jpg")
    out = tmp_path / "out"
    dry = run("-r", str(tmp_path / "in"), "-o", str(out), "--container", "tiff", "--dry-run")
    assert dry.exit_code == 0
    assert not out.exists()
    assert "a.png -> " in dry.stdout
    assert "60x40 -> 1 levels" in dry.stdout
    args = ("-r", str(tmp_path / "in"), "-o", str(out), "--container", "tiff", "--json",
            "--tile-size", "16")  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["status"], r["output"].rsplit("/", 1)[1]) for r in lines] == [
        ("ok", "a.tif"), ("ok", "b.tif")]  # fmt: skip
    assert lines[0]["levels"] == [[60, 40], [30, 20], [15, 10]]
    again = run(*args)
    assert again.exit_code == 1
    assert "exists; pass --overwrite to replace it or --skip-existing to keep it" in again.stderr
    assert run(*args, "--overwrite").exit_code == 0
    assert run(*args, "--skip-existing").exit_code == 0


def test_dry_run_over_existing_outputs_says_planned_skipped_and_refused(tmp_path):
    (tmp_path / "in").mkdir()
    for name, side in (("a", 40), ("b", 24)):
        Image.new("L", (side, side), 7).save(tmp_path / "in" / f"{name}.png")
    out = tmp_path / "out"
    args = ("-r", str(tmp_path / "in"), "-o", str(out), "--container", "ome-tiff")
    assert run(str(tmp_path / "in" / "a.png"), "-o", str(out / "a.ome.tif")).exit_code == 0
    before = (out / "a.ome.tif").read_bytes()
    dry = run(*args, "-n")
    assert dry.exit_code == 1
    planned = f"{tmp_path / 'in' / 'b.png'} -> {out / 'b.ome.tif'}: 24x24 -> 1 levels"
    assert dry.stdout == f"{planned} down to 24x24 (ome-tiff)\n"
    assert dry.stderr.splitlines() == [
        f"poolcli: {tmp_path / 'in' / 'a.png'}: {out / 'a.ome.tif'} exists; "
        "pass --overwrite to replace it or --skip-existing to keep it",
        "poolcli: 1 planned, 0 skipped, 1 failed",
    ]
    skipping = run(*args, "-n", "--skip-existing")
    assert skipping.exit_code == 0
    assert skipping.stderr.splitlines()[-1] == "poolcli: 1 planned, 1 skipped, 0 failed"
    assert sorted(p.name for p in out.iterdir()) == ["a.ome.tif"]
    with tifffile.TiffFile(out / "a.ome.tif") as tif:
        assert tif.series[0].shape == (40, 40)
        assert int(tif.asarray().max()) == 7
    assert (out / "a.ome.tif").read_bytes() == before
    done = run(*args)
    assert done.exit_code == 1
    assert done.stderr.splitlines()[-1] == "poolcli: 1 ok, 0 skipped, 1 failed"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.png"], "names no pyramid: end it with .ome.zarr"),
        (["-o", "x.dzi", "--levels", "3"], "leave out --levels"),
        (["-o", "x.tif", "--tile-size", "100"], "multiples of 16"),
    ],
)
def test_usage_errors_exit_2(rgb, args, message):
    path, _ = rgb
    result = run(str(path), *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_tiff_levels_that_arrive_after_level_zeros_last_tile_are_written(tmp_path):
    # tifffile stops pulling at level 0's last tile; rows of the other levels that
    # come later (the bottom edge's partial windows) must still reach their pages
    import time

    from poolcli.images.pyramids.tiff import TiffPyramid
    from poolcli.images.streams.rows import Facts

    shapes = [(64, 64), (32, 32)]
    level0 = np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)
    level1 = np.full((32, 32), 7, np.uint16)
    with open(tmp_path / "t.tif", "wb") as stream:
        sink = TiffPyramid(
            stream, shapes, np.dtype(np.uint16), tile=16, facts=Facts("NPY", "array"),
            photometric="minisblack", compression="zlib", predictor=False,
        )  # fmt: skip
        sink.add(0, level0)
        time.sleep(0.3)  # the writer thread has taken every level-0 tile by now
        sink.add(1, level1[:16])
        sink.add(1, level1[16:])
        sink.close()
    with tifffile.TiffFile(tmp_path / "t.tif") as tif:
        np.testing.assert_array_equal(tif.pages[0].asarray(), level0)
        np.testing.assert_array_equal(tif.pages[1].asarray(), level1)


@pytest.mark.parametrize(
    ("mode", "extra"), [("max", []), ("median", []), ("avg", ["--linear"]), ("rms", [])]
)
def test_rgba_levels_follow_the_pool_policy(tmp_path, mode, extra):
    # visible pixels only (max, median), linear light, rms: the direct path, through
    # the very policy poolcli pool applies
    from poolcli.images.engine_route.route import pool_channels
    from poolcli.images.modes import mode_of
    from poolcli.spec.settings import PoolSettings

    x = np.random.default_rng(10).integers(0, 256, (50, 70, 4), dtype=np.uint8)
    x[:16, :16, 3] = 0
    Image.fromarray(x, "RGBA").save(tmp_path / "in.png")
    out = tmp_path / "out.ome.zarr"
    assert run(str(tmp_path / "in.png"), "-o", str(out), "-m", mode, "--levels", "4",
               *extra).exit_code == 0  # fmt: skip
    group = zarr.open_group(str(out), mode="r")
    for level in range(1, 4):
        counting = {"count_include_pad": False} if mode in ("avg", "rms") else {}
        one = PoolSettings.make(2**level, mode=mode, ceil_mode=True,
                                linear=bool(extra), **counting)  # fmt: skip
        expected = pool_channels(x, mode_of("RGBA"), one, [])
        np.testing.assert_array_equal(np.moveaxis(group[str(level)][:], 0, -1), expected)


def test_an_animation_or_a_tiff_of_several_images_is_its_first_frame_with_a_note(tmp_path):
    corpus = CORPUS / "chi.gif"
    result = run(str(corpus), "-o", str(tmp_path / "chi.ome.zarr"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        f"poolcli: {corpus}: only the first of its 31 frames is used: a pyramid holds one image"
    )
    with Image.open(corpus) as gif:
        first = np.asarray(gif.convert("RGBA"))
    level0 = zarr.open_group(str(tmp_path / "chi.ome.zarr"), mode="r")["0"]
    assert np.array_equal(np.moveaxis(np.asarray(level0), 0, -1), first)
    pages = tmp_path / "pages.tif"  # three series of one page: streamed, page 0 only
    with tifffile.TiffWriter(pages) as tif:
        for value in (10, 60, 110):
            tif.write(np.full((40, 30), value, np.uint8), photometric="minisblack")
    result = run(str(pages), "-o", str(tmp_path / "pages-pyramid.tif"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == (
        f"poolcli: {pages}: only the first of its 3 frames is used: a pyramid holds one image\n"
    )
    with tifffile.TiffFile(tmp_path / "pages-pyramid.tif") as tif:
        assert np.array_equal(tif.pages[0].asarray(), np.full((40, 30), 10, np.uint8))
