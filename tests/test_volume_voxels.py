"""A TIFF Z stack pooled into a TIFF Z stack keeps its physical voxel size, times the
stride along each axis (the output grid's spacing), whole and in slabs: ImageJ
hyperstacks stay ImageJ (spacing, X/YResolution, unit), OME-TIFFs and ``.ome.tif``
outputs get OME-XML, dtypes ImageJ does not hold get OME-XML, and those neither holds
resolution tags; a stack without a voxel size gets none. Read back with tifffile."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

import poolcli
from poolcli.cli import cli

#: ``--memory``: the whole stack in memory, and slabs of a slice or two.
PATHS = [pytest.param("1G", id="whole"), pytest.param("8K", id="slabs")]
#: (kernel, stride, expected (z, y, x) factors of the voxel size)
GRIDS = [
    pytest.param(("-k", "2x2x2"), (2, 2, 2), id="2x2x2"),
    pytest.param(("-k", "2x2x1"), (1, 2, 2), id="2x2x1-depth-kept"),
    pytest.param(("-k", "3x3x3", "-s", "2x2x2"), (2, 2, 2), id="3x3x3-stride-2"),
]
STACK = np.random.default_rng(11).integers(0, 255, (12, 40, 56), dtype=np.uint8)


def run(*args: object):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], catch_exceptions=False)


def pooled(source, out, *args: object, memory: str) -> dict:
    done = run(source, *args, "--memory", memory, "-o", out, "--json")
    assert done.exit_code == 0, done.output
    told = json.loads(done.stdout)
    assert told["streamed"] is (memory == "8K")
    return told


def resolution(page, tag: str) -> float:
    """A page's pixel size from its X/YResolution tag (pixels per unit)."""
    numerator, denominator = page.tags[tag].value
    return denominator / numerator


def ome_pixels(path) -> dict:
    with tifffile.TiffFile(path) as tif:
        assert tif.is_ome
        assert not tif.is_imagej
        return tifffile.xml2dict(tif.ome_metadata)["OME"]["Image"]["Pixels"]


def imagej_stack(path, x=STACK, size=(1.5, 0.5, 0.25), **metadata) -> None:
    """An ImageJ hyperstack of (z, y, x) voxel ``size`` in µm (ImageJ's ``um``)."""
    z, y, xs = size
    tifffile.imwrite(path, x, imagej=True, resolution=(1 / xs, 1 / y),
                     metadata={"spacing": z, "unit": "um", "axes": "ZYX", **metadata})  # fmt: skip


@pytest.mark.parametrize("memory", PATHS)
@pytest.mark.parametrize(("grid", "factors"), GRIDS)
def test_an_imagej_stack_stays_imagej_with_its_voxel_size_times_the_stride(
    tmp_path, memory, grid, factors
):
    source, out = tmp_path / "ij.tif", tmp_path / "out.tif"
    imagej_stack(source)
    told = pooled(source, out, *grid, "-m", "max", memory=memory)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_imagej
        assert not tif.is_ome
        assert tif.series[0].axes == "ZYX"
        assert tif.series[0].shape == tuple(reversed(told["out_size"]))
        metadata = tif.imagej_metadata
        assert metadata["spacing"] == 1.5 * factors[0]
        assert metadata["unit"] == "um"
        page = tif.pages.first
        assert resolution(page, "YResolution") == 0.5 * factors[1]
        assert resolution(page, "XResolution") == 0.25 * factors[2]
        assert page.tags["ResolutionUnit"].value == 1  # NONE: ImageJ's unit is ``unit``


@pytest.mark.parametrize("memory", PATHS)
@pytest.mark.parametrize(("grid", "factors"), GRIDS)
def test_an_ome_tiff_stack_keeps_its_physical_sizes_and_units_times_the_stride(
    tmp_path, memory, grid, factors
):
    source, out = tmp_path / "stack.ome.tif", tmp_path / "out.tif"  # a plain name: OME kept
    tifffile.imwrite(source, STACK, ome=True, metadata={
        "axes": "ZYX", "PhysicalSizeX": 0.25, "PhysicalSizeY": 0.5, "PhysicalSizeZ": 750,
        "PhysicalSizeZUnit": "nm"})  # fmt: skip
    pooled(source, out, *grid, "-m", "avg", memory=memory)
    pixels = ome_pixels(out)
    assert (pixels["SizeZ"], pixels["SizeY"], pixels["SizeX"]) == tifffile.imread(out).shape
    assert pixels["PhysicalSizeZ"] == 750 * factors[0]
    assert pixels["PhysicalSizeY"] == 0.5 * factors[1]
    assert pixels["PhysicalSizeX"] == 0.25 * factors[2]
    assert pixels["PhysicalSizeZUnit"] == "nm"
    assert pixels["PhysicalSizeXUnit"] == pixels["PhysicalSizeYUnit"] == "µm"
    with tifffile.TiffFile(out) as tif:  # and per centimetre for readers of TIFF tags
        page = tif.pages.first
        assert page.tags["ResolutionUnit"].value == 3
        assert resolution(page, "XResolution") == pytest.approx(0.25e-4 * factors[2], rel=1e-9)


