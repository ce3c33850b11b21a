"""TIFF alpha kinds through real ``poolcli`` processes: every path reads them alike.

An associated (premultiplied) alpha TIFF is decoded to straight colour by Pillow on
the whole-image path; the streamed readers (bands of rows, pyramids) must divide
the same way, weight colour by alpha once, and tag the alpha they write as
unassociated. Planar grey + alpha TIFFs, which Pillow misreads, are read by tifffile
at any size. Outputs are read back with tifffile and Pillow.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import tifffile
from image_reference import CORPUS, premultiplied_avg
from PIL import Image

TINY = ["--memory", "4K"]
ASSOCIATED, UNASSOCIATED = 1, 2  # tifffile's EXTRASAMPLE values


def run(*args: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "poolcli", *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result


def premultiplied(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """Random premultiplied samples (colour <= alpha), every alpha from 0 to 255."""
    rng = np.random.default_rng(seed)
    alpha = rng.integers(0, 256, shape[:2])
    colour = rng.integers(0, 256, (*shape[:2], shape[2] - 1))
    pm = (colour * alpha[..., None] / 255).round()
    return np.dstack([pm, alpha]).astype(np.uint8)


def write_associated(path, pixels: np.ndarray, **options) -> None:
    photometric = "rgb" if pixels.shape[2] == 4 else "minisblack"
    if options.get("planarconfig") == "separate":
        pixels = np.moveaxis(pixels, -1, 0)
    tifffile.imwrite(path, pixels, photometric=photometric, extrasamples=["assocalpha"], **options)


def pillow_straight(path) -> np.ndarray:
    """The input's straight colour as Pillow decodes it (grey: ``La``, converted)."""
    with Image.open(path) as image:
        return np.asarray(image.convert("LA") if image.mode == "La" else image)


def alpha_tag(path) -> int:
    with tifffile.TiffFile(path) as tif:
        (extra,) = tif.pages.first.extrasamples
        return int(extra)


@pytest.mark.parametrize(
    ("samples", "options"),
    [(4, {}), (4, {"compression": "zlib", "tile": (16, 16)}), (2, {}),
     (4, {"planarconfig": "separate", "compression": "zlib"})],
    ids=["rgba", "rgba-tiled-zlib", "grey-alpha", "rgba-planar"],
)  # fmt: skip
@pytest.mark.parametrize("out", ["tif", "png"])
def test_associated_alpha_streams_as_the_whole_image_path(tmp_path, samples, options, out):
    source = tmp_path / "in.tif"
    write_associated(source, premultiplied((64, 48, samples)), **options)
    streamed = run("pool", source, "-o", tmp_path / f"streamed.{out}", *TINY, "-v")
    assert "streamed in bands of" in streamed.stderr
    run("pool", source, "-o", tmp_path / f"whole.{out}")
    if out == "tif":
        got, whole = (
            tifffile.imread(tmp_path / "streamed.tif"),
            tifffile.imread(tmp_path / "whole.tif"),
        )
        assert alpha_tag(tmp_path / "streamed.tif") == alpha_tag(tmp_path / "whole.tif")
        assert alpha_tag(tmp_path / "streamed.tif") == UNASSOCIATED
    else:
        with Image.open(tmp_path / "streamed.png") as a, Image.open(tmp_path / "whole.png") as b:
            got, whole = np.asarray(a), np.asarray(b)
    np.testing.assert_array_equal(got, whole)
    # colour weighted by alpha once: the exact weighted mean of the straight colour
    np.testing.assert_array_equal(got, premultiplied_avg(pillow_straight(source)))


@pytest.mark.parametrize("samples", [4, 2])
def test_associated_alpha_is_divided_out_as_pillow_decodes_it(tmp_path, samples):
    """Every (colour, alpha) pair, even colour above alpha (clipped) and colour under
    alpha 0 (black for RGB, as stored for grey), through a 1x1 window, unweighted."""
    colour, alpha = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    planes = [colour, (colour * 7) % 256, 255 - colour][: samples - 1]
    pixels = np.dstack([*planes, alpha]).astype(np.uint8)
    source = tmp_path / "in.tif"
    write_associated(source, pixels)
    run("pool", source, "-k", "1", "--alpha", "independent", "-o", tmp_path / "out.tif", *TINY)
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out.tif"), pillow_straight(source))
    assert alpha_tag(tmp_path / "out.tif") == UNASSOCIATED


def test_associated_alpha_pyramids_hold_the_pooled_image(tmp_path):
    """Level 0 as Pillow decodes the input, level 1 as ``pool`` gives it, both tagged
    unassociated: in reduced-resolution pages and in a folder of levels."""
    source = tmp_path / "in.tif"
    write_associated(source, premultiplied((64, 64, 4)))
    run("pool", source, "-o", tmp_path / "pooled.tif")
    pooled = tifffile.imread(tmp_path / "pooled.tif")
    run("pyramid", source, "-o", tmp_path / "pyramid.tif", "--levels", "2")
    run("pyramid", source, "-o", f"{tmp_path / 'levels'}/", "--format", "tif", "--levels", "2")
    with tifffile.TiffFile(tmp_path / "pyramid.tif") as tif:
        pages = [(page.asarray(), int(page.extrasamples[0])) for page in tif.pages]
    for path in (tmp_path / "levels" / "0.tif", tmp_path / "levels" / "1.tif"):
        pages.append((tifffile.imread(path), alpha_tag(path)))
    straight = pillow_straight(source)
    for index, (pixels, tag) in enumerate(pages):
        assert tag == UNASSOCIATED
        np.testing.assert_array_equal(pixels, straight if index % 2 == 0 else pooled)


