"""Input bytes: paths, streams and pipes opened for reading, sniffed, and kept quiet.

Untrusted bytes meet Pillow's parsers downstream of here, so the helpers that turn
whatever a parser raises into one :class:`InputError` line, and that keep C
libraries from printing on stderr, live here too.
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
from typing import IO, BinaryIO, Union, cast

from PIL import UnidentifiedImageError

from ...errors import InputError
from ..formats import FORMATS, Format, sniff

#: What can be read: a path, the file's bytes, or a binary stream.
Source = Union[str, os.PathLike, bytes, BinaryIO]  # noqa: UP007 - a runtime alias on 3.10

# A pickle of protocol 2 to 5 (what pickle.dump and numpy write) starts PROTO, version
_PICKLE_PROTOCOL = b"\x80"
_PICKLE_VERSIONS = {bytes([version]) for version in range(2, 6)}


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
        message = "is a directory, not a file (use `recursive=true` to pool a folder)"
        raise InputError(message) from None
    except OSError as error:
        raise InputError(os_reason(error)) from None
    with stream:
        if stream.seekable():
            yield stream
            return
        # a pipe or a FIFO (a process substitution, <(curl ...)): read whole, as stdin is
        try:
            data = stream.read()
        except OSError as error:
            raise InputError(os_reason(error, "cannot read")) from None
    yield io.BytesIO(data)


def sniffed(stream: IO[bytes]) -> tuple[bytes, Format | None]:
    """The first bytes of ``stream``, and the array format (NPY, NPZ) it holds, if any."""
    head = stream.read(8)
    stream.seek(0)
    if not head:
        message = "file is empty"
        raise InputError(message)
    array = sniff(head, ("NPY", "NPZ"))
    if array is not None and array.name == "NPZ" and not _is_npz(stream):
        array = None  # another zip file
    return head, array


def _is_npz(stream: IO[bytes]) -> bool:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        stream.seek(0)
    return bool(names) and all(name.endswith(".npy") for name in names)


_STDERR_LOCK = threading.Lock()


@contextmanager
def silenced(head: bytes) -> Iterator[None]:
    """Keep parsers quiet, so the command line shows one line per problem.

    Python warnings are ignored. libtiff, the one C library here that prints (every
    damaged strip, every unknown tag) straight to file descriptor 2, gets a
    temporary file there while a TIFF is read (see :func:`quiet_stderr`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not head.startswith(FORMATS["TIFF"].magic):
            yield
            return
        with quiet_stderr():
            yield


@contextmanager
def quiet_stderr() -> Iterator[None]:
    """File descriptor 2 goes to a temporary file while the block runs, for C
    libraries that print there (libtiff, libpng's warnings); an InputError raised
    meanwhile gets the first line they printed appended, as it explains it."""
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
                message = f"{error.message} ({chatter[0].strip()})"
                raise InputError(message) from None
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextmanager
def pillow_errors(head: bytes = b"") -> Iterator[None]:
    """Turn whatever a parser raises into one line that says what is wrong.

    ``head`` (the file's first bytes) names a pickle or a TIFF that no parser took.
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
        elif head.startswith(FORMATS["TIFF"].magic):
            message = (
                "a TIFF whose header is damaged or cut short: its first image directory "
                "(IFD) cannot be read (a truncated download or copy?)"
            )
        else:
            message = "not an image Pillow can read, nor a .npy/.npz array"
        raise InputError(message) from None
    except MemoryError:
        message = "ran out of memory decoding it; lower `workers` or `max_pixels`"
        raise InputError(message) from None
    except Exception as error:  # noqa: BLE001 - whatever a parser raises means a bad input
        message = f"cannot decode: {_one_line(error)}"
        raise InputError(message) from None


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def os_reason(error: OSError, doing: str = "cannot open") -> str:
    reason = error.strerror or _one_line(error)
    return f"{doing}: {reason[0].lower() + reason[1:] if reason else reason}"