@pytest.mark.parametrize("memory", PATHS)
def test_an_ome_tif_name_makes_an_imagej_stack_an_ome_tiff(tmp_path, memory):
    source, out = tmp_path / "ij.tif", tmp_path / "out.ome.tif"
    imagej_stack(source)
    pooled(source, out, "-k", "2x2x1", memory=memory)
    pixels = ome_pixels(out)
    sizes = [pixels[f"PhysicalSize{a}"] for a in "ZYX"]
    assert sizes == [1.5, 1.0, 0.5]
    assert {pixels[f"PhysicalSize{a}Unit"] for a in "ZYX"} == {"µm"}  # ImageJ's um, named


@pytest.mark.parametrize("memory", PATHS)
def test_an_rgb_imagej_stack_stays_an_rgb_hyperstack_with_its_voxel_size(tmp_path, memory):
    rgb = np.random.default_rng(12).integers(0, 255, (12, 40, 56, 3), dtype=np.uint8)
    source, out = tmp_path / "rgb.tif", tmp_path / "out.tif"
    tifffile.imwrite(source, rgb, imagej=True, photometric="rgb", resolution=(4.0, 4.0),
                     metadata={"spacing": 2.0, "unit": "um", "axes": "ZYXS"})  # fmt: skip
    pooled(source, out, "-k", "2x2x2", "-m", "max", memory=memory)
    with tifffile.TiffFile(out) as tif:
        assert tif.is_imagej
        assert tif.series[0].axes == "ZYXS"
        assert tif.imagej_metadata["spacing"] == 4.0
        assert resolution(tif.pages.first, "XResolution") == 0.5
        np.testing.assert_array_equal(tif.asarray(), poolcli.pool(rgb, 2, axes=(0, 1, 2)))


def test_imagej_units_per_axis_are_kept(tmp_path):
    source, out = tmp_path / "ij.tif", tmp_path / "out.tif"
    imagej_stack(source, zunit="nm")
    pooled(source, out, "-k", "2x2x2", memory="1G")
    with tifffile.TiffFile(out) as tif:
        metadata = tif.imagej_metadata
    assert (metadata["unit"], metadata["zunit"], metadata["spacing"]) == ("um", "nm", 3.0)
    assert "yunit" not in metadata  # y is in ``unit``, as x


