"""Opening an image file under poolcli's pixel limit, Pillow's own checks included.

Pillow only, no NumPy. The limit itself and its message are in
:mod:`poolcli.spec.limits`.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from PIL import Image

from ...errors import LimitError
from ...spec.limits import check_pixels, over_limit


def use_block_allocator() -> None:
    """Have Pillow keep each new image in one memory block, so that
    :func:`poolcli.images.engine_route.pixels.view` can map it.

    This changes only how Pillow lays out image memory, not any pixel value.
    """
    core = Image.core
    if hasattr(core, "set_use_block_allocator") and not core.get_use_block_allocator():
        core.set_use_block_allocator(1)


def open_image(stream: IO[bytes], max_pixels: int | None) -> Image.Image:
    """``Image.open``, then poolcli's pixel limit applied to the header size.

    Call it inside :func:`pillow_limit`, so that Pillow's own checks (which run
    before the size can be read) follow the same limit.
    """
    image = Image.open(stream)
    check_pixels(image.size, max_pixels)
    return image


class _SharedGlobal:
    """Pillow's pixel limit is one global for every thread: threads that need the
    same value share it; a thread that needs another waits until they are done."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._users = 0
        self._value: int | None = None
        self._saved: int | None = None

    @contextmanager
    def holding(self, value: int | None) -> Iterator[None]:
        with self._changed:
            while self._users and self._value != value:
                self._changed.wait()
            if not self._users:
                self._saved, self._value = Image.MAX_IMAGE_PIXELS, value
                Image.MAX_IMAGE_PIXELS = value
            self._users += 1
        try:
            yield
        finally:
            with self._changed:
                self._users -= 1
                if not self._users:
                    Image.MAX_IMAGE_PIXELS = self._saved
                    self._changed.notify_all()


_PILLOW_LIMIT = _SharedGlobal()


@contextmanager
def pillow_limit(max_pixels: int | None) -> Iterator[None]:
    """Pillow's own pixel limit set to ``max_pixels`` while the block runs.

    Pillow checks a size against its global limit wherever it allocates from a
    header: opening a file (a GIF frame's background buffer), seeking a frame,
    loading a TIFF. Left at Pillow's default, a 44-byte GIF fills gigabytes before
    poolcli sees its size, and a raised ``--max-pixels`` still stops at Pillow's
    limit with a message that names no option.
    """
    # Pillow refuses above twice its limit, and only warns above it
    pillow = None if max_pixels is None else -(-max_pixels // 2)
    with _PILLOW_LIMIT.holding(pillow):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                yield
        except Image.DecompressionBombError as error:
            assert max_pixels is not None, "Pillow has no limit without ours"
            found = re.search(r"\((\d+) pixels\)", str(error))
            pixels = f"{int(found.group(1)):,}" if found else "more than"
            raise LimitError(over_limit(pixels, max_pixels)) from None