def test_deep_associated_alpha_is_weighted_once(tmp_path):
    """16-bit RGBA (Pillow has no mode for it: streamed at any size)."""
    rng = np.random.default_rng(3)
    alpha = rng.integers(0, 65536, (40, 30), dtype=np.uint64)
    colour = rng.integers(0, 65536, (40, 30, 3), dtype=np.uint64) * alpha[..., None] // 65535
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, np.dstack([colour, alpha]).astype(np.uint16), photometric="rgb",
                     extrasamples=["assocalpha"])  # fmt: skip
    run("pool", source, "-o", tmp_path / "out.tif")
    straight = np.minimum(colour * 65535 // np.maximum(alpha, 1)[..., None], 65535)
    expected = premultiplied_avg(np.dstack([straight, alpha]).astype(np.uint16))
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "out.tif"), expected)
    assert alpha_tag(tmp_path / "out.tif") == UNASSOCIATED


# --- planar grey + alpha: Pillow misreads it, tifffile reads it at any size ----------


def run_status(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "poolcli", *map(str, args)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize("compression", [None, "zlib"])
@pytest.mark.parametrize("kind", ["unassalpha", "assocalpha"])
def test_planar_grey_and_alpha_is_read_whole_as_in_bands(tmp_path, kind, compression):
    """Pillow fails on these ("unknown raw mode") or decodes their alpha as all 0."""
    pixels = premultiplied((40, 36, 2), seed=5)
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, np.moveaxis(pixels, -1, 0), planarconfig="separate",
                     photometric="minisblack", extrasamples=[kind],
                     compression=compression)  # fmt: skip
    run("pool", source, "-o", tmp_path / "whole.tif")
    run("pool", source, "-o", tmp_path / "streamed.tif", *TINY)
    got = tifffile.imread(tmp_path / "whole.tif")
    np.testing.assert_array_equal(got, tifffile.imread(tmp_path / "streamed.tif"))
    straight = pixels
    if kind == "assocalpha":  # divided as Pillow divides La
        la = Image.frombuffer("La", (36, 40), pixels.tobytes(), "raw", "La", 0, 1)
        straight = np.asarray(la.convert("LA"))
    np.testing.assert_array_equal(got, premultiplied_avg(straight))
    assert alpha_tag(tmp_path / "whole.tif") == UNASSOCIATED


def test_the_corpus_planar_grey_and_alpha_keeps_its_alpha(tmp_path):
    source = CORPUS / "minisblack-2c-8b-alpha.tiff"
    samples = np.moveaxis(tifffile.imread(source), 0, -1)
    assert samples[0, 13].tolist() == [33, 52]  # premultiplied: grey 161 (vips says so)
    run("pool", source, "-o", tmp_path / "whole.png")
    run("pool", source, "-o", tmp_path / "streamed.png", *TINY)
    with Image.open(tmp_path / "whole.png") as whole, Image.open(tmp_path / "streamed.png") as part:
        assert whole.mode == "LA"
        got = np.asarray(whole)
        np.testing.assert_array_equal(got, np.asarray(part))
    la = Image.frombuffer("La", (64, 64), samples.tobytes(), "raw", "La", 0, 1).convert("LA")
    assert np.asarray(la)[0, 13].tolist() == [161, 52]
    np.testing.assert_array_equal(got, premultiplied_avg(np.asarray(la)))
    assert got[..., 1].max() > 0


def test_planar_grey_and_alpha_into_a_format_pillow_writes_is_refused(tmp_path):
    source = tmp_path / "in.tif"
    tifffile.imwrite(source, np.moveaxis(premultiplied((20, 20, 2)), -1, 0),
                     planarconfig="separate", photometric="minisblack",
                     extrasamples=["unassalpha"])  # fmt: skip
    result = run_status("pool", source, "-o", tmp_path / "out.webp")
    assert result.returncode == 1
    assert "Pillow, which writes WEBP, cannot read these LA pixels" in result.stderr
    assert "write TIFF, PNG, .npy or Zarr" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.webp").exists()


@pytest.mark.parametrize("memory", ["1G", "4K"], ids=["whole", "bands-of-rows"])
@pytest.mark.parametrize(("mode", "p"), [("avg", 1.0), ("rms", 2.0)])
def test_float_rgba_colour_is_weighted_by_its_alpha_not_zeroed(tmp_path, mode, p, memory):
    rng = np.random.default_rng(5)
    pixels = rng.random((6, 8, 4)).astype(np.float32)  # alpha 0.0 to 1.0 (opaque)
    pixels[:2, :2, 3] = 0.0  # one window wholly transparent
    tifffile.imwrite(tmp_path / "in.tif", pixels, photometric="rgb", extrasamples=["unassalpha"])
    run("pool", tmp_path / "in.tif", "-m", mode, "--memory", memory, "-o", tmp_path / "out.tif")
    got = tifffile.imread(tmp_path / "out.tif")
    assert got.dtype == np.float32
    colour, alpha = pixels[..., :3].astype(np.float64), pixels[..., 3].astype(np.float64)
    windows = (3, 2, 4, 2)
    weights = alpha.reshape(windows).sum(axis=(1, 3))
    sums = (colour**p * alpha[..., None]).reshape(*windows, 3).sum(axis=(1, 3))
    means = (sums / np.where(weights > 0, weights, 1.0)[..., None]) ** (1 / p)
    np.testing.assert_allclose(got[..., :3], means, rtol=1e-6)
    pooled_alpha = ((alpha**p).reshape(windows).mean(axis=(1, 3))) ** (1 / p)  # the mode's own
    np.testing.assert_allclose(got[..., 3], pooled_alpha, rtol=1e-6)
    assert (got[0, 0, :3] == 0).all()  # no weight, no colour (as integer images give)
