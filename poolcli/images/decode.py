"""Reading inputs: every frame of an image, upright, or the arrays of a .npy/.npz.

Untrusted bytes meet Pillow's parsers here, so everything they can raise becomes
an :class:`InputError` with one line of explanation. Sizes are checked against the
pixel limit from the header, before any pixel is decoded.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, BinaryIO, Union, cast

from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import InputError
from . import ahead
from .metadata import Metadata
from .opening import check_pixels, open_image, pillow_limit, use_block_allocator

if TYPE_CHECKING:  # arrays (NumPy) loads for .npy/.npz inputs only
    from .arrays import LaidOut

#: What can be read: a path, the file's bytes, or a binary stream.
Source = Union[str, os.PathLike, bytes, BinaryIO]  # noqa: UP007 - a runtime alias on 3.10

_NPY_MAGIC = b"\x93NUMPY"
# A pickle of protocol 2 to 5 (what pickle.dump and numpy write) starts PROTO, version
_PICKLE_PROTOCOL = b"\x80"
_PICKLE_VERSIONS = {bytes([version]) for version in range(2, 6)}
_ZIP_MAGIC = b"PK\x03\x04"


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

    @property
    def is_array(self) -> bool:
        return bool(self.arrays)


def read_bytes(source: Source) -> bytes | None:
    """The bytes of a stream or bytes source; None for a path (read lazily)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        return source.read()
    return None


@contextmanager
def opened(source: Source) -> Iterator[IO[bytes]]:
    """A seekable binary stream over ``source``; InputError when it cannot be opened."""
    data = read_bytes(source)
    if data is not None:
        yield io.BytesIO(data)
        return
    try:
        stream = open(cast("str | os.PathLike[str]", source), "rb")  # noqa: SIM115 - closed below
    except IsADirectoryError:
        message = "is a directory, not a file (use -r to pool a folder)"
        raise InputError(message) from None
    except OSError as error:
        raise InputError(_os_reason(error)) from None
    with stream:
        if stream.seekable():
            yield stream
            return
        # a pipe or a FIFO (a process substitution, <(curl ...)): read whole, as stdin is
        try:
            data = stream.read()
        except OSError as error:
            raise InputError(_os_reason(error, "cannot read")) from None
    yield io.BytesIO(data)


@contextmanager
def decoding(
    source: Source,
    *,
    max_pixels: int | None,
    frame: int | None = None,
    layout: str | None = None,
) -> Iterator[Decoded]:
    """Open ``source`` for decoding: all its frames (or frame ``frame``), or its arrays."""
    decoded_ahead = ahead.take(source)
    if decoded_ahead is not None:  # a still JPEG or PNG the command line decoded early
        metadata = Metadata.from_image(decoded_ahead)
        indices = [_frame_index(frame, 1)] if frame is not None else [0]
        frames = _frames(decoded_ahead, indices, metadata, max_pixels, b"")
        yield Decoded(decoded_ahead.format or "?", metadata, frames)
        return
    with opened(source) as stream:
        head, array_file = _sniff(stream)
        if array_file:
            yield _decode_arrays(stream, head, max_pixels=max_pixels, layout=layout, frame=frame)
            return
        use_block_allocator()  # decoded frames can then be pooled without a copy
        with _silenced(head), _pillow_errors(head), pillow_limit(max_pixels):
            image = open_image(stream, max_pixels)
            metadata = Metadata.from_image(image)
            count = getattr(image, "n_frames", 1)
        indices = list(range(count)) if frame is None else [_frame_index(frame, count)]
        frames = _frames(image, indices, metadata, max_pixels, head)
        yield Decoded(image.format or "?", metadata, frames)


def _frames(
    image: Image.Image, indices, metadata: Metadata, max_pixels: int | None, head: bytes
) -> Iterator[Image.Image]:
    """Each frame of ``image`` loaded and upright, one at a time."""
    durations = []
    for index in indices:
        with _silenced(head), _pillow_errors(), pillow_limit(max_pixels):
            image.seek(index)
            check_pixels(image.size, max_pixels)
            image.load()
            info = image.info
            durations.append(info.get("duration"))
            upright = _upright(image)
        yield upright
    metadata.set_durations(durations)


@dataclass(frozen=True)
class Plane:
    """Header facts of one frame or array: enough to plan, never decoded."""

    name: str
    mode: str
    size: tuple[int, int]
    shape: tuple[int, ...] | None = None
    layout: str | None = None


@dataclass
class Description:
    """What ``probe`` learns from headers alone."""

    format: str
    planes: list[Plane]
    metadata: Metadata
    is_array: bool = False

    @property
    def size(self) -> tuple[int, int]:
        return self.planes[0].size


