"""The mode policy: how a frame of each Pillow mode is pooled, and what mode comes out.

- ``1``: max = OR, min = AND, mode = majority; the other modes average, so they
  give ``L`` (0 or 255 per pixel in, grey levels out).
- ``L``, ``I;16``/``I;16B``, ``I``, ``F``: pooled at their own bit depth.
- ``LA``, ``RGB``, ``RGBA``, ``CMYK``, ``YCbCr``, ``LAB``: per channel, in their own space;
  averaging modes weight colour by alpha (see :mod:`poolcli.images.alpha`).
- ``P``/``PA``: ``mode`` pools the palette indices and keeps the palette; every other
  mode converts to ``RGB``/``RGBA`` first (transparency kept).
- ``La``/``RGBa`` (premultiplied) become ``LA``/``RGBA``.

Where Pillow's own ``reduce`` gives the engine's very bytes (2-wide means of ``L``,
``RGB``, ``CMYK``, ``YCbCr``), it pools the frame and NumPy never loads; every other
frame goes through :mod:`poolcli.images.engine_path`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImagePalette

from ..errors import InputError
from ..pooling.modes import PoolMode
from .settings import PoolSettings

if TYPE_CHECKING:
    import numpy as np

_UNPREMULTIPLIED = {"La": "LA", "RGBa": "RGBA", "I;16L": "I;16", "I;16N": "I;16"}
#: Modes with an alpha channel (last), which averaging modes weight colour by.
WITH_ALPHA = {"LA", "RGBA"}
#: Modes whose codes are sRGB-encoded light, so --linear applies.
SRGB = {"L", "LA", "RGB", "RGBA", "I;16", "I;16B"}
_POOLABLE = {"1", "L", "LA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I;16", "I;16B", "I", "F"}


@dataclass
class PooledFrame:
    """Pooled pixels, not yet an image: the caller can free the input frame first.

    ``array`` holds them (the engine's result), or ``ready`` when Pillow pooled the
    frame itself.
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
        from .pixels import image_from  # an array means NumPy is loaded already

        result = image_from(self.array, self.mode)
        if self.palette is not None:
            result.putpalette(self.palette)
        if self.transparency is not None:
            result.info["transparency"] = self.transparency
        return result


def pool_frame(image: Image.Image, settings: PoolSettings, notes: list[str]) -> PooledFrame:
    """Pool one decoded frame as the mode policy says; notes for stderr are appended.

    Pillow's own ``reduce`` pools it where that gives the engine's very bytes (see
    :func:`reducible_by_pillow`), without loading NumPy; the engine does the rest.
    """
    settings.output_size(*image.size)  # refuse a too-small image in image words
    image = _poolable(image, settings.mode, notes)
    if image.mode in _PILLOW_EXACT and reducible_by_pillow(settings):
        return PooledFrame(None, image.mode, ready=_pillow_reduce(image, settings))
    from . import engine_path  # NumPy and the engine load here, on first need

    if image.mode in ("P", "PA"):
        return engine_path.pool_palette(image, settings)
    return engine_path.pool_pixels(image, settings, notes)


#: Modes whose 2-wide means Pillow's ``Image.reduce`` computes exactly as the engine
#: does (rounded half up; an edge window over its real pixels). Checked byte for byte
#: by tests; not LAB (its a and b channels reduce differently), not alpha modes
#: (Pillow rounds through premultiplied values).
_PILLOW_EXACT = {"L", "RGB", "CMYK", "YCbCr"}
_TWO_WIDE = {(2, 2), (1, 2), (2, 1)}


def reducible_by_pillow(settings: PoolSettings) -> bool:
    """Whether Pillow's C ``reduce`` gives the engine's result for these settings
    (on frames of the modes it is exact for: L, RGB, CMYK, YCbCr).

    The commonest job, a 2x2 mean of a photo, then needs no pixel copies between
    Pillow and NumPy, nor NumPy at all: measured 1.5-5x faster than the engine's
    path on one thread (256 to 4096 pixels square), and on a par with it on two.
    """
    return (
        settings.mode is PoolMode.AVG
        and settings.kernel in _TWO_WIDE
        and settings.effective_stride == settings.kernel
        and settings.padding == (0, 0)
        and settings.dilation == (1, 1)
        and settings.divisor is None
        and settings.size is None
        and not settings.linear
    )


def _pillow_reduce(image: Image.Image, settings: PoolSettings) -> Image.Image:
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
    note(notes, f"mode {image.mode} pooled as {target}")
    return converted


def note(notes: list[str], text: str) -> None:
    """Append ``text`` to the notes for stderr, once."""
    if text not in notes:
        notes.append(text)
