"""Feature maps: .npy and .npz in and out, layouts, and arrays as images.

Arrays are read with ``allow_pickle=False`` always: a file holding Python objects is
refused, never unpickled. Their headers are checked (dtype, shape, pixel limit)
before any data is read.
"""

from __future__ import annotations

import io
import math
import tokenize
import zipfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

import numpy as np
from numpy.lib import format as npy_format
from PIL import Image

from ..choices import DEFAULT_LAYOUT, LAYOUTS
from ..errors import InputError, LimitError, OutputError, PoolcliError
from ..pooling.numeric import SUPPORTED, check_dtype, round_half_up
from .pixels import image_from

# (dtype, channels) -> Pillow mode, for arrays written as images
_IMAGE_MODES = {
    ("bool", 1): "1",
    ("uint8", 1): "L",
    ("uint8", 2): "LA",
    ("uint8", 3): "RGB",
    ("uint8", 4): "RGBA",
    ("uint16", 1): "I;16",
    ("int32", 1): "I",
    ("float32", 1): "F",
}


@dataclass(frozen=True)
class LaidOut:
    """An array and the layout that says which axes are height, width and channels."""

    array: np.ndarray
    layout: str
    name: str = ""

    @property
    def axes(self) -> tuple[int, int]:
        return LAYOUTS[self.layout][0]

    @property
    def channel_axis(self) -> int | None:
        return LAYOUTS[self.layout][1]

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        h, w = (self.array.shape[a] for a in self.axes)
        return w, h

    def with_array(self, array: np.ndarray) -> LaidOut:
        return LaidOut(array, self.layout, self.name)


def pick_layout(shape: tuple[int, ...], layout: str | None, name: str = "") -> str:
    """``layout`` checked against ``shape``, or the default for its number of dims."""
    label = f"array {name!r}" if name else "the array"
    if layout is None:
        if len(shape) not in DEFAULT_LAYOUT:
            message = (
                f"{label} has {len(shape)} dims (shape {_shape(shape)}); poolcli pools 2- to "
                "4-dim arrays (layouts hw, hwc, chw, nchw, nhwc)"
            )
            raise InputError(message)
        return DEFAULT_LAYOUT[len(shape)]
    if layout not in LAYOUTS:
        message = f"unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}"
        raise InputError(message)
    if len(layout) != len(shape):
        fitting = [name for name in LAYOUTS if len(name) == len(shape)]
        message = (
            f"{label} has shape {_shape(shape)} ({len(shape)} dims) but layout {layout} "
            f"needs {len(layout)}; use --layout {' or '.join(fitting) or '(none fits)'}"
        )
        raise InputError(message)
    return layout


def read(stream: IO[bytes], *, is_npz: bool, layout: str | None, max_pixels: int | None):
    """Decode a .npy or .npz stream into a :class:`~poolcli.images.decode.Decoded`."""
    from .decode import Decoded  # decode imports this module

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
            arrays[name] = LaidOut(array, laid_layout, name)
    if not arrays:
        message = "the .npz archive holds no arrays"
        raise InputError(message)
    return Decoded("NPZ" if is_npz else "NPY", arrays=arrays)


def probe(
    stream: IO[bytes], is_npz: bool, *, layout: str | None, max_pixels: int | None = None
) -> list[ArrayHeader]:
    """Headers only: each array's name, shape, dtype and layout, checked as
    :func:`read` checks them (pixel limit, empty arrays)."""
    with _broken_files():
        return [
            ArrayHeader(name, shape, dtype, laid_layout)
            for name, _, shape, dtype, laid_layout in _checked(stream, is_npz, layout, max_pixels)
        ]


def _checked(stream: IO[bytes], is_npz: bool, layout: str | None, max_pixels: int | None):
    """Each member with its header read and checked: (name, stream, shape, dtype, layout)."""
    for name, member, size in _members(stream, is_npz):
        shape, dtype = _header(member, name)
        laid_layout = pick_layout(shape, layout, name)
        _check_size(shape, laid_layout, max_pixels, name)
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