def probe(
    source: Source, *, max_pixels: int | None = None, layout: str | None = None
) -> Description:
    """Read headers only: format, every frame's (or array's) mode and size, metadata."""
    with opened(source) as stream:
        head, array_file = _sniff(stream)
        if array_file:
            from . import arrays

            is_npz = head.startswith(_ZIP_MAGIC)
            headers = arrays.probe(stream, is_npz, layout=layout, max_pixels=max_pixels)
            planes = [Plane(h.name, str(h.dtype), h.size, h.shape, h.layout) for h in headers]
            return Description("NPZ" if is_npz else "NPY", planes, Metadata(), is_array=True)
        with _silenced(head), _pillow_errors(head), pillow_limit(max_pixels):
            image = open_image(stream, max_pixels)
            metadata = Metadata.from_image(image)
            planes = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                check_pixels(image.size, max_pixels)
                planes.append(Plane(str(index), image.mode, _upright_size(image)))
            return Description(image.format or "?", planes, metadata)


def _upright(image: Image.Image) -> Image.Image:
    """The loaded frame turned by its EXIF orientation (the frame itself if upright).

    Pillow applies a TIFF orientation at load() and drops the tag, so only frames
    whose EXIF orientation is still pending turn here: never twice.
    """
    if _orientation(image) not in (None, 1):
        return ImageOps.exif_transpose(image)
    return image


def _orientation(image: Image.Image) -> int | None:
    try:
        return image.getexif().get(0x0112)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the rotation
        return None


def _decode_arrays(stream, head, *, max_pixels, layout, frame) -> Decoded:
    if frame is not None:
        message = "--frame applies to multi-frame images, not to .npy/.npz arrays"
        raise InputError(message)
    from . import arrays  # NumPy loads here, for arrays only

    return arrays.read(
        stream, is_npz=head.startswith(_ZIP_MAGIC), layout=layout, max_pixels=max_pixels
    )


def _frame_index(frame: int, count: int) -> int:
    if not -count <= frame < count:
        message = (
            f"--frame {frame} is out of range: the image has {count} frame(s), 0 to {count - 1}"
        )
        raise InputError(message)
    return frame % count


def _upright_size(image: Image.Image) -> tuple[int, int]:
    """Size after EXIF orientation, without decoding."""
    if image.format == "TIFF":
        return image.size  # Pillow reports a TIFF's display size and rotates at load
    orientation = _orientation(image)
    width, height = image.size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _sniff(stream: IO[bytes]) -> tuple[bytes, bool]:
    """The first bytes of ``stream``, and whether it holds .npy/.npz arrays."""
    head = stream.read(8)
    stream.seek(0)
    if not head:
        message = "file is empty"
        raise InputError(message)
    array_file = head.startswith(_NPY_MAGIC) or (head.startswith(_ZIP_MAGIC) and _is_npz(stream))
    return head, array_file


def _is_npz(stream: IO[bytes]) -> bool:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        stream.seek(0)
    return bool(names) and all(name.endswith(".npy") for name in names)


_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_STDERR_LOCK = threading.Lock()


@contextmanager
def _silenced(head: bytes) -> Iterator[None]:
    """Keep parsers quiet, so the command line shows one line per problem.

    Python warnings are ignored. libtiff, the one C library here that prints (every
    damaged strip, every unknown tag) straight to file descriptor 2, gets a
    temporary file there while a TIFF is read; its first line explains a failure.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not head.startswith(_TIFF_MAGIC):
            yield
            return
        with _STDERR_LOCK, tempfile.TemporaryFile() as sink:
            try:
                saved = os.dup(2)
            except OSError:  # no stderr to protect
                yield
                return
            os.dup2(sink.fileno(), 2)
            try:
                yield
            except InputError as error:
                os.dup2(saved, 2)
                sink.seek(0)
                chatter = sink.read(400).decode("utf-8", "replace").strip().splitlines()
                if chatter:
                    message = f"{error} ({chatter[0].strip()})"
                    raise InputError(message) from None
                raise
            finally:
                os.dup2(saved, 2)
                os.close(saved)


@contextmanager
def _pillow_errors(head: bytes = b"") -> Iterator[None]:
    """Turn whatever a parser raises into one line that says what is wrong.

    ``head`` (the file's first bytes) names a pickle that no parser took.
    """
    try:
        yield
    except InputError:
        raise
    except UnidentifiedImageError:
        if head[:1] == _PICKLE_PROTOCOL and head[1:2] in _PICKLE_VERSIONS:
            message = (
                "a Python pickle, not an image nor a .npy/.npz array; poolcli never "
                "unpickles (allow_pickle=False): save arrays with numpy.save"
            )
        else:
            message = "not an image Pillow can read, nor a .npy/.npz array"
        raise InputError(message) from None
    except MemoryError:
        message = "ran out of memory decoding it; lower -j or --max-pixels"
        raise InputError(message) from None
    except Exception as error:  # noqa: BLE001 - whatever a parser raises means a bad input
        message = f"cannot decode: {_one_line(error)}"
        raise InputError(message) from None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _os_reason(error: OSError, doing: str = "cannot open") -> str:
    reason = error.strerror or _one_line(error)
    return f"{doing}: {reason[0].lower() + reason[1:] if reason else reason}"
