"""The pixel limit: how large an input may be before poolcli refuses it unread."""

from __future__ import annotations

from ..errors import LimitError

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
