"""Feature-map files: .npy and .npz read (headers checked first) and written.

Arrays are read with ``allow_pickle=False`` always: a file holding Python objects is
refused, never unpickled. Their headers are checked (dtype, shape, pixel limit)
before any data is read.
"""

from __future__ import annotations

import io
import math
import tokenize
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format

from ...errors import InputError, LimitError, OutputError, PoolcliError
from ...pooling.numeric import check_dtype
from ...spec.limits import over_limit
from .layouts import ArrayHeader, LaidOut, pick_layout, shape_text


def read(
    stream: IO[bytes], *, is_npz: bool, layout: str | None, max_pixels: int | None
) -> dict[str, LaidOut]:
    """Every array of a .npy (one, named ``""``) or .npz stream, in its layout."""
    arrays = {}
    with _broken_files():
        for name, member, _, _, laid_layout in _checked(stream, is_npz, layout, max_pixels):
            try:
                member.seek(0)
                array = npy_format.read_array(member, allow_pickle=False)
            except (ValueError, OSError, EOFError) as error:
                message = (
                    f"cannot read array {name!r}: {error}" if name else f"cannot read .npy: {error}"
                )
                raise InputError(message) from None
            arrays[name] = LaidOut(array, laid_layout, name, defaulted=layout is None)
    if not arrays:
        message = "the .npz archive holds no arrays"
        raise InputError(message)
    return arrays


def probe(
    stream: IO[bytes],
    is_npz: bool,
    *,
    layout: str | None,
    max_pixels: int | None = None,
    skipped: list[str] | None = None,
) -> list[ArrayHeader]:
    """Headers only: each array's name, shape, dtype and layout, checked as
    :func:`read` checks them (pixel limit, empty arrays). With ``skipped``, an array
    that cannot be pooled (1-D, a layout that does not fit) is left out and said
    there instead of failing the file (``poolcli info`` describes the rest)."""
    with _broken_files():
        return [
            ArrayHeader(name, shape, dtype, laid_layout)
            for name, _, shape, dtype, laid_layout in _checked(
                stream, is_npz, layout, max_pixels, skipped
            )
        ]


def _checked(
    stream: IO[bytes],
    is_npz: bool,
    layout: str | None,
    max_pixels: int | None,
    skipped: list[str] | None = None,
):
    """Each member with its header read and checked: (name, stream, shape, dtype, layout)."""
    for name, member, size in _members(stream, is_npz):
        shape, dtype = _header(member, name)
        try:
            laid_layout = pick_layout(shape, layout, name)
            _check_size(shape, laid_layout, max_pixels, name)
        except InputError as error:
            if skipped is None:
                raise
            skipped.append(error.message)
            continue
        _check_data(member, size, shape, dtype, name)
        yield name, member, shape, dtype, laid_layout


@contextmanager
def _broken_files() -> Iterator[None]:
    """Whatever zipfile, zlib or NumPy's header parser raise on broken bytes, as one
    line. (Running out of memory is left to the caller: not the file's fault alone.)"""
    try:
        yield
    except (PoolcliError, MemoryError):
        raise
    except Exception as error:  # noqa: BLE001 - a parser failing means a broken file
        message = f"a broken .npy/.npz file: {_detail(error)}"
        raise InputError(message) from None


def _detail(error: BaseException) -> str:
    """An exception's message on one line (a tokenize error keeps its text only)."""
    if error.args and isinstance(error.args[0], str):
        text = error.args[0]
    else:
        text = str(error)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(error).__name__


def write(target: BinaryIO, arrays: dict[str, np.ndarray], *, npz: bool) -> None:
    """Write one array as .npy, or several as an uncompressed .npz, to ``target``."""
    try:
        if npz:
            named: dict[str, Any] = {name or "arr_0": array for name, array in arrays.items()}
            np.savez(target, **named)
        else:
            (array,) = arrays.values()
            np.save(target, array, allow_pickle=False)
    except (OSError, ValueError) as error:
        if isinstance(error, OSError) and error.errno is not None:
            raise  # the target's own (a full disk, an I/O error): its writer names the file
        message = f"cannot write the array: {error}"
        raise OutputError(message) from None


