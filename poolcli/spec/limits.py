"""The pixel limit (how large an input may be before poolcli refuses it unread) and
the memory budget (how large an input may be before it is pooled in bands)."""

from __future__ import annotations

import re

from ..errors import LimitError, ParameterError

#: Pillow's decompression-bomb threshold (``Image.MAX_IMAGE_PIXELS``): the default limit.
DEFAULT_MAX_PIXELS = 89_478_485


def check_pixels(size: tuple[int, int], max_pixels: int | None) -> None:
    """Refuse an image of ``size`` (width, height) above ``max_pixels``, naming the option."""
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        raise LimitError(over_limit(f"{width}x{height} = {width * height:,}", max_pixels))


def over_limit(pixels: str, max_pixels: int, subject: str = "image is", unit: str = "") -> str:
    """The message for ``subject`` of ``pixels`` pixels (``unit``: 'per plane'...)."""
    bomb = "" if unit else " (a decompression bomb?)"
    per = f" {unit}" if unit else ""
    return (
        f"{subject} {pixels} pixels{per}, over the limit of {max_pixels:,}{bomb}; "
        "raise it with `max_pixels=N` or lift it with `max_pixels=none`"
    )


#: The memory budget: inputs that stream (TIFF, .npy, Zarr) and whose pixels take
#: more than half of it are pooled a band of rows at a time, each band reading
#: about a quarter of it.
DEFAULT_MEMORY = 256 << 20
#: The smallest budget taken (tests use tiny ones to cross many band seams).
MIN_MEMORY = 1 << 10
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def parse_memory(value: object) -> int:
    """A memory budget in bytes from ``value``: an int, or text like ``512M``, ``2G``, ``1.5g``."""
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    else:
        match = _MEMORY.match(str(value))
        if match is None:
            message = f"`memory` must be a size like 256M, 2G or 1048576 (bytes), got {value!r}"
            raise ParameterError(message, parameter="memory", value=value)
        amount = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if amount < MIN_MEMORY:
        message = f"`memory` must be at least {MIN_MEMORY} bytes (1K), got {value!r}"
        raise ParameterError(message, parameter="memory", value=value)
    return amount
