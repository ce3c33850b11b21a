"""Streamed files: TIFF, .npy and Zarr pooled in bands through real `poolcli` processes.

A tiny ``--memory`` makes small files stream with bands of a few rows, so every
seam is crossed; results are read back with tifffile, Pillow, OpenCV and zarr and
compared with the whole-image path (the same command with the default budget) or
with ``poolcli.pool`` on the whole array.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import tifffile
import zarr
from PIL import Image
from processes import peak_rss

import poolcli

TINY = ["--memory", "4K"]


def run(*args: object, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "poolcli", "pool", *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def image(shape: tuple[int, ...], dtype: type = np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.random(shape).astype(dtype)
    return rng.integers(0, np.iinfo(dtype).max, shape, endpoint=True).astype(dtype)


@pytest.mark.parametrize(
    ("compression", "tiled", "samples"),
    [("zlib", True, 3), ("lzw", False, 3), ("zstd", True, 1), ("packbits", False, 4),
     (None, True, 2), ("zlib", False, 4)],
)  # fmt: skip
@pytest.mark.parametrize("out", ["tif", "png", "npy", "zarr"])
def test_a_streamed_tiff_equals_the_whole_image_path(tmp_path, compression, tiled, samples, out):
    """8-bit grey, grey + alpha, RGB, RGBA: alpha-weighted means band by band."""
    shape = (203, 157) if samples == 1 else (203, 157, samples)
    photometric = "minisblack" if samples <= 2 else "rgb"
    extra = {"extrasamples": ["unassalpha"]} if samples in (2, 4) else {}
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, image(shape), photometric=photometric, compression=compression,
                     tile=(32, 32) if tiled else None, rowsperstrip=None if tiled else 7,
                     **extra)  # fmt: skip
    args = ["-k", "3", "-s", "2", "-p", "1", "--ceil-mode", "-m", "avg"]
    streamed = run(source, "-o", tmp_path / f"streamed.{out}", *args, *TINY, "-v")
    assert "streamed in bands of" in streamed.stderr
    whole = run(source, "-o", tmp_path / f"whole.{out}", *args)
    assert "streamed" not in whole.stderr
    a, b = read(tmp_path / f"streamed.{out}"), read(tmp_path / f"whole.{out}")
    assert a.dtype == b.dtype
    assert np.array_equal(a, b)


def read(path) -> np.ndarray:
    path = str(path)
    if path.endswith(".tif"):
        return tifffile.imread(path)
    if path.endswith(".png"):
        with Image.open(path) as im:
            return np.asarray(im)
    if path.endswith(".npy"):
        return np.load(path)
    return zarr.open(path, mode="r")[...]


@pytest.mark.parametrize("dtype", [np.uint16, np.float32, np.int16])
def test_deep_and_float_tiffs_stream_exactly(tmp_path, dtype):
    x = image((150, 90, 3) if dtype is np.uint16 else (150, 90), dtype, seed=3)
    source = tmp_path / "deep.tif"
    tifffile.imwrite(source, x, tile=(16, 16), compression="zlib",
                     photometric="rgb" if x.ndim == 3 else "minisblack")  # fmt: skip
    run(source, "-o", tmp_path / "out.tif", "-m", "max", "-k", "3", "-s", "2", *TINY)
    run(source, "-o", tmp_path / "out.npy", "-m", "median", "-k", "2", *TINY)
    got = tifffile.imread(tmp_path / "out.tif")
    assert got.dtype == dtype
    assert np.array_equal(got, poolcli.pool(x, 3, stride=2, mode="max"))
    assert np.array_equal(np.load(tmp_path / "out.npy"), poolcli.pool(x, 2, mode="median"))
    if dtype is np.uint16:  # a 48-bit PNG, read by OpenCV (BGR order)
        run(source, "-o", tmp_path / "out.png", "-m", "max", "-k", "3", "-s", "2", *TINY)
        png = cv2.imread(str(tmp_path / "out.png"), cv2.IMREAD_UNCHANGED)[..., ::-1]
        assert png.dtype == np.uint16
        assert np.array_equal(png, got)


def test_the_tiff_output_keeps_compression_tiles_and_scaled_resolution(tmp_path):
    source = tmp_path / "scan.tif"
    tifffile.imwrite(source, image((300, 260)), compression="lzw", tile=(64, 64),
                     resolution=(300, 300), resolutionunit="INCH")  # fmt: skip
    run(source, "-o", tmp_path / "half.tif", *TINY)
    with tifffile.TiffFile(tmp_path / "half.tif") as tif:
        page = tif.pages.first
        assert page.compression.name == "LZW"
        assert page.is_tiled
        assert page.shape == (150, 130)
        assert page.get_resolution() == pytest.approx((150, 150))
    with Image.open(tmp_path / "half.tif") as im:
        assert im.size == (130, 150)


@pytest.mark.parametrize(
    ("layout", "shape"),
    [("chw", (3, 97, 61)), ("hwc", (97, 61, 2)), ("nchw", (2, 3, 97, 61)), ("hw", (97, 61))],
)
def test_npy_streams_in_every_layout_into_npy_and_zarr(tmp_path, layout, shape):
    x = image(shape, np.float32, seed=5)
    np.save(tmp_path / "x.npy", x)
    axes = {"hw": (0, 1), "hwc": (0, 1), "chw": (1, 2), "nchw": (2, 3)}[layout]
    expected = poolcli.pool(x, 3, stride=2, mode="avg", axes=axes, ceil_mode=True)
    for out in ("y.npy", "y.zarr"):
        run(tmp_path / "x.npy", "-o", tmp_path / out, "--layout", layout, "-k", "3", "-s", "2",
            "--ceil-mode", *TINY)  # fmt: skip
        assert np.array_equal(read(tmp_path / out), expected)


def test_a_memory_mapped_npy_is_never_read_whole(tmp_path):
    """Peak memory of a streamed run stays far below the array's size."""
    x = np.zeros((4000, 4000), np.float64)  # 128 MB
    x[::7, ::3] = 1.0
    np.save(tmp_path / "big.npy", x)
    del x
    streamed = peak_rss(tmp_path / "big.npy", "-o", tmp_path / "a.npy", "--memory", "16M")
    whole = peak_rss(tmp_path / "big.npy", "-o", tmp_path / "b.npy", "--memory", "1G")
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    assert whole - streamed > 100 << 20, (whole, streamed)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ome-zarr-py's own
def test_zarr_v2_v3_and_ome_zarr_inputs(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.writer import write_image

    x = image((3, 80, 70), np.uint16, seed=9)
    for fmt in (2, 3):
        zarr.create_array(tmp_path / f"v{fmt}.zarr", data=x, chunks=(1, 16, 16), zarr_format=fmt)
    store = parse_url(str(tmp_path / "ome.zarr"), mode="w").store
    write_image(x, zarr.group(store=store), axes="cyx", scale_factors=[])
    expected = poolcli.pool(x, 2, mode="max", axes=(1, 2))
    for name in ("v2.zarr", "v3.zarr", "ome.zarr"):
        for memory in (TINY, []):
            out = tmp_path / f"out-{name}-{len(memory)}.npy"
            run(tmp_path / name, "-o", out, "-m", "max", *memory)
            assert np.array_equal(np.load(out), expected), name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ome-zarr-py's own
def test_an_ome_zarr_output_opens_in_ome_zarr_py(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader
    from ome_zarr.writer import write_image

    x = image((2, 64, 48), np.uint8, seed=2)
    write_image(x, zarr.group(store=parse_url(str(tmp_path / "in.ome.zarr"), mode="w").store),
                axes="cyx", scale_factors=[])  # fmt: skip
    run(tmp_path / "in.ome.zarr", "-o", tmp_path / "out.ome.zarr", "-m", "max", *TINY)
    nodes = list(Reader(parse_url(str(tmp_path / "out.ome.zarr")))())
    assert np.array_equal(np.asarray(nodes[0].data[0]), poolcli.pool(x, 2, mode="max", axes=(1, 2)))
    assert [a["name"] for a in nodes[0].metadata["axes"]] == ["c", "y", "x"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # ome-zarr-py's own
@pytest.mark.parametrize("memory", [TINY, []])
def test_zarr_v2_outputs_on_request(tmp_path, memory):
    """-O zarr_format=2 writes Zarr v2 (OME-Zarr as NGFF 0.4), streamed or whole."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader
    from ome_zarr.writer import write_image

    x = image((2, 64, 48), np.uint8, seed=4)
    write_image(x, zarr.group(store=parse_url(str(tmp_path / "in.ome.zarr"), mode="w").store),
                axes="cyx", scale_factors=[])  # fmt: skip
    run(tmp_path / "in.ome.zarr", "-o", tmp_path / "out.ome.zarr", "-O", "zarr_format=2",
        *memory)  # fmt: skip
    group = zarr.open_group(tmp_path / "out.ome.zarr", mode="r")
    assert group.metadata.zarr_format == 2
    assert group.attrs["multiscales"][0]["version"] == "0.4"
    nodes = list(Reader(parse_url(str(tmp_path / "out.ome.zarr")))())
    expected = poolcli.pool(x, 2, mode="avg", axes=(1, 2))
    assert np.array_equal(np.asarray(nodes[0].data[0]), expected)
    tifffile.imwrite(tmp_path / "plain.tif", image((40, 30), np.uint16))
    run(tmp_path / "plain.tif", "-o", tmp_path / "plain.zarr", "-O", "zarr_format=2", *memory)
    assert zarr.open_array(tmp_path / "plain.zarr", mode="r").metadata.zarr_format == 2


def test_a_zarr_store_is_one_input_and_never_walked_into(tmp_path):
    photos = tmp_path / "in"
    photos.mkdir()
    zarr.create_array(photos / "stack.zarr", data=image((40, 30)), chunks=(8, 8))
    Image.fromarray(image((20, 20))).save(photos / "a.png")
    result = run("-r", photos, "-o", tmp_path / "out", "--json")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(os.path.basename(r["input"]) for r in records) == ["a.png", "stack.zarr"]
    assert zarr.open(tmp_path / "out" / "stack.zarr", mode="r").shape == (20, 15)


def test_a_zarr_output_exists_unless_overwritten(tmp_path):
    np.save(tmp_path / "x.npy", image((40, 40)))
    run(tmp_path / "x.npy", "-o", tmp_path / "y.zarr")
    again = run(tmp_path / "x.npy", "-o", tmp_path / "y.zarr", check=False)
    assert again.returncode == 1
    assert "exists" in again.stderr
    run(tmp_path / "x.npy", "-o", tmp_path / "y.zarr", "--overwrite", "-k", "4")
    assert zarr.open(tmp_path / "y.zarr", mode="r").shape == (10, 10)
    assert sorted(os.listdir(tmp_path)) == ["x.npy", "y.zarr"]  # no temporary folders left


def test_a_sparse_store_claiming_a_trillion_pixels_is_refused_at_once(tmp_path):
    zarr.create_array(tmp_path / "bomb.zarr", shape=(1_000_000, 1_000_000), dtype="uint8",
                      chunks=(1024, 1024))  # fmt: skip
    result = run(tmp_path / "bomb.zarr", "-o", tmp_path / "out.zarr", *TINY, check=False)
    assert result.returncode == 1
    assert "1,000,000,000,000" in result.stderr
    assert "--max-pixels" in result.stderr
    assert not (tmp_path / "out.zarr").exists()


def test_a_streamed_input_over_the_pixel_limit_is_pooled_when_its_data_is_real(tmp_path):
    source = tmp_path / "noise.tif"
    tifffile.imwrite(source, image((200, 200)), compression="zlib", tile=(32, 32))
    run(source, "-o", tmp_path / "out.tif", "--max-pixels", "1000", *TINY)
    refused = run(source, "-o", tmp_path / "whole.tif", "--max-pixels", "1000", check=False)
    assert refused.returncode == 1  # pooled whole, the limit applies as for any photo


@pytest.mark.parametrize("out", ["tif", "png", "npy", "zarr"])
def test_a_full_disk_fails_streamed_outputs_in_one_line_leaving_nothing(tmp_path, out):
    full = tmp_path / "full"
    full.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)],
                             capture_output=True, check=False)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        source = tmp_path / "noise.tif"
        tifffile.imwrite(source, image((400, 400, 3)), tile=(64, 64))
        result = run(source, "-o", full / f"out.{out}", "--memory", "64K", check=False)
        assert result.returncode == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1
        assert "no space left" in lines[0].lower() or "disk is probably full" in lines[0]
        assert os.listdir(full) == []
    finally:
        subprocess.run(["umount", str(full)], check=False)


def info(*args: object) -> dict:
    done = subprocess.run([sys.executable, "-m", "poolcli", "info", *map(str, args), "--json"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)


def test_info_tells_how_tiffs_and_zarr_stores_are_stored(tmp_path):
    tifffile.imwrite(tmp_path / "t.tif", image((300, 200, 3)), tile=(64, 128),
                     compression="zstd", photometric="rgb", bigtiff=True)  # fmt: skip
    stored = info(tmp_path / "t.tif")["storage"]
    assert stored["layout"] == "tiled"
    assert stored["tile"] == [128, 64]
    assert stored["compression"] == "ZSTD"
    assert stored["bigtiff"] is True
    assert stored["levels"] == 1
    zarr.create_array(tmp_path / "z.zarr", data=image((3, 90, 80)), chunks=(1, 32, 16),
                      zarr_format=2)  # fmt: skip
    facts = info(tmp_path / "z.zarr")
    assert facts["format"] == "ZARR"
    assert facts["size"] == [80, 90]
    assert facts["storage"]["chunks"] == [1, 32, 16]
    assert facts["storage"]["zarr_format"] == 2


@pytest.mark.parametrize("memory", [TINY, []])
def test_a_colour_image_written_as_zarr_reads_back_as_an_image(tmp_path, memory):
    """Zarr keeps the layout it was written in: (H, W, 3) is hwc, not chw."""
    x = image((120, 90, 3))
    tifffile.imwrite(tmp_path / "in.tif", x, photometric="rgb", tile=(32, 32))
    run(tmp_path / "in.tif", "-o", tmp_path / "out.zarr", *memory)
    assert info(tmp_path / "out.zarr")["planes"][0]["layout"] == "hwc"
    run(tmp_path / "out.zarr", "-o", tmp_path / "back.png")
    with Image.open(tmp_path / "back.png") as im:
        assert im.size == (22, 30)
        assert np.array_equal(
            np.asarray(im), poolcli.pool(poolcli.pool(x, 2, mode="avg"), 2, mode="avg")
        )


@pytest.mark.parametrize(
    "options",
    [{"compression": "jpeg", "tile": (32, 32), "photometric": "rgb"},
     {"planarconfig": "separate", "photometric": "rgb", "tile": (32, 32)},
     {"bigtiff": True, "compression": "zlib", "predictor": True, "rowsperstrip": 5},
     {"ome": True, "tile": (32, 32), "photometric": "rgb", "compression": "zstd"}],
    ids=["jpeg", "planar", "bigtiff-predictor", "ome-tiff"],
)  # fmt: skip
def test_tiff_kinds_stream_as_tifffile_reads_them(tmp_path, options):
    x = image((130, 110, 3), seed=7)
    if options.get("planarconfig") == "separate":
        tifffile.imwrite(tmp_path / "in.tif", np.moveaxis(x, -1, 0), **options)
    else:
        tifffile.imwrite(tmp_path / "in.tif", x, **options)
    stored = tifffile.imread(tmp_path / "in.tif")  # JPEG is lossy: compare with what is stored
    stored = np.moveaxis(stored, 0, -1) if stored.shape[0] == 3 else stored
    done = run(tmp_path / "in.tif", "-o", tmp_path / "out.npy", "-m", "max", *TINY, "--json")
    assert json.loads(done.stdout)["streamed"] is True
    assert np.array_equal(np.load(tmp_path / "out.npy"), poolcli.pool(stored, 2, mode="max"))
