"""Volumes larger than ``--memory``: .npy and Zarr volumes pooled in slabs of depth
slices into .npy, Zarr and multi-page TIFF, byte-equal to the whole volume's result,
read back by NumPy, zarr and tifffile; peak memory far below the volume's size."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from processes import peak_rss
from reference_nd import reference_pool_nd

import poolcli
from poolcli.cli import cli

TINY = ("--memory", "8K")  # slabs of a slice or two of these volumes


def run(*args: object):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], catch_exceptions=False)


def read(path) -> np.ndarray:
    name = str(path)
    if name.endswith(".npy"):
        return np.load(name)
    if name.endswith(".zarr"):
        return np.asarray(zarr.open(name, mode="r")[...])
    return tifffile.imread(name)


SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=25, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_slabs_equal_the_whole_volume(tmp_path, data):
    depth = data.draw(st.integers(2, 14))
    channels = data.draw(st.sampled_from([(), (3,)]))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).integers(
        0, 4, (depth, 40, 50, *channels)).astype(np.uint16)  # fmt: skip
    np.save(tmp_path / "v.npy", x)
    mode = data.draw(st.sampled_from(["avg", "max", "median", "mode", "sum"]))
    k, s = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    args = ["-k", f"2x2x{k}", "-s", f"2x2x{s}", "-m", mode, "--layout",
            "dhwc" if channels else "dhw"]  # fmt: skip
    if data.draw(st.booleans()):
        args += ["--ceil-mode"]
    if data.draw(st.booleans()) and k == s:
        args += ["--repeat", "2"]
    out = data.draw(st.sampled_from(["o.npy", "o.zarr", "o.tif"]))
    if out == "o.tif" and mode == "sum":
        out = "o.npy"  # 64-bit sums: TIFF holds them, but keep the pages small
    whole = run(tmp_path / "v.npy", *args, "-o", tmp_path / f"w_{out}", "--overwrite")
    if whole.exit_code != 0:
        assert "larger than" in whole.output  # no window fits this depth
        return
    slabbed = run(tmp_path / "v.npy", *args, *TINY, "-o", tmp_path / f"s_{out}", "--overwrite",
                  "--json")  # fmt: skip
    assert slabbed.exit_code == 0, slabbed.output
    assert json.loads(slabbed.stdout)["streamed"] is True
    expected, got = read(tmp_path / f"w_{out}"), read(tmp_path / f"s_{out}")
    assert got.dtype == expected.dtype
    assert got.tobytes() == expected.tobytes()


def test_a_zarr_volume_in_slabs_against_the_loop_reference(tmp_path):
    x = np.random.default_rng(1).integers(0, 255, (13, 30, 26)).astype(np.uint8)
    source = tmp_path / "v.zarr"
    store = zarr.create_array(str(source), shape=x.shape, dtype=x.dtype, chunks=(4, 16, 16))
    store[...] = x
    out = tmp_path / "o.zarr"
    done = run(source, "-k", "3x3x3", "-s", "2", "-p", "1", "-m", "avg", *TINY, "-o", out, "-v")
    assert done.exit_code == 0, done.output
    assert "streamed in slabs of" in done.stderr
    expected = reference_pool_nd(x, 3, 2, 1, mode="avg", axes=(0, 1, 2))
    np.testing.assert_array_equal(read(out), expected)
    assert zarr.open(str(out), mode="r").chunks[0] <= 7  # chunks of a few slices


def test_a_tiff_z_stack_written_from_slabs_reads_as_pages(tmp_path):
    x = np.random.default_rng(2).integers(0, 255, (9, 64, 48, 3)).astype(np.uint8)  # RGB voxels
    np.save(tmp_path / "v.npy", x)
    out = tmp_path / "o.tif"
    done = run(tmp_path / "v.npy", "--layout", "dhwc", "-k", "2x2x3", "-m", "max", *TINY,
               "-o", out, "-O", "compression=tiff_lzw")  # fmt: skip
    assert done.exit_code == 0, done.output
    with tifffile.TiffFile(out) as tif:
        assert len(tif.pages) == 3
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.RGB
        assert tif.pages[0].compression == tifffile.COMPRESSION.LZW
        pages = tif.series[0].asarray()
    expected = poolcli.pool(x, (3, 2, 2), mode="max", axes=(0, 1, 2))
    np.testing.assert_array_equal(pages, expected)


def test_channels_first_volumes_are_pooled_whole(tmp_path):
    x = np.random.default_rng(3).integers(0, 9, (2, 6, 20, 20)).astype(np.uint8)  # cdhw
    np.save(tmp_path / "v.npy", x)
    done = run(tmp_path / "v.npy", "-k", "2x2x2", *TINY, "-o", tmp_path / "o.npy", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["streamed"] is False
    np.testing.assert_array_equal(
        np.load(tmp_path / "o.npy"), poolcli.pool(x, 2, axes=(1, 2, 3), mode="avg")
    )


@pytest.mark.slow
def test_a_volume_twice_the_budget_streams_in_bounded_memory(tmp_path):
    x = np.zeros((64, 512, 512), np.float64)  # 128 MB
    x[::3, ::5, ::7] = 1.0
    np.save(tmp_path / "big.npy", x)
    del x
    args = ("-k", "2x2x2", "-m", "avg")
    streamed = peak_rss(tmp_path / "big.npy", *args, "-o", tmp_path / "a.npy", "--memory", "16M")
    whole = peak_rss(tmp_path / "big.npy", *args, "-o", tmp_path / "b.npy", "--memory", "1G")
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    assert whole - streamed > 100 << 20, (whole, streamed)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ome-zarr-py's own
@pytest.mark.parametrize("memory", ["1G", "8K"])  # whole, and in slabs
def test_an_ome_zarr_volume_stays_ome_zarr_with_its_voxel_sizes_scaled(tmp_path, memory):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Multiscales, Reader

    x = np.random.default_rng(4).integers(0, 255, (10, 24, 30)).astype(np.uint8)
    source = tmp_path / "v.ome.zarr"  # NGFF 0.4: 2 µm between slices, 0.5 µm pixels
    root = zarr.open_group(str(source), mode="w", zarr_format=2)
    root.create_array("0", data=x, chunks=(4, 16, 16))
    axes = [{"name": a, "type": "space", "unit": "micrometer"} for a in "zyx"]
    placed = [{"type": "scale", "scale": [2.0, 0.5, 0.5]}]
    root.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": placed}]}]  # fmt: skip
    info = CliRunner().invoke(cli, ["info", str(source)])
    assert "size: 30x24" in info.stdout  # a slice's width x height
    out = tmp_path / "o.ome.zarr"
    done = run(source, "-k", "2x2x2", "-m", "max", "--memory", memory, "-o", out, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["streamed"] is (memory == "8K")
    (node,) = [n for n in Reader(parse_url(str(out)))() if n.specs]
    assert any(isinstance(spec, Multiscales) for spec in node.specs)
    assert [a["name"] for a in node.metadata["axes"]] == ["z", "y", "x"]
    (placed,) = node.metadata["coordinateTransformations"]
    assert placed[0] == {"type": "scale", "scale": [4.0, 1.0, 1.0]}
    # each voxel's centre is its window's: half a voxel of the input in
    assert placed[1] == {"type": "translation", "translation": [1.0, 0.25, 0.25]}
    expected = poolcli.pool(x, 2, mode="max", axes=(0, 1, 2))
    np.testing.assert_array_equal(np.asarray(node.data[0]), expected)


def _stacks(tmp_path):
    rng = np.random.default_rng(6)
    grey = rng.integers(0, 255, (12, 40, 56), dtype=np.uint8)
    rgb = rng.integers(0, 255, (12, 40, 56, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "plain.tif", grey, photometric="minisblack")
    tifffile.imwrite(tmp_path / "imagej.tif", grey, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "ome.tif", grey, ome=True, metadata={"axes": "ZYX"},
                     compression="zlib", tile=(16, 16))  # fmt: skip
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    return {"plain.tif": grey, "imagej.tif": grey, "ome.tif": grey, "rgb.tif": rgb}


@pytest.mark.parametrize("name", ["plain.tif", "imagej.tif", "ome.tif", "rgb.tif"])
def test_tiff_z_stacks_stream_page_by_page(tmp_path, name):
    x = _stacks(tmp_path)[name]
    out = tmp_path / "out.npy"
    done = run(tmp_path / name, "-k", "2x2x3", "-m", "median", *TINY, "-o", out, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["streamed"] is True
    expected = poolcli.pool(x, (3, 2, 2), mode="median", axes=(0, 1, 2))
    np.testing.assert_array_equal(np.load(out), expected)


def test_a_hyperstack_of_channel_pages_is_read_whole(tmp_path):
    x = np.random.default_rng(7).integers(0, 255, (6, 2, 32, 40), dtype=np.uint8)  # ZCYX
    tifffile.imwrite(tmp_path / "zc.tif", x, imagej=True, metadata={"axes": "ZCYX"})
    out = tmp_path / "out.npy"
    done = run(tmp_path / "zc.tif", "-k", "2x2x2", "-m", "max", *TINY, "-o", out, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["streamed"] is False
    channels_last = np.moveaxis(x, 1, -1)
    np.testing.assert_array_equal(np.load(out), poolcli.pool(channels_last, 2, axes=(0, 1, 2)))
