"""``poolcli pyramid --factors WxHxD``: volume pyramids, read back by ome-zarr-py, zarr
and tifffile, every level equal to one-shot pooling of level 0 by the loop reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_nd import reference_pool_nd

from poolcli.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["pyramid", *args], catch_exceptions=False)


def one_shot(x: np.ndarray, factors: tuple[int, int, int], level: int, mode: str) -> np.ndarray:
    """Level ``level`` by the loop reference: one ``f**level`` window, ceil mode."""
    if level == 0:
        return x
    window = tuple(f**level for f in factors)
    channel_axis = 3 if x.ndim == 4 and mode == "mode" else None
    return reference_pool_nd(x, window, window, mode=mode, ceil_mode=True,
                             count_include_pad=False, axes=(0, 1, 2),
                             channel_axis=channel_axis)  # fmt: skip


def zarr_levels(path) -> list[np.ndarray]:
    group = zarr.open_group(str(path), mode="r")
    (multiscales,) = group.attrs.asdict()["multiscales"]
    return [np.asarray(group[d["path"]][...]) for d in multiscales["datasets"]]


SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_every_level_equals_the_loop_reference(tmp_path, data):
    depth, height, width = (data.draw(st.integers(1, 9), label=a) for a in "dhw")
    factors = tuple(data.draw(st.integers(1, 3), label=f"f{a}") for a in "dhw")
    if max(factors) < 2:
        factors = (2, *factors[1:])
    mode = data.draw(st.sampled_from(["avg", "max", "min", "median", "mode"]))
    dtype = data.draw(st.sampled_from([np.uint8, np.uint16, np.int32, np.float32]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    top = 4 if mode == "mode" else 200
    x = rng.integers(0, top, (depth, height, width)).astype(dtype)
    source, out = tmp_path / "v.npy", tmp_path / "v.ome.zarr"
    np.save(source, x)
    w, h, d = factors[2], factors[1], factors[0]
    done = run(str(source), "--layout", "dhw", "--factors", f"{w}x{h}x{d}", "-m", mode,
               "--levels", "3", "-o", str(out), "--overwrite")  # fmt: skip
    assert done.exit_code == 0, done.output
    levels = zarr_levels(out)
    assert 1 <= len(levels) <= 3
    for k, level in enumerate(levels):
        expected = one_shot(x, factors, k, mode)
        assert level.dtype == x.dtype
        if x.dtype.kind == "f" and mode == "avg":
            np.testing.assert_allclose(level, expected, rtol=1e-6)
        else:
            np.testing.assert_array_equal(level, expected)


def test_label_stack_read_by_ome_zarr_py_with_scales_and_only_input_labels(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    rng = np.random.default_rng(3)
    labels = rng.choice(np.array([7, 1000, 65536, 4_000_000_000], np.uint32), (37, 70, 90))
    source, out = tmp_path / "cells.tif", tmp_path / "cells.ome.zarr"
    # an OME-TIFF Z stack: 0.3 µm voxels in plane, 1.2 µm between planes
    tifffile.imwrite(source, labels, metadata={"axes": "ZYX", "PhysicalSizeX": 0.3,
                     "PhysicalSizeY": 0.3, "PhysicalSizeZ": 1.2}, ome=True)  # fmt: skip
    done = run(str(source), "--factors", "2x2x2", "-m", "mode", "--tile-size", "16",
               "-o", str(out))  # fmt: skip
    assert done.exit_code == 0, done.output
    (image,) = [n for n in Reader(parse_url(str(out)))() if n.specs]
    assert any(isinstance(spec, Multiscales) for spec in image.specs)
    shapes = [tuple(level.shape) for level in image.data]
    assert shapes == [(37, 70, 90), (19, 35, 45), (10, 18, 23), (5, 9, 12)]
    axes = image.metadata["axes"]
    assert [a["name"] for a in axes] == ["z", "y", "x"]
    assert {a["unit"] for a in axes} == {"micrometer"}
    scales = [t[0]["scale"] for t in image.metadata["coordinateTransformations"]]
    assert scales == [[1.2 * 2**k, 0.3 * 2**k, 0.3 * 2**k] for k in range(4)]
    shifts = [t[1]["translation"] for t in image.metadata["coordinateTransformations"]]
    expected = [[v * (2**k - 1) / 2 for v in (1.2, 0.3, 0.3)] for k in range(4)]
    np.testing.assert_allclose(shifts, expected)  # centred on the voxels each pools
    for k, level in enumerate(image.data):
        values = np.asarray(level)
        assert set(np.unique(values)) <= {7, 1000, 65536, 4_000_000_000}
        if k < 3:  # the loop reference is slow: the last level's 16^3 windows are left out
            np.testing.assert_array_equal(values, one_shot(labels, (2, 2, 2), k, "mode"))
    chunks = zarr.open_group(str(out), mode="r")["0"].chunks
    assert chunks == (16, 16, 16)


def test_anisotropic_stack_keeps_its_depth_and_imagej_spacing(tmp_path):
    rng = np.random.default_rng(4)
    stack = rng.integers(0, 256, (6, 300, 260), dtype=np.uint8)
    source, out = tmp_path / "ij.tif", tmp_path / "ij.ome.zarr"
    tifffile.imwrite(source, stack, imagej=True, resolution=(2.0, 2.0),
                     metadata={"spacing": 2.5, "unit": "um", "axes": "ZYX"})  # fmt: skip
    done = run(str(source), "--factors", "2x2x1", "-o", str(out), "--json")
    assert done.exit_code == 0, done.output
    told = json.loads(done.output)
    assert told["in_size"] == [260, 300, 6]
    assert told["levels"] == [[260, 300, 6], [130, 150, 6]]
    group = zarr.open_group(str(out), mode="r")
    (multiscales,) = group.attrs.asdict()["multiscales"]
    scales = [d["coordinateTransformations"][0]["scale"] for d in multiscales["datasets"]]
    assert scales == [[2.5, 0.5, 0.5], [2.5, 1.0, 1.0]]
    assert group["1"].chunks == (1, 150, 130)
    level1 = np.asarray(group["1"][...])
    np.testing.assert_array_equal(level1, one_shot(stack, (1, 2, 2), 1, "avg"))


def test_folder_of_z_stacks_and_npy_levels(tmp_path):
    rng = np.random.default_rng(5)
    volume = rng.integers(0, 1000, (10, 12, 14, 3)).astype(np.uint16)  # dhwc: RGB voxels
    source = tmp_path / "rgb.npy"
    np.save(source, volume)
    out = tmp_path / "levels"
    done = run(str(source), "--layout", "dhwc", "-m", "max", "--levels", "3", "-o", f"{out}/")
    assert done.exit_code == 0, done.output
    for k in range(3):
        with tifffile.TiffFile(out / f"{k}.tif") as tif:
            pages = tif.series[0].asarray()
        np.testing.assert_array_equal(pages, one_shot(volume, (2, 2, 2), k, "max"))
    out_npy = tmp_path / "npy"
    done = run(str(source), "--layout", "dhwc", "-m", "mode", "--levels", "2", "--format",
               "npy", "-o", f"{out_npy}/")  # fmt: skip
    assert done.exit_code == 0, done.output
    np.testing.assert_array_equal(
        np.load(out_npy / "1.npy"), one_shot(volume, (2, 2, 2), 1, "mode")
    )


def test_channels_first_volume_becomes_czyx(tmp_path):
    volume = np.arange(2 * 4 * 6 * 8, dtype=np.float32).reshape(2, 4, 6, 8)  # cdhw
    source, out = tmp_path / "c.npy", tmp_path / "c.ome.zarr"
    np.save(source, volume)
    done = run(str(source), "--layout", "cdhw", "--levels", "2", "-o", str(out))
    assert done.exit_code == 0, done.output
    group = zarr.open_group(str(out), mode="r")
    (multiscales,) = group.attrs.asdict()["multiscales"]
    assert [a["name"] for a in multiscales["axes"]] == ["c", "z", "y", "x"]
    level1 = np.asarray(group["1"][...])
    expected = one_shot(np.moveaxis(volume, 0, -1), (2, 2, 2), 1, "avg")
    np.testing.assert_allclose(np.moveaxis(level1, 0, -1), expected, rtol=1e-6)


def test_dry_run_gives_every_level_from_the_header(tmp_path):
    source = tmp_path / "v.tif"
    tifffile.imwrite(source, np.zeros((20, 300, 260), np.uint8), metadata={"axes": "ZYX"})
    done = run(str(source), "--factors", "2x2x2", "-o", str(tmp_path / "v.ome.zarr"),
               "--dry-run")  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.output.strip().endswith("260x300x20 -> 4 levels down to 33x38x3 (ome-zarr)")
    assert not (tmp_path / "v.ome.zarr").exists()


@pytest.mark.parametrize(
    ("args", "code", "said"),
    [
        (["--factors", "2x2x2", "-o", "{tmp}/v.tif"], 2, "a volume pyramid is written as OME-Zarr"),
        (["--factors", "2x2x2", "-o", "{tmp}/v.dzi"], 2, "not dzi"),
        (["--factors", "3x3", "-o", "{tmp}/v.ome.zarr"], 2, "are for volumes: give WxHxD"),
        (["--factors", "1x1x1", "-o", "{tmp}/v.ome.zarr"], 2, "one of them 2 or more"),
        (["--factors", "2x2x2", "--linear", "-o", "{tmp}/v.ome.zarr"], 2, "linear light"),
        (["--factors", "2x2x2", "--format", "png", "-o", "{tmp}/out/"], 1, "tif (Z stacks) or npy"),
    ],
)
def test_volume_pyramids_refuse_what_they_cannot_make(tmp_path, args, code, said):
    source = tmp_path / "v.tif"
    tifffile.imwrite(source, np.zeros((4, 8, 8), np.uint8), photometric="minisblack")
    done = run(str(source), *[a.format(tmp=tmp_path) for a in args])
    assert done.exit_code == code, done.output
    assert said in done.output
    assert "Traceback" not in done.output
    assert not list(tmp_path.glob("v.ome.zarr*"))
    assert not (tmp_path / "v.dzi").exists()


def test_an_image_of_one_plane_is_no_volume(tmp_path):
    from PIL import Image

    source = tmp_path / "flat.png"
    Image.new("L", (8, 8)).save(source)
    done = run(str(source), "--factors", "2x2x2", "-o", str(tmp_path / "v.ome.zarr"))
    assert done.exit_code == 1
    lines = [line for line in done.output.splitlines() if line]
    assert len(lines) == 1
    assert "a volume pyramid reads a TIFF Z stack" in lines[0]


def test_label_volume_written_into_its_image(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Reader

    rng = np.random.default_rng(6)
    stack = rng.integers(0, 256, (9, 20, 24), dtype=np.uint8)
    labels = (stack > 128).astype(np.uint16) * 3
    np.save(tmp_path / "img.npy", stack)
    np.save(tmp_path / "lab.npy", labels)
    image = tmp_path / "img.ome.zarr"
    assert run(str(tmp_path / "img.npy"), "--layout", "dhw", "--levels", "2",
               "-o", str(image)).exit_code == 0  # fmt: skip
    done = run(str(tmp_path / "lab.npy"), "--layout", "dhw", "-m", "mode", "--levels", "2",
               "--label", "mask", "--image", str(image))  # fmt: skip
    assert done.exit_code == 0, done.output
    nodes = list(Reader(parse_url(str(image)))())
    (label,) = [n for n in nodes if any(isinstance(s, Label) for s in n.specs)]
    assert [tuple(d.shape) for d in label.data] == [(9, 20, 24), (5, 10, 12)]
    np.testing.assert_array_equal(np.asarray(label.data[1]), one_shot(labels, (2, 2, 2), 1, "mode"))
