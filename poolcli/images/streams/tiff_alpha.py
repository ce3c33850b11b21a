"""A TIFF's alpha as the row readers serve it: straight colour, as Pillow decodes it.

An associated (premultiplied) alpha TIFF stores colour already multiplied by its
alpha. Pillow divides it out as it decodes (RGB through its ``RGBa`` unpacker, grey
as mode ``La`` that the policy converts to ``LA``), so the whole-image path pools
straight colour, weights it by alpha once and writes an unassociated alpha. The row
readers divide the same way, band by band, with Pillow's arithmetic (``c * max // a``
clipped to ``max``; a fully transparent RGB pixel black, a grey one as stored), and
call the alpha unassociated: a streamed or pyramid output is then the whole
image's byte for byte, and its ExtraSamples tag says what its samples are.

Pillow misreads some planar (a plane per sample) TIFFs with alpha:
:func:`pillow_misreads` names them, and poolcli reads them with tifffile whatever
their size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np


def straightening(
    extrasamples: Sequence[str], photometric: str | None, dtype: np.dtype
) -> Callable[[np.ndarray], np.ndarray] | None:
    """What turns bands of a TIFF's (rows, W, C) samples into straight colour: None
    unless its one extra sample is an associated alpha of unsigned or float samples
    (up to 32 bits)."""
    dtype = np.dtype(dtype)
    if tuple(extrasamples) != ("ASSOCALPHA",) or dtype.kind not in "uf" or dtype.itemsize > 4:
        return None
    return functools.partial(straight, clear=photometric == "rgb")


def straight(band: np.ndarray, *, clear: bool) -> np.ndarray:
    """(rows, W, C) samples whose last is an associated alpha, with colour divided by
    it: ``min(c * max // a, max)`` for unsigned samples (``max`` the dtype's), ``c / a``
    for floats; where ``a`` is 0, colour 0 if ``clear``, else as stored. A new array."""
    out = band.copy()
    alpha = band[..., -1]
    hidden = alpha == 0
    if band.dtype.kind == "f":
        for k in range(band.shape[-1] - 1):
            np.divide(band[..., k], alpha, out=out[..., k], where=~hidden)
    else:
        top = np.iinfo(band.dtype).max
        wider = np.dtype(f"u{2 * band.dtype.itemsize}")  # room for c * max
        divisor = np.maximum(alpha, 1).astype(wider)
        for k in range(band.shape[-1] - 1):
            colour = band[..., k].astype(wider) * wider.type(top) // divisor
            out[..., k] = np.minimum(colour, top)
    out[..., :-1][hidden] = 0 if clear else band[..., :-1][hidden]
    return out


def pillow_misreads(
    planar: bool, photometric: str | None, extrasamples: Sequence[str], compression: int
) -> bool:
    """Whether Pillow (13) decodes a TIFF wrongly or not at all: planar grey + alpha
    (its alpha all 0, or "unknown raw mode"), and uncompressed planar RGB + associated
    alpha ("unknown raw mode"). ``compression`` is the TIFF's code (1: none)."""
    if not planar or not extrasamples or extrasamples[-1] not in ("ASSOCALPHA", "UNASSALPHA"):
        return False
    return photometric == "minisblack" or (extrasamples[-1] == "ASSOCALPHA" and compression == 1)
