"""Opening an image file under poolcli's pixel limit (Pillow only, no NumPy)."""

from __future__ import annotations

import threading
import warnings
from typing import IO

from PIL import Image

from ..errors import LimitError


def check_pixels(size: tuple[int, int], max_pixels: int | None) -> None:
    """Refuse an image of ``size`` (width, height) above ``max_pixels``, naming the option."""
    width, height = size
    if max_pixels is not None and width * height > max_pixels:
        message = (
            f"image is {width}x{height} = {width * height:,} pixels, over the limit of "
            f"{max_pixels:,} (a decompression bomb?); raise it with --max-pixels N or "
            "lift it with --max-pixels none"
        )
        raise LimitError(message)


def use_block_allocator() -> None:
    """Have Pillow keep each new image in one memory block, so that
    :func:`poolcli.images.pixels.view` can map it.

    This changes only how Pillow lays out image memory, not any pixel value.
    """
    core = Image.core
    if hasattr(core, "set_use_block_allocator") and not core.get_use_block_allocator():
        core.set_use_block_allocator(1)


_LIMIT_LOCK = threading.Lock()


def open_image(stream: IO[bytes], max_pixels: int | None) -> Image.Image:
    """``Image.open`` with poolcli's pixel limit instead of Pillow's.

    Pillow refuses at twice its own limit inside ``open``, before the size can be
    read, with a message that names no option. Its check is switched off for the
    header read (under a lock: it is a global), and ours applied to the header size.
    """
    with _LIMIT_LOCK:
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                image = Image.open(stream)
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    check_pixels(image.size, max_pixels)
    return image
