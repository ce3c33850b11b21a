"""sRGB <-> linear light, exactly invertible on 8- and 16-bit codes.

Averaging sRGB codes darkens: a black/white checkerboard averages to code 128, which
displays at about 22% of white's light, not 50%. ``--linear`` decodes to linear
light, pools there, and encodes back; a uniform window keeps its exact code.
"""

from __future__ import annotations

from functools import cache

import numpy as np


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """The sRGB transfer function's inverse (IEC 61966-2-1), on values in [0, 1]."""
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


@cache
def _decode_table(bits: int) -> np.ndarray:
    top = (1 << bits) - 1
    return srgb_to_linear(np.arange(top + 1, dtype=np.float64) / top)


@cache
def _thresholds(bits: int) -> np.ndarray:
    # linear value at each half-code: code k wins between thresholds k-1 and k
    top = (1 << bits) - 1
    return srgb_to_linear((np.arange(top, dtype=np.float64) + 0.5) / top)


def to_linear(codes: np.ndarray) -> np.ndarray:
    """uint8 or uint16 sRGB codes -> float64 linear light in [0, 1]."""
    return _decode_table(codes.dtype.itemsize * 8)[codes]


def to_codes(linear: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Linear light -> the nearest sRGB code of ``dtype`` (rounded in sRGB, half up)."""
    bits = np.dtype(dtype).itemsize * 8
    return np.searchsorted(_thresholds(bits), linear, side="right").astype(dtype)
