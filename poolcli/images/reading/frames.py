"""Decoding an input: every frame of an image, upright, or the arrays of a .npy/.npz.

Sizes are checked against the pixel limit from the header, before any pixel is
decoded, and whatever a parser raises becomes one :class:`InputError` line (see
:mod:`.sources`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from PIL import Image, ImageOps

from ...errors import InputError
from ...spec.limits import check_pixels
from ..metadata import Metadata
from ..tiff_mask import frame_pages, masked
from .ahead import DecodeAhead
from .headers import orientation
from .limits import open_image, pillow_limit, use_block_allocator
from .sources import Source, opened, pillow_errors, silenced, sniffed

if TYPE_CHECKING:  # arrays (NumPy) load for .npy/.npz inputs only
    from ..arrays.layouts import LaidOut


@dataclass
class Decoded:
    """One input being decoded: its frames (a one-pass stream) or its arrays.

    ``frames`` yields each frame upright, decoded on demand: a frame is only valid
    until the next one is requested, so memory holds one input frame at a time.
    ``metadata`` gains the animation timing as the frames are read.
    """

    format: str
    metadata: Metadata = field(default_factory=Metadata)
    frames: Iterator[Image.Image] = field(default_factory=lambda: iter(()))
    arrays: dict[str, LaidOut] = field(default_factory=dict)
    #: How many frames the file holds (``frames`` may yield fewer: one asked for).
    count: int = 1

    @property
    def is_array(self) -> bool:
        return bool(self.arrays)


@contextmanager
def decoding(
    source: Source,
    *,
    max_pixels: int | None,
    frame: int | None = None,
    layout: str | None = None,
    ahead: DecodeAhead | None = None,
) -> Iterator[Decoded]:
    """Open ``source`` for decoding: all its frames (or frame ``frame``), or its arrays.

    ``ahead`` may hold this very file already decoded (see :mod:`.ahead`).
    """
    decoded_ahead = None if ahead is None else ahead.take(source, max_pixels)
    if decoded_ahead is not None:  # a still JPEG or PNG decoded while poolcli loaded
        metadata = Metadata.from_image(decoded_ahead)
        indices = [frame_index(frame, 1)] if frame is not None else [0]
        frames = _frames(decoded_ahead, indices, metadata, max_pixels, b"")
        yield Decoded(decoded_ahead.format or "?", metadata, frames)
        return
    with opened(source) as stream:
        head, array_format = sniffed(stream)
        if array_format is not None:
            if frame is not None:
                message = "`frame` applies to multi-frame images, not to .npy/.npz arrays"
                raise InputError(message)
            from ..arrays import files  # NumPy loads here, for arrays only

            is_npz = array_format.name == "NPZ"
            arrays = files.read(stream, is_npz=is_npz, layout=layout, max_pixels=max_pixels)
            yield Decoded(array_format.name, arrays=arrays)
            return
        use_block_allocator()  # decoded frames can then be pooled without a copy
        with silenced(head), pillow_errors(head), pillow_limit(max_pixels):
            image = open_image(stream, max_pixels)
            metadata = Metadata.from_image(image)
            pages = frame_pages(image, stream)
            count = getattr(image, "n_frames", 1) if pages is None else len(pages[0])
        if frame is not None:
            metadata.default_image = False  # one frame out: a still, whichever it is
        indices = list(range(count)) if frame is None else [frame_index(frame, count)]
        frames = _frames(image, indices, metadata, max_pixels, head, pages, stream)
        yield Decoded(image.format or "?", metadata, frames, count=count)


def _frames(
    image: Image.Image,
    indices,
    metadata: Metadata,
    max_pixels: int | None,
    head: bytes,
    pages: tuple[list[int], dict[int, int]] | None = None,
    stream: IO[bytes] | None = None,
) -> Iterator[Image.Image]:
    """Each frame of ``image`` loaded and upright, one at a time; ``pages``: a TIFF's
    frame pages and internal masks (:func:`..tiff_mask.frame_pages`), read from ``stream``."""
    durations, compressions = [], []
    for index in indices:
        with silenced(head), pillow_errors(), pillow_limit(max_pixels):
            page = index if pages is None else pages[0][index]
            image.seek(page)
            check_pixels(image.size, max_pixels)
            image.load()
            if not (index == 0 and metadata.default_image):  # not an animation frame
                durations.append(image.info.get("duration"))
            compressions.append(image.info.get("compression"))
            mask = None if pages is None else pages[1].get(page)
            loaded = image
            if mask is not None:
                assert stream is not None, "pages come from a stream"
                loaded = masked(image, stream, mask)
            upright = _upright(loaded)
        yield upright
    metadata.set_durations(durations)
    if metadata.compression is not None:  # a TIFF: each page keeps its own where it can
        metadata.page_compressions = compressions


def _upright(image: Image.Image) -> Image.Image:
    """The loaded frame turned by its EXIF orientation (the frame itself if upright).

    Pillow applies a TIFF orientation at load() and drops the tag, so only frames
    whose EXIF orientation is still pending turn here: never twice.
    """
    if orientation(image) not in (None, 1):
        return ImageOps.exif_transpose(image)
    return image


def frame_index(frame: int, count: int) -> int:
    """Frame ``frame`` (negative: from the end) of ``count``; InputError out of range."""
    if not -count <= frame < count:
        message = (
            f"`frame={frame}` is out of range: the image has {count} frame(s), 0 to {count - 1}"
        )
        raise InputError(message)
    return frame % count