def _members(stream: IO[bytes], is_npz: bool):
    """Each array's name, a stream over its .npy bytes, and how many bytes there are."""
    if not is_npz:
        size = stream.seek(0, io.SEEK_END)
        stream.seek(0)
        yield "", stream, size
        return
    try:
        archive = zipfile.ZipFile(stream)
        with archive:
            for info in archive.infolist():
                name = info.filename[: -len(".npy")]
                with archive.open(info) as member:
                    yield name, io.BufferedReader(member), info.file_size  # type: ignore[type-var]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as error:
        message = f"cannot read the .npz archive: {error}"
        raise InputError(message) from None


def _header(member: BinaryIO, name: str) -> tuple[tuple[int, ...], np.dtype]:
    label = f"array {name!r}" if name else "the .npy file"
    try:
        version = npy_format.read_magic(member)
        _check_header_length(member, version, label)
        read_header = (
            npy_format.read_array_header_1_0
            if version == (1, 0)
            else npy_format.read_array_header_2_0
        )
        shape, fortran, dtype = read_header(member)
    except InputError:
        raise
    except (ValueError, OSError, EOFError, SyntaxError, tokenize.TokenError) as error:
        message = f"{label} has a broken header: {_detail(error)}"
        raise InputError(message) from None
    if dtype.hasobject:
        message = (
            f"{label} holds Python objects (dtype {dtype}); poolcli never unpickles "
            "(allow_pickle=False): save it with a numeric dtype"
        )
        raise InputError(message)
    try:
        check_dtype(dtype)
    except InputError as error:
        message = f"{label}: {error.message}"
        raise InputError(message) from None
    return tuple(shape), dtype


def _check_size(shape: tuple[int, ...], layout: str, max_pixels: int | None, name: str) -> None:
    header = ArrayHeader(name, shape, np.dtype(np.uint8), layout)
    width, height = header.size
    label = f"array {name!r}" if name else "the array"
    if max_pixels is not None and width * height > max_pixels:
        pixels = f"{width}x{height} = {width * height:,}"
        raise LimitError(over_limit(pixels, max_pixels, f"{label} is", "per plane"))
    if math.prod(shape) == 0:
        message = f"{label} is empty (shape {shape_text(shape)})"
        raise InputError(message)


#: The longest .npy header NumPy reads unless told otherwise (max_header_size).
_MAX_HEADER = 10_000


def _check_header_length(member: BinaryIO, version: tuple[int, int], label: str) -> None:
    """Refuse a header longer than NumPy accepts before NumPy reads it: it would
    first allocate what the length field says, up to 4 GiB for a 100-byte file."""
    width = 2 if version == (1, 0) else 4
    start = member.tell()
    field = member.read(width)
    member.seek(start)
    length = int.from_bytes(field, "little")
    if len(field) == width and length > _MAX_HEADER:
        message = (
            f"{label} has a broken header: it claims {length:,} bytes of header, "
            f"more than the {_MAX_HEADER:,} NumPy reads"
        )
        raise InputError(message)


def _check_data(
    member: IO[bytes], size: int, shape: tuple[int, ...], dtype: np.dtype, name: str
) -> None:
    """Refuse, before allocating it, data that the file does not hold."""
    needed = math.prod(shape) * dtype.itemsize
    held = size - member.tell()  # the stream stands just after the header
    if needed > held:
        label = f"array {name!r}" if name else "the .npy file"
        message = (
            f"{label} is truncated: its header (shape {shape_text(shape)}, {dtype}) needs "
            f"{needed:,} bytes of data and it holds {max(held, 0):,}"
        )
        raise InputError(message)