@dataclass(frozen=True)
class ArrayHeader:
    """What a .npy header says, and the layout that applies."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    layout: str

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        (ah, aw), _ = LAYOUTS[self.layout]
        return self.shape[aw], self.shape[ah]


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


def cast(array: np.ndarray, dtype_name: str | None) -> np.ndarray:
    """``array`` as ``--dtype``: floats to integers round half up and clip; nothing wraps."""
    if dtype_name is None:
        return array
    dtype = parse_dtype(dtype_name)
    if array.dtype == dtype:
        return array
    if dtype.kind == "b":
        return array != 0
    if dtype.kind in "iu" and array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            return round_half_up(np.nan_to_num(array.astype(np.float64)), dtype)
    if dtype.kind in "iu" and array.dtype.kind in "iub":
        info = np.iinfo(dtype)
        return np.clip(array, info.min, info.max).astype(dtype)
    return array.astype(dtype)


def parse_dtype(name: str) -> np.dtype:
    """A supported dtype from its NumPy name; InputError listing the choices otherwise."""
    try:
        dtype = np.dtype(name)
    except TypeError:
        dtype = None
    if dtype is None or dtype not in SUPPORTED:
        names = ", ".join(str(d) for d in SUPPORTED)
        message = f"unknown or unsupported dtype {name!r}; choose one of: {names}"
        raise InputError(message)
    return dtype


def to_nhwc(laid: LaidOut) -> np.ndarray:
    """The array as (N, H, W, C): a batch of channels-last planes (a view)."""
    a = laid.array
    return {
        "hw": lambda: a[None, :, :, None],
        "hwc": lambda: a[None],
        "chw": lambda: np.moveaxis(a, 0, -1)[None],
        "nchw": lambda: np.moveaxis(a, 1, -1),
        "nhwc": lambda: a,
    }[laid.layout]()


def to_images(laid: LaidOut) -> list[Image.Image]:
    """The frames an array makes as images (one per batch entry), when a mode fits."""
    batch = to_nhwc(laid)
    channels = batch.shape[3]
    mode = _IMAGE_MODES.get((str(laid.array.dtype), channels))
    if mode is None:
        fitting = ", ".join(f"{d} x{c}" for d, c in _IMAGE_MODES)
        message = (
            f"an array of dtype {laid.array.dtype} with {channels} channel(s) fits no image "
            f"mode (fitting: {fitting}); write .npy/.npz, or convert with --dtype"
        )
        raise OutputError(message)
    return [image_from(frame, mode) for frame in batch]


def image_array(frames: Iterable[np.ndarray]) -> np.ndarray:
    """Pooled image frames as one array: (H, W[, C]), or (N, H, W, C) for several."""
    frames = list(frames)
    if len(frames) == 1:
        return frames[0]
    if len({(f.shape, f.dtype) for f in frames}) > 1:
        message = (
            "the frames differ in size or mode, so they do not stack into one .npy array; "
            "write .npz (one array per frame) or pick one with --frame N"
        )
        raise OutputError(message)
    return np.stack([f if f.ndim == 3 else f[..., None] for f in frames])


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
        message = f"{label}: {error}"
        raise InputError(message) from None
    return tuple(shape), dtype


def _check_size(shape: tuple[int, ...], layout: str, max_pixels: int | None, name: str) -> None:
    (ah, aw), _ = LAYOUTS[layout]
    pixels = shape[ah] * shape[aw]
    if max_pixels is not None and pixels > max_pixels:
        label = f"array {name!r}" if name else "the array"
        message = (
            f"{label} is {shape[aw]}x{shape[ah]} = {pixels:,} pixels per plane, over the "
            f"limit of {max_pixels:,}; raise it with --max-pixels N "
            "or lift it with --max-pixels none"
        )
        raise LimitError(message)
    if math.prod(shape) == 0:
        label = f"array {name!r}" if name else "the array"
        message = f"{label} is empty (shape {_shape(shape)})"
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
            f"{label} is truncated: its header (shape {_shape(shape)}, {dtype}) needs "
            f"{needed:,} bytes of data and it holds {max(held, 0):,}"
        )
        raise InputError(message)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) or "()"
