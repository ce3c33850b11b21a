"""Pooling one frame: the mode policy says how each Pillow mode is pooled.

- ``1``: max = OR, min = AND, mode = majority; the other modes average, so they
  give ``L`` (0 or 255 per pixel in, grey levels out), with a note.
- ``L``, ``I;16``/``I;16B``, ``I``, ``F``: pooled at their own bit depth.
- ``LA``, ``RGB``, ``RGBA``, ``CMYK``, ``YCbCr``, ``LAB``: per channel, in their own space;
  averaging modes weight colour by alpha (see :mod:`.engine_route.alpha`).
- ``P``/``PA``: ``mode`` pools the palette indices and keeps the palette (invisible
  pixels vote only where a window has no visible one, as on RGBA); every other
  mode converts to ``RGB``/``RGBA`` first (transparency kept).
- ``La``/``RGBa`` (premultiplied) become ``LA``/``RGBA``.

Each mode's facts are its record in :mod:`.modes`. Where Pillow's own ``reduce``
gives the engine's very bytes (2-wide means of the modes marked
``pillow_reduce_exact``), it pools the frame and NumPy never loads; every other
frame takes the engine's route (:mod:`.engine_route`).
"""

from __future__ import annotations

from dataclasses import replace

from PIL import Image, ImageChops

from ..errors import InputError
from ..spec.modes import NO_NODATA, PoolMode
from ..spec.settings import PoolSettings
from .modes import mode_of
from .pooled import PooledFrame
from .requests import add_note


def pool_frame(
    image: Image.Image, settings: PoolSettings, notes: list[str], *, wide: bool = False
) -> PooledFrame:
    """Pool one decoded frame as the mode policy says; notes for the report are appended.

    ``wide``: the result goes to an array, so a sum keeps its widened integers
    instead of saturating at the image mode's maximum.

    Pillow's own ``reduce`` pools it where that gives the engine's very bytes (see
    :func:`reducible_by_pillow`), without loading NumPy; the engine does the rest.
    """
    settings.output_size(*image.size)  # refuse a too-small image in image words
    averaged = mode_of(image.mode)
    if averaged is not None and averaged.averaged_as is not None and not settings.mode.selects:
        add_note(notes, f"1-bit pixels pooled into grey levels ({averaged.averaged_as}) by "
                        f"`mode={settings.mode}`; `mode` max, min or mode keeps 1 bit")  # fmt: skip
    image = _poolable(image, settings.mode, notes)
    record = mode_of(image.mode)
    if record is not None and record.pillow_reduce_exact and reducible_by_pillow(settings):
        return PooledFrame(None, image.mode, ready=_pillow_reduce(image, settings))
    from .engine_route import route  # NumPy and the engine load here, on first need

    if record is not None and record.palette:
        return route.pool_palette(image, settings)
    return route.pool_pixels(image, settings, notes, wide=wide)


_TWO_WIDE = {(2, 2), (1, 2), (2, 1)}


def reducible_by_pillow(settings: PoolSettings) -> bool:
    """Whether Pillow's C ``reduce`` gives the engine's result for these settings
    (on frames of the modes marked ``pillow_reduce_exact``: L, RGB, CMYK, YCbCr).

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
        and settings.nodata_value is None
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
    record = mode_of(image.mode)
    if record is not None and record.palette:
        if mode is PoolMode.MODE:
            return image
        transparent = record.alpha or "transparency" in image.info
        return image.convert("RGBA" if transparent else "RGB")
    if record is not None and record.pooled_as is not None:
        return image.convert(record.pooled_as)
    if record is not None and record.averaged_as is not None and not mode.selects:
        return image.convert(record.averaged_as)
    if record is not None and record.poolable:
        return image
    target = "RGBA" if "A" in image.mode else "RGB"
    try:
        converted = image.convert(target)
    except (ValueError, OSError) as error:
        message = f"cannot pool mode {image.mode}: {error}"
        raise InputError(message) from None
    add_note(notes, f"mode {image.mode} pooled as {target}")
    return converted


def nodata_index_transparent(
    image: Image.Image, settings: PoolSettings, notes: list[str]
) -> tuple[Image.Image, PoolSettings]:
    """A palette frame whose nodata is one of its indices, for a mode that pools its
    colours (not ``mode``): :func:`transparent_index`, and settings without nodata
    (an index is no colour value). Other frames come back as they are."""
    nodata = settings.nodata_value
    record = mode_of(image.mode)
    if record is None or not record.palette or nodata is None or settings.mode is PoolMode.MODE:
        return image, settings
    return transparent_index(image, nodata, notes), replace(settings, nodata=NO_NODATA)


def transparent_index(image: Image.Image, nodata: int | float, notes: list[str]) -> Image.Image:
    """A ``P``/``PA`` image's colours as RGBA, its ``nodata`` index made transparent
    (alpha 0: left out of every mean, and the mask GDAL reads)."""
    indices = image.getchannel(0) if image.mode == "PA" else image
    indices = Image.frombytes("L", image.size, indices.tobytes())
    valid = indices.point(lambda i: 0 if i == nodata else 255)
    colours = image.convert("RGBA")
    colours.putalpha(ImageChops.darker(colours.getchannel("A"), valid))
    add_note(notes, f"palette pooled as its colours, its nodata index {nodata} made "
             "transparent; -m mode keeps its indices and colour table")  # fmt: skip
    return colours
