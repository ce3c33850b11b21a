"""Decoding ahead: start decoding the one input while the rest of poolcli loads.

A single-file run spends its first tens of milliseconds importing click, the image
layer (and NumPy, when the engine runs), and about 100 ms decoding a large JPEG.
Pillow's decoders release the GIL, so the console script starts the decode on a
thread as soon as it can guess the input (:meth:`DecodeAhead.start`, Pillow only:
no NumPy) and hands the :class:`DecodeAhead` on, explicitly, to the batch and the
conversion, which take the loaded image when they get there (:meth:`DecodeAhead.take`).

Only still files of the formats marked ``decoded_ahead`` in the format table (JPEG,
PNG) are decoded ahead: their first frame is the whole image. The result is used
only for the same, unchanged file read under the same pixel limit; anything unusual
(another format, an error, a changed file) leaves the ordinary path to decode the
file and report its problems, so decoding ahead never changes what a run does.
"""

from __future__ import annotations

import os
import threading

from PIL import Image

from ..formats import FORMATS
from .limits import open_image, pillow_limit, use_block_allocator

_FORMATS = {record.name for record in FORMATS.values() if record.decoded_ahead}
_SUFFIXES = {ext for name in _FORMATS for ext in FORMATS[name].extensions}


class DecodeAhead:
    """One file being decoded on a thread of its own; its image is handed out once."""

    def __init__(self, path: str, max_pixels: int | None) -> None:
        self.path = path
        self.max_pixels = max_pixels
        self._image: Image.Image | None = None
        self._identity: tuple[int, int, int, int] | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._decode, name="poolcli-ahead", daemon=True)
        self._thread.start()

    @classmethod
    def start(cls, path: str, max_pixels: int | None) -> DecodeAhead | None:
        """Begin decoding ``path`` on a thread, if it looks like a still JPEG or PNG."""
        if os.path.splitext(path)[1].lower() in _SUFFIXES and os.path.isfile(path):
            return cls(path, max_pixels)
        return None

    def matches(self, path: object, max_pixels: int | None) -> bool:
        """True when this decode is of ``path`` under the limit ``max_pixels``."""
        return (
            isinstance(path, (str, os.PathLike))
            and os.fspath(path) == self.path
            and max_pixels == self.max_pixels
        )

    def take(self, path: object, max_pixels: int | None) -> Image.Image | None:
        """The image decoded ahead for ``path`` (waiting for it), or None.

        None unless this decode is of this very path under the same limit, it
        succeeded, the file is unchanged since, and it was not taken before.
        """
        if self._taken or not self.matches(path, max_pixels):
            return None
        self._taken = True
        self._thread.join()
        try:
            unchanged = self._identity is not None and _identity(self.path) == self._identity
        except OSError:
            return None
        image, self._image = self._image, None
        return image if unchanged else None

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
        self._image, self._identity = image, identity


def _identity(path: str) -> tuple[int, int, int, int]:
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns
