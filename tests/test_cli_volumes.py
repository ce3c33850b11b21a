"""``poolcli pool`` on volumes and signals: WxHxD sizes, volume and signal layouts,
TIFF Z stacks (plain, ImageJ, OME) in and out, Zarr volumes; outputs read back with
tifffile, zarr and NumPy, values checked against the N-axis loop reference."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr
from click.testing import CliRunner
from PIL import Image
from reference_nd import reference_pool_nd

from poolcli.cli import cli


def run(*args):
    return CliRunner().invoke(cli, ["pool", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def volume():
    return np.random.default_rng(4).integers(0, 256, (6, 10, 12)).astype(np.uint8)


def test_npy_volume_with_a_wxhxd_kernel(tmp_path, volume):
    np.save(tmp_path / "v.npy", volume)
    result = run(tmp_path / "v.npy", "-k", "2x2x3", "-m", "avg", "-o", tmp_path / "out.npy")
    assert result.exit_code == 0, result.stderr
    # WxHxD: 2 wide, 2 tall, 3 deep -> the engine's (d, h, w) = (3, 2, 2)
    expected = reference_pool_nd(volume, (3, 2, 2), mode="avg")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), expected)


@pytest.mark.parametrize(
    ("layout", "axes"), [("cdhw", (1, 2, 3)), ("dhwc", (0, 1, 2)), ("ncdhw", (2, 3, 4))]
)
def test_volume_layouts(tmp_path, layout, axes):
    shape = {"cdhw": (2, 4, 6, 8), "dhwc": (4, 6, 8, 2), "ncdhw": (1, 2, 4, 6, 8)}[layout]
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    np.save(tmp_path / "v.npy", x)
    args = ("-k", "2x2x2", "-s", "2", "-m", "max", "--layout", layout)
    result = run(tmp_path / "v.npy", *args, "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(x, 2, mode="max", axes=axes)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_a_volume_layout_with_a_wxh_kernel_pools_slice_by_slice(tmp_path, volume):
    np.save(tmp_path / "v.npy", volume)
    result = run(tmp_path / "v.npy", "--layout", "dhw", "-k", "2", "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    np.testing.assert_array_equal(
        np.load(tmp_path / "o.npy"), reference_pool_nd(volume, (1, 2, 2), mode="avg")
    )


def test_adaptive_size_wxhxd(tmp_path, volume):
    np.save(tmp_path / "v.npy", volume)
    result = run(tmp_path / "v.npy", "--size", "5x4x3", "-m", "max", "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    assert np.load(tmp_path / "o.npy").shape == (3, 4, 5)


@pytest.mark.parametrize("flavour", ["plain", "imagej", "ome"])
def test_tiff_z_stack_in_and_out(tmp_path, volume, flavour):
    path = tmp_path / ("in.ome.tif" if flavour == "ome" else "in.tif")
    options = {
        "plain": {"metadata": {"axes": "ZYX"}},
        "imagej": {"imagej": True, "metadata": {"axes": "ZYX"}},
        "ome": {"ome": True, "metadata": {"axes": "ZYX"}},
    }[flavour]
    tifffile.imwrite(path, volume, **options)
    result = run(path, "-k", "2x2x2", "-m", "mode", "-o", tmp_path / "out.tif")
    assert result.exit_code == 0, result.stderr
    with tifffile.TiffFile(tmp_path / "out.tif") as tif:
        assert len(tif.pages) == 3  # pages are depth
        pooled = tif.series[0].asarray()
    np.testing.assert_array_equal(pooled, reference_pool_nd(volume, 2, mode="mode"))


def test_imagej_hyperstack_z_and_channels(tmp_path):
    x = np.random.default_rng(5).integers(0, 60000, (4, 2, 6, 8)).astype(np.uint16)  # ZCYX
    tifffile.imwrite(tmp_path / "h.tif", x, imagej=True, metadata={"axes": "ZCYX"})
    result = run(tmp_path / "h.tif", "-k", "2x2x2", "-m", "avg", "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(np.moveaxis(x, 1, -1), 2, mode="avg")  # dhwc
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_rgb_tiff_stack_keeps_its_channels(tmp_path):
    x = np.random.default_rng(2).integers(0, 256, (4, 6, 8, 3)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "rgb.tif", x, photometric="rgb")
    result = run(tmp_path / "rgb.tif", "-k", "2x2x2", "-m", "max", "-o", tmp_path / "o.tif")
    assert result.exit_code == 0, result.stderr
    pooled = tifffile.imread(tmp_path / "o.tif")
    np.testing.assert_array_equal(pooled, reference_pool_nd(x, 2, mode="max"))
    with Image.open(tmp_path / "o.tif") as image:  # a reader poolcli did not write: Pillow
        assert (image.n_frames, image.mode, image.size) == (2, "RGB", (4, 3))


def test_tiff_volume_compression(tmp_path, volume):
    tifffile.imwrite(tmp_path / "in.tif", volume)
    for asked, expected in ((None, "ADOBE_DEFLATE"), ("tiff_lzw", "LZW"), ("raw", "NONE")):
        options = () if asked is None else ("-O", f"compression={asked}")
        out = tmp_path / f"{asked}.tif"
        result = run(tmp_path / "in.tif", "-k", "2x2x2", *options, "-o", out)
        assert result.exit_code == 0, result.stderr
        with tifffile.TiffFile(out) as tif:
            assert tif.pages[0].compression.name == expected
            np.testing.assert_array_equal(
                tif.series[0].asarray(), reference_pool_nd(volume, 2, mode="avg")
            )


def test_tiff_stack_into_npy(tmp_path, volume):
    tifffile.imwrite(tmp_path / "in.tif", volume)
    result = run(tmp_path / "in.tif", "-k", "1x1x2", "-m", "sum", "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(volume, (2, 1, 1), mode="sum")
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_zarr_volume_in_and_out(tmp_path, volume):
    store = zarr.open_array(tmp_path / "in.zarr", mode="w", shape=volume.shape, dtype="u1")
    store[...] = volume
    result = run(tmp_path / "in.zarr", "--layout", "dhw", "-k", "2x2x2", "-m", "max",
                 "-o", tmp_path / "out.zarr")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    pooled = zarr.open_array(tmp_path / "out.zarr", mode="r")[...]
    np.testing.assert_array_equal(pooled, reference_pool_nd(volume, 2, mode="max"))


@pytest.mark.parametrize(("layout", "shape", "axes"), [("w", (50,), (0,)), ("cw", (2, 50), (1,))])
def test_signals(tmp_path, layout, shape, axes):
    x = np.random.default_rng(3).integers(-1000, 1000, shape).astype(np.int16)
    np.save(tmp_path / "s.npy", x)
    args = ("-k", "4", "-s", "3", "-m", "avg", "--layout", layout)
    result = run(tmp_path / "s.npy", *args, "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    expected = reference_pool_nd(x, 4, stride=3, mode="avg", axes=axes)
    np.testing.assert_array_equal(np.load(tmp_path / "o.npy"), expected)


def test_a_one_dim_array_is_a_signal_by_default(tmp_path):
    np.save(tmp_path / "s.npy", np.arange(10.0))
    result = run(tmp_path / "s.npy", "-k", "2", "-m", "max", "-o", tmp_path / "o.npy")
    assert result.exit_code == 0, result.stderr
    assert np.load(tmp_path / "o.npy").tolist() == [1.0, 3.0, 5.0, 7.0, 9.0]


@pytest.mark.parametrize(
    ("make", "args", "message"),
    [
        ("png", ("-k", "2x2x2"), "a WxHxD kernel pools volumes: a multi-page TIFF file, or a"),
        ("npy", ("-k", "2x2x2", "-o", "{tmp}/o.png"), "a volume is written as TIFF (pages are"),
        ("signal", ("-k", "4x2"), "a signal has one axis: give --kernel as one number N"),
        ("npy2d", ("-k", "2x2x2"), "which has no depth; give --layout dhw, dhwc, cdhw, ncdhw"),
    ],
)
def test_volume_errors_are_one_line(tmp_path, make, args, message):
    path = {"png": "a.png", "npy": "v.npy", "signal": "s.npy", "npy2d": "p.npy"}[make]
    if make == "png":
        Image.new("L", (8, 8)).save(tmp_path / path)
    elif make == "npy":
        np.save(tmp_path / path, np.zeros((4, 4, 4), np.uint8))
    elif make == "signal":
        np.save(tmp_path / path, np.zeros(10))
    else:
        np.save(tmp_path / path, np.zeros((4, 4), np.uint8))
    result = run(tmp_path / path, *(a.format(tmp=tmp_path) for a in args))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]


def test_wxh_beside_wxhxd_is_a_usage_error(tmp_path, volume):
    np.save(tmp_path / "v.npy", volume)
    result = run(tmp_path / "v.npy", "-k", "2x2x2", "-s", "2x1")
    assert result.exit_code == 2
    assert "--stride is WxH while --kernel is WxHxD (a volume)" in result.stderr


def test_dry_run_plans_signals_and_volumes_from_headers(tmp_path, volume):
    np.save(tmp_path / "s.npy", np.zeros(100))
    np.save(tmp_path / "v.npy", volume)
    signal = run(tmp_path / "s.npy", "-k", "4", "--dry-run", "-o", tmp_path / "o.npy")
    assert signal.exit_code == 0, signal.stderr
    assert "100x1 -> 25x1" in signal.stdout + signal.stderr
    planes = run(tmp_path / "v.npy", "-k", "2x2x2", "--dry-run", "-o", tmp_path / "p.npy")
    assert planes.exit_code == 0, planes.stderr
    assert "12x10x6 -> 6x5x3" in planes.stdout + planes.stderr  # width x height x depth


def test_volumes_are_told_as_wxhxd_by_dry_runs_runs_json_and_info(tmp_path, volume):
    import json

    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, volume, photometric="minisblack")  # 6 pages of 12x10
    planned = run(stack, "-k", "2x2x2", "--ceil-mode", "--dry-run", "-o", tmp_path / "o.tif")
    assert planned.exit_code == 0, planned.stderr
    assert planned.stdout.strip().endswith("12x10x6 -> 6x5x3")
    done = run(stack, "-k", "2x2x4", "--ceil-mode", "--json", "-o", tmp_path / "o.tif")
    assert done.exit_code == 0, done.stderr
    told = json.loads(done.stdout)
    assert (told["in_size"], told["out_size"], told["frames"]) == ([12, 10, 6], [6, 5, 2], 1)
    with tifffile.TiffFile(tmp_path / "o.tif") as tif:
        assert tif.series[0].shape == (2, 5, 6)
    verbose = run(stack, "-k", "2x2x3", "-v", "-o", tmp_path / "v.tif")
    assert "kernel 2x2x3, stride 2x2x3, padding 0x0x0, dilation 1x1x1" in verbose.stderr
    assert "without --layout" not in verbose.stderr  # a TIFF stack's pages are its depth
    np.save(tmp_path / "v.npy", volume)
    array = run(tmp_path / "v.npy", "-k", "2x2x3", "-v", "-o", tmp_path / "v_out.npy")
    assert "arrays without --layout are read as dhw (3 dims)" in array.stderr
    info = CliRunner().invoke(cli, ["info", str(tmp_path / "v.npy"), "-k", "2x2x3", "--json"])
    facts = json.loads(info.stdout)
    assert (facts["volume"], facts["out_size"]) == ([12, 10, 6], [6, 5, 2])
    assert facts["planes"][0]["layout"] == "dhw"
    text = CliRunner().invoke(cli, ["info", str(stack), "-k", "2x2x3"]).stdout
    assert "volume: 12x10x6 (width x height x depth)" in text
    assert "pooled size: 6x5x2" in text


def test_a_volume_refuses_compressions_tifffile_cannot_write(tmp_path):
    source = tmp_path / "stack.tif"
    tifffile.imwrite(source, np.zeros((4, 8, 8), np.uint8), photometric="minisblack")
    out = tmp_path / "out.tif"
    done = CliRunner().invoke(
        cli, ["pool", str(source), "-k", "2x2x2", "-o", str(out), "-O", "compression=webp"]
    )
    assert done.exit_code == 1
    assert "-O compression=webp is written by Pillow" in done.output
    assert "Traceback" not in done.output
    assert not out.exists()
