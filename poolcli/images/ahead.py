"""Decoding ahead: start decoding the one input while the rest of poolcli loads.

A single-file run spends its first tens of milliseconds importing click, the image
layer (and NumPy, when the engine runs), and about 100 ms decoding a large JPEG. Pillow's decoders
release the GIL, so the command line starts the decode on a thread as soon as it
knows the input (:func:`start`, Pillow only: no NumPy), and the image layer takes
the loaded image when it gets there (:func:`take`).

Only still JPEG and PNG files are decoded ahead (their first frame is the whole
image). The result is used only for the same, unchanged file; anything unusual
(another format, an error, a changed file) leaves the ordinary path to decode the
file and report its problems, so decoding ahead never changes what a run does.
"""

from __future__ import annotations

import os
import threading

from PIL import Image

from .opening import open_image, pillow_limit, use_block_allocator

_FORMATS = {"JPEG", "PNG"}
_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".png"}


class _Ahead:
    """One file being decoded on a thread of its own."""

    def __init__(self, path: str, max_pixels: int | None):
        self.path = path
        self.max_pixels = max_pixels
        self.image: Image.Image | None = None
        self.identity: tuple[int, int, int, int] | None = None
        self.thread = threading.Thread(target=self._decode, name="poolcli-ahead", daemon=True)
        self.thread.start()

    def _decode(self) -> None:
        try:
            identity = _identity(self.path)
            use_block_allocator()
            with open(self.path, "rb") as stream, pillow_limit(self.max_pixels):
                image = open_image(stream, self.max_pixels)
                if image.format not in _FORMATS or getattr(image, "is_animated", False):
                    return
                image.load()
        except Exception:  # noqa: BLE001 - the ordinary path decodes it again, and reports
            return
        self.image, self.identity = image, identity


_pending: _Ahead | None = None


def start(path: str, max_pixels: int | None) -> None:
    """Begin decoding ``path`` on a thread, if it looks like a still JPEG or PNG."""
    global _pending
    if _pending is not None and (_pending.path, _pending.max_pixels) == (path, max_pixels):
        return  # already started, from the command's first guess (poolcli.launch)
    if os.path.splitext(path)[1].lower() in _SUFFIXES and os.path.isfile(path):
        _pending = _Ahead(path, max_pixels)


def take(path: object) -> Image.Image | None:
    """The image decoded ahead for ``path`` (waiting for it), or None.

    None unless :func:`start` was given this very path, the decode succeeded, and
    the file is unchanged since. Each decode is handed out once.
    """
    global _pending
    ahead, _pending = _pending, None
    if ahead is None or not isinstance(path, (str, os.PathLike)) or os.fspath(path) != ahead.path:
        return None
    ahead.thread.join()
    try:
        unchanged = ahead.identity is not None and _identity(ahead.path) == ahead.identity
    except OSError:
        return None
    return ahead.image if unchanged else None


def _identity(path: str) -> tuple[int, int, int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
