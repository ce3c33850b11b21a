"""Reference expectations for pooled images, written independently of poolcli.images.

``expected_array`` re-derives, from Pillow and the loop reference alone, what the
image layer must produce for a single-frame 8-bit file: orientation applied,
the mode policy's conversions, alpha-weighted means done with exact fractions.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps
from reference import reference_pool, regular_windows

CORPUS = Path(__file__).parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
EIGHT_BIT = {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB"}


def entries(expect: str) -> list[dict]:
    return [entry for entry in MANIFEST if entry["expect"] == expect]


def upright(path: Path) -> Image.Image:
    """The file's first frame as poolcli must read it: Pillow's decoding, upright; for
    a TIFF the manifest marks ``pillow_misreads``, its samples as tifffile reads them,
    in the mode Pillow names (``La``: grey + associated alpha)."""
    entry = next((e for e in MANIFEST if e["file"] == Path(path).name), {})
    if entry.get("pillow_misreads"):
        import tifffile

        samples = tifffile.imread(path)
        samples = np.moveaxis(samples, 0, -1) if samples.shape[0] <= 4 else samples
        size = (samples.shape[1], samples.shape[0])
        mode = entry["pillow_mode"]
        return Image.frombuffer(
            mode, size, np.ascontiguousarray(samples).tobytes(), "raw", mode, 0, 1
        )
    with Image.open(path) as image:
        image.load()
        return ImageOps.exif_transpose(image)


def expected_mode(image: Image.Image, mode: str) -> str:
    """The mode poolcli's policy gives (before any output-format conversion)."""
    source = image.mode
    if source in ("La", "RGBa"):
        return {"La": "LA", "RGBa": "RGBA"}[source]
    if source in ("P", "PA"):
        if mode == "mode":
            return source
        return "RGBA" if source == "PA" or "transparency" in image.info else "RGB"
    if source == "1":
        return "1" if mode in ("max", "min", "mode") else "L"
    return source


def policy_input(image: Image.Image, mode: str) -> Image.Image:
    target = expected_mode(image, mode)
    return image if target == image.mode else image.convert(target)


def expected_array(image: Image.Image, mode: str, crop: int = 128) -> np.ndarray:
    """Pooled pixels (kernel 2, ceil mode) of the top-left ``crop`` square of ``image``."""
    converted = policy_input(image, mode)
    array = np.asarray(converted)[:crop, :crop]
    alpha = converted.mode in ("LA", "RGBA")
    if mode == "avg" and alpha:
        return premultiplied_avg(array)
    if mode in ("max", "min", "median", "mode") and alpha:
        return visible_select(array, mode)
    if mode == "mode" and converted.mode == "PA":
        return visible_select(array, mode)
    channel_axis = 2 if array.ndim == 3 and mode == "mode" else None
    hidden = transparent_index(converted) if mode == "mode" else None
    return reference_pool(array, 2, mode=mode, ceil_mode=True, channel_axis=channel_axis,
                          nodata=hidden)  # fmt: skip


def transparent_index(image: Image.Image) -> int | None:
    """A ``P`` image's one fully transparent index (votes only where nothing is visible)."""
    transparency = image.info.get("transparency") if image.mode == "P" else None
    if isinstance(transparency, bytes):
        hidden = [index for index, alpha in enumerate(transparency) if alpha == 0]
        assert len(hidden) <= 1, "the corpus has no palette with several invisible indices"
        return hidden[0] if hidden else None
    return transparency


def premultiplied_avg(array: np.ndarray) -> np.ndarray:
    """Σ(c·a)/Σa rounded half up for colour, plain mean for alpha, windows 2x2 ceil."""
    h, w, c = array.shape
    rows = regular_windows(h, 2, 2, 0, 1, True)
    cols = regular_windows(w, 2, 2, 0, 1, True)
    out = np.zeros((len(rows), len(cols), c), array.dtype)
    for i, (real_r, _) in enumerate(rows):
        for j, (real_c, _) in enumerate(cols):
            pixels = [array[r, q].astype(int) for r in real_r for q in real_c]
            weights = sum(int(p[-1]) for p in pixels)
            for k in range(c - 1):
                if weights:
                    total = sum(int(p[k]) * int(p[-1]) for p in pixels)
                    out[i, j, k] = math.floor(Fraction(total, weights) + Fraction(1, 2))
            mean = Fraction(sum(int(p[-1]) for p in pixels), len(pixels))
            out[i, j, -1] = math.floor(mean + Fraction(1, 2))
    return out


def _median(values: list[int]) -> int:
    ordered = sorted(values)
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2] + 1) // 2  # two middles, half up


def visible_select(array: np.ndarray, mode: str) -> np.ndarray:
    """max/min/median/mode (kernel 2, ceil mode) of (H, W, C) pixels whose last channel
    is alpha, colour from visible pixels only: per channel among them (alpha over
    all pixels), or, for mode, the most frequent whole visible pixel (ties: the
    smallest); a window with no visible pixel gives all zeros."""
    h, w, c = array.shape
    rows = regular_windows(h, 2, 2, 0, 1, True)
    cols = regular_windows(w, 2, 2, 0, 1, True)
    out = np.zeros((len(rows), len(cols), c), array.dtype)
    reduce = {"max": max, "min": min, "median": _median}
    for i, (real_r, _) in enumerate(rows):
        for j, (real_c, _) in enumerate(cols):
            pixels = [tuple(int(v) for v in array[r, q]) for r in real_r for q in real_c]
            visible = [p for p in pixels if p[-1] > 0]
            if mode == "mode":
                if visible:
                    tally = Counter(visible)
                    out[i, j] = min(tally, key=lambda p: (-tally[p], p))
                continue
            out[i, j, -1] = reduce[mode]([p[-1] for p in pixels])
            if visible:
                for k in range(c - 1):
                    out[i, j, k] = reduce[mode]([p[k] for p in visible])
    return out


def half(size: tuple[int, int]) -> tuple[int, int]:
    return (-(-size[0] // 2), -(-size[1] // 2))


def deep_pixels(path: Path) -> np.ndarray | None:
    """The 16-bit samples of a 16-bit colour PNG, decoded by imagecodecs (Pillow reads
    them at 8 bits); None for any other file."""
    import imagecodecs

    head = path.read_bytes()[:26]
    if not (head.startswith(b"\x89PNG") and head[24] == 16 and head[25] in (2, 4, 6)):
        return None
    return imagecodecs.png_decode(path.read_bytes())


def expected_deep(pixels: np.ndarray, mode: str) -> np.ndarray:
    """Pooled 16-bit pixels (kernel 2, ceil mode), as :func:`expected_array` pools 8-bit ones."""
    if mode == "avg" and pixels.shape[2] in (2, 4):
        return premultiplied_avg(pixels)
    if mode in ("max", "min", "median", "mode") and pixels.shape[2] in (2, 4):
        return visible_select(pixels, mode)
    channel_axis = 2 if mode == "mode" else None
    return reference_pool(pixels, 2, mode=mode, ceil_mode=True, channel_axis=channel_axis)


def expected_tiff_mode(source: Image.Image, mode: str) -> str:
    """The mode a pooled TIFF reads back in: the policy's (:func:`expected_mode`), a
    palette with transparency as RGBA, and a compressed big-endian 16-bit input in
    native byte order (libtiff, which keeps the compression, writes it so)."""
    wanted = expected_mode(source, mode)
    if wanted == "P" and "transparency" in source.info:
        return "RGBA"
    if wanted == "I;16B" and source.info.get("compression") not in (None, "raw"):
        return "I;16"
    return wanted