@pytest.mark.parametrize("memory", PATHS)
def test_a_uint32_label_stack_is_an_ome_tiff_with_its_voxel_size(tmp_path, memory):
    labels = np.random.default_rng(13).choice(
        np.array([3, 70_000, 4_000_000_000], np.uint32), (12, 40, 56)
    )
    source, out = tmp_path / "labels.tif", tmp_path / "out.tif"
    sizes = {"PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3, "PhysicalSizeZ": 1.2}
    tifffile.imwrite(source, labels, ome=True, metadata={"axes": "ZYX", **sizes})
    pooled(source, out, "-k", "2x2x2", "-m", "mode", memory=memory)
    pixels = ome_pixels(out)
    assert pixels["Type"] == "uint32"
    assert [pixels[f"PhysicalSize{a}"] for a in "ZYX"] == [2.4, 0.6, 0.6]
    expected = poolcli.pool(labels, 2, mode="mode", axes=(0, 1, 2))
    np.testing.assert_array_equal(tifffile.imread(out), expected)


@pytest.mark.parametrize("memory", PATHS)
def test_a_dtype_imagej_cannot_hold_turns_an_imagej_stack_into_an_ome_tiff(tmp_path, memory):
    source, out = tmp_path / "ij.tif", tmp_path / "out.tif"
    imagej_stack(source, STACK.astype(np.uint16) * 300)
    pooled(source, out, "-k", "2x2x2", "-m", "max", "--dtype", "uint32", memory=memory)
    pixels = ome_pixels(out)  # not ImageJ: its stacks are 8, 16 or 32-bit float
    assert pixels["Type"] == "uint32"
    assert [pixels[f"PhysicalSize{a}"] for a in "ZYX"] == [3.0, 1.0, 0.5]
    assert {pixels[f"PhysicalSize{a}Unit"] for a in "ZYX"} == {"µm"}


@pytest.mark.parametrize("memory", PATHS)
def test_sums_in_uint64_keep_the_voxel_size_in_tags_and_say_so(tmp_path, memory):
    source, out = tmp_path / "ij.tif", tmp_path / "out.tif"
    imagej_stack(source)
    done = run(source, "-k", "2x2x2", "-m", "sum", "--memory", memory, "-o", out)
    assert done.exit_code == 0, done.output
    assert "a uint64 Z stack is neither an ImageJ nor an OME-TIFF type" in done.stderr
    with tifffile.TiffFile(out) as tif:
        assert not tif.is_imagej
        assert not tif.is_ome
        assert tif.series[0].dtype == np.uint64
        page = tif.pages.first
        assert page.tags["ResolutionUnit"].value == 3  # centimetre: 0.5 and 1 µm pixels
        assert page.tags["XResolution"].value == (20_000, 1)
        assert page.tags["YResolution"].value == (10_000, 1)
        (shaped,) = tif.shaped_metadata
    assert [shaped[f"PhysicalSize{a}"] for a in "ZYX"] == [3.0, 1.0, 0.5]
    assert shaped["PhysicalSizeZUnit"] == "µm"


def test_a_unit_ome_cannot_name_is_left_out_with_a_note(tmp_path):
    source, out = tmp_path / "ij.tif", tmp_path / "out.ome.tif"
    imagej_stack(source, unit="furlong")
    done = run(source, "-k", "2x2x2", "-o", out)
    assert done.exit_code == 0, done.output
    assert "unit 'furlong' has no OME name: not written" in done.stderr
    assert not any(key.startswith("PhysicalSize") for key in ome_pixels(out))


@pytest.mark.parametrize("memory", PATHS)
def test_each_stack_of_a_batch_gets_its_own_voxel_size_and_none_without(tmp_path, memory):
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    imagej_stack(inputs / "calibrated.tif")
    tifffile.imwrite(inputs / "plain.tif", STACK, photometric="minisblack")
    tifffile.imwrite(inputs / "imagej.tif", STACK, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(inputs / "ome.tif", STACK, ome=True, metadata={"axes": "ZYX"})
    done = run(inputs, "-r", "-k", "2x2x2", "--memory", memory, "-o", outputs, "-j", "1")
    assert done.exit_code == 0, done.output
    with tifffile.TiffFile(outputs / "calibrated.tif") as tif:
        assert tif.imagej_metadata["spacing"] == 3.0
    for name in ("plain.tif", "imagej.tif", "ome.tif"):  # no size in: none invented
        with tifffile.TiffFile(outputs / name) as tif:
            assert not tif.is_imagej
            assert not tif.is_ome
            assert tif.shaped_metadata == ({"shape": [6, 20, 28], "axes": "ZYX"},)
            page = tif.pages.first
            assert page.tags["XResolution"].value == page.tags["YResolution"].value == (1, 1)


def test_info_says_the_voxel_size_and_what_pooling_makes_of_it(tmp_path):
    source = tmp_path / "stack.tif"
    imagej_stack(source)
    done = CliRunner().invoke(cli, ["info", str(source), "-k", "2x2x1", "--json"])
    assert done.exit_code == 0, done.output
    facts = json.loads(done.stdout)
    assert facts["voxel"] == {"size": [0.25, 0.5, 1.5], "unit": ["um", "um", "um"]}
    assert facts["pooled_voxel"] == {"size": [0.5, 1.0, 1.5], "unit": ["um", "um", "um"]}
    human = CliRunner().invoke(cli, ["info", str(source)]).output
    assert "  voxel: 0.25 um x 0.5 um x 1.5 um (x, y, z)" in human.splitlines()
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, STACK)
    assert "voxel" not in json.loads(CliRunner().invoke(cli, ["info", str(plain), "--json"]).stdout)


@pytest.mark.parametrize("memory", PATHS)
def test_a_z_stack_past_the_classic_tiff_limit_is_a_bigtiff_with_ome_xml(
    tmp_path, memory, monkeypatch
):
    """tifffile picks BigTIFF by itself only for uncompressed arrays: poolcli asks for
    it past 4 GB (scaled down here), compressed and streamed alike, and writes the
    voxel size as OME-XML, since ImageJ's format is classic TIFF only."""
    from poolcli.images.streams import writers

    monkeypatch.setattr(writers, "BIGTIFF_BYTES", 1000)
    imagej_stack(tmp_path / "s.tif")
    done = run(tmp_path / "s.tif", "-k", "2x2x2", "--memory", memory, "-o", tmp_path / "o.tif")
    assert done.exit_code == 0, done.output
    assert "the Z stack is a BigTIFF (over 4 GB), which ImageJ's format is not" in done.stderr
    with tifffile.TiffFile(tmp_path / "o.tif") as tif:
        assert tif.is_bigtiff
        assert not tif.is_imagej
        expected = poolcli.pool(STACK, 2, axes=(0, 1, 2), mode="avg")
        np.testing.assert_array_equal(tif.series[0].asarray(), expected)
    pixels = ome_pixels(tmp_path / "o.tif")
    sizes = (pixels["PhysicalSizeZ"], pixels["PhysicalSizeY"], pixels["PhysicalSizeX"])
    assert tuple(map(float, sizes)) == (3.0, 1.0, 0.5)


def ome_zarr_volume(path, units=("micrometer",) * 3, scale=(2.0, 0.5, 0.25)):
    """An NGFF 0.4 image of one level, ``zyx``, written with zarr-python alone."""
    import zarr

    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    level = group.create_array("0", shape=STACK.shape, dtype=STACK.dtype, chunks=(4, 40, 56))
    level[...] = STACK
    axes = [{"name": n, "type": "space", **({"unit": u} if u else {})}
            for n, u in zip("zyx", units, strict=True)]  # fmt: skip
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": scale}]}]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]


@pytest.mark.parametrize("memory", PATHS)
def test_an_ome_zarr_volume_s_scale_becomes_the_z_stack_s_voxel_size(tmp_path, memory):
    ome_zarr_volume(tmp_path / "v.ome.zarr")
    pooled(tmp_path / "v.ome.zarr", tmp_path / "o.tif", "-k", "2x2x2", memory=memory)
    pixels = ome_pixels(tmp_path / "o.tif")
    sizes = (pixels["PhysicalSizeZ"], pixels["PhysicalSizeY"], pixels["PhysicalSizeX"])
    assert tuple(map(float, sizes)) == (4.0, 1.0, 0.5)
    assert {pixels[f"PhysicalSize{a}Unit"] for a in "XYZ"} == {"µm"}
    expected = poolcli.pool(STACK, 2, axes=(0, 1, 2), mode="avg")
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "o.tif"), expected)


