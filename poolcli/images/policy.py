"""The mode policy: how a frame of each Pillow mode is pooled, and what mode comes out.

- ``1``: max = OR, min = AND, mode = majority; the other modes average, so they
  give ``L`` (0 or 255 per pixel in, grey levels out).
- ``L``, ``I;16``/``I;16B``, ``I``, ``F``: pooled at their own bit depth.
- ``LA``, ``RGB``, ``RGBA``, ``CMYK``, ``YCbCr``, ``LAB``: per channel, in their own space;
  averaging modes weight colour by alpha (see :mod:`poolcli.images.alpha`).
- ``P``/``PA``: ``mode`` pools the palette indices and keeps the palette; every other
  mode converts to ``RGB``/``RGBA`` first (transparency kept).
- ``La``/``RGBa`` (premultiplied) become ``LA``/``RGBA``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImagePalette

from ..errors import InputError
from ..pooling.modes import PoolMode
from . import linear as srgb
from .alpha import pool_premultiplied
from .passes import pool_all
from .pixels import image_from, view
from .settings import AlphaPolicy, PoolSettings

_UNPREMULTIPLIED = {"La": "LA", "RGBa": "RGBA", "I;16L": "I;16", "I;16N": "I;16"}
_WITH_ALPHA = {"LA", "RGBA"}
#: Modes whose codes are sRGB-encoded light, so --linear applies.
_SRGB = {"L", "LA", "RGB", "RGBA", "I;16", "I;16B"}
_POOLABLE = {"1", "L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I;16", "I;16B", "I", "F"}


@dataclass
class PooledFrame:
    """Pooled pixels, not yet an image: the caller can free the input frame first.

    ``array`` holds them, or ``ready`` when Pillow pooled the frame itself.
    """

    array: np.ndarray | None
    mode: str
    palette: ImagePalette.ImagePalette | None = None
    transparency: object = None
    ready: Image.Image | None = None

    def image(self) -> Image.Image:
        if self.ready is not None:
            return self.ready
        assert self.array is not None
        result = image_from(self.array, self.mode)
        if self.palette is not None:
            result.putpalette(self.palette)
        if self.transparency is not None:
            result.info["transparency"] = self.transparency
        return result


def pool_frame(image: Image.Image, settings: PoolSettings, notes: list[str]) -> PooledFrame:
    """Pool one decoded frame as the mode policy says; notes for stderr are appended."""
    settings.output_size(*image.size)  # refuse a too-small image in image words
    mode = settings.mode
    image = _poolable(image, mode, notes)
    if image.mode in ("P", "PA"):
        return _pool_palette(image, settings)
    reduced = _pillow_reduce(image, settings)
    if reduced is not None:
        return PooledFrame(None, reduced.mode, ready=reduced)
    averaging = mode.weighted_by_alpha
    linear = settings.linear and averaging and image.mode in _SRGB
    weighted = (
        image.mode in _WITH_ALPHA and averaging and settings.alpha is AlphaPolicy.PREMULTIPLIED
    )
    # channel by channel, RGB may carry Pillow's padding byte along (no copy out);
    # whole-pixel modes and the colour transforms want the real channels only
    array = view(image, padded=not (weighted or linear or mode is PoolMode.MODE))
    if settings.linear and averaging and not linear:
        _note(
            notes,
            f"--linear does not apply to mode {image.mode} (not sRGB-encoded); pooled as stored",
        )
    if mode is PoolMode.SUM and array.dtype.kind != "f":
        _note(
            notes,
            f"sum saturates at the {image.mode} image's maximum; write .npy to keep full sums",
        )
    if weighted:
        colour, alpha = pool_premultiplied(array[..., :-1], array[..., -1], settings, linear=linear)
        pooled = np.concatenate([colour, alpha[..., None]], axis=-1)
    elif linear:
        pooled = _pool_linear(array, image.mode, settings)
    else:
        channel_axis = 2 if array.ndim == 3 else None
        pooled = pool_all(array, settings, channel_axis=channel_axis)
    if pooled.dtype != array.dtype:  # sum widened: clip back into the mode
        info = np.iinfo(array.dtype) if array.dtype.kind in "iu" else None
        pooled = np.clip(pooled, info.min, info.max) if info else pooled
    return PooledFrame(pooled.astype(array.dtype, copy=False), image.mode)


#: Modes whose 2-wide means Pillow's ``Image.reduce`` computes exactly as the engine
#: does (rounded half up; an edge window over its real pixels). Checked byte for byte
#: by tests; not LAB (its a and b channels reduce differently), not alpha modes
#: (Pillow rounds through premultiplied values).
_PILLOW_EXACT = {"L", "RGB", "CMYK", "YCbCr"}
_TWO_WIDE = {(2, 2), (1, 2), (2, 1)}


def _pillow_reduce(image: Image.Image, settings: PoolSettings) -> Image.Image | None:
    """The result by Pillow's C ``reduce``, where it is exactly the engine's, or None.

    The commonest job, a 2x2 mean of a photo, then needs no pixel copies between
    Pillow and NumPy: measured 1.5-5x faster than the engine's path on one thread
    (256 to 4096 pixels square), and on a par with it on two.
    """
    plain = settings.padding == (0, 0) and settings.dilation == (1, 1)
    if not (
        settings.mode is PoolMode.AVG
        and image.mode in _PILLOW_EXACT
        and settings.kernel in _TWO_WIDE
        and settings.effective_stride == settings.kernel
        and plain
        and settings.divisor is None
        and settings.size is None
        and not settings.linear
    ):
        return None
    kernel_h, kernel_w = settings.kernel
    for _ in range(settings.repeat):
        width, height = image.size
        if not settings.ceil_mode:  # whole windows only: leave out the odd last row/column
            width, height = width - width % kernel_w, height - height % kernel_h
        image = image.reduce((kernel_w, kernel_h), box=(0, 0, width, height))
    image.info = {}  # like every pooled frame: metadata travels separately (a TIFF's
    # compression="group4" in info would otherwise reach the writer of an L image)
    return image


def _poolable(image: Image.Image, mode: PoolMode, notes: list[str]) -> Image.Image:
    """``image`` in a mode the policy pools directly (conversions per the module doc)."""
    if image.mode in _UNPREMULTIPLIED:
        return image.convert(_UNPREMULTIPLIED[image.mode])
    if image.mode in ("P", "PA"):
        if mode is PoolMode.MODE:
            return image
        transparent = image.mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if image.mode == "1" and not mode.selects:
        return image.convert("L")
    if image.mode in _POOLABLE:
        return image
    target = "RGBA" if "A" in image.mode else "RGB"
    try:
        converted = image.convert(target)
    except (ValueError, OSError) as error:
        message = f"cannot pool mode {image.mode}: {error}"
        raise InputError(message) from None
    _note(notes, f"mode {image.mode} pooled as {target}")
    return converted


def _pool_palette(image: Image.Image, settings: PoolSettings) -> PooledFrame:
    """``mode`` pooling of palette indices: the palette and transparency stay as they are."""
    indices = view(image)
    pooled = pool_all(indices, settings, channel_axis=2 if indices.ndim == 3 else None)
    palette = image.palette.copy() if image.palette is not None else None
    return PooledFrame(pooled, image.mode, palette, image.info.get("transparency"))


def _pool_linear(array: np.ndarray, mode: str, settings: PoolSettings) -> np.ndarray:
    """Averaging in linear light; alpha (when not weighting) pooled as stored."""
    codes = array.astype(array.dtype.newbyteorder("="), copy=False)
    colour = codes[..., :-1] if mode in _WITH_ALPHA else codes
    pooled = srgb.to_codes(pool_all(srgb.to_linear(colour), settings), codes.dtype)
    if mode in _WITH_ALPHA:
        alpha = pool_all(codes[..., -1], settings)
        pooled = np.concatenate([pooled, alpha[..., None]], axis=-1)
    return pooled


def _note(notes: list[str], text: str) -> None:
    if text not in notes:
        notes.append(text)