def test_an_ome_zarr_scale_in_no_unit_gives_no_voxel_size_and_no_note(tmp_path):
    ome_zarr_volume(tmp_path / "v.ome.zarr", units=(None, None, None))
    done = run(tmp_path / "v.ome.zarr", "-k", "2x2x2", "-o", tmp_path / "o.tif")
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    with tifffile.TiffFile(tmp_path / "o.tif") as tif:
        assert not tif.is_ome
        assert tif.series[0].shape == (6, 20, 28)


def test_a_folder_pyramid_s_z_stacks_carry_each_level_s_voxel_size(tmp_path):
    imagej_stack(tmp_path / "s.tif")  # (z, y, x) 1.5, 0.5, 0.25 µm
    done = CliRunner().invoke(cli, ["pyramid", str(tmp_path / "s.tif"), "--factors", "2x2x1",
                                    "--levels", "3", "-o", f"{tmp_path / 'levels'}/"],
                              catch_exceptions=False)  # fmt: skip
    assert done.exit_code == 0, done.output
    for k in range(3):
        pixels = ome_pixels(tmp_path / "levels" / f"{k}.tif")
        sizes = (pixels["PhysicalSizeZ"], pixels["PhysicalSizeY"], pixels["PhysicalSizeX"])
        assert tuple(map(float, sizes)) == (1.5, 0.5 * 2**k, 0.25 * 2**k)
        assert pixels["PhysicalSizeXUnit"] == "µm"
