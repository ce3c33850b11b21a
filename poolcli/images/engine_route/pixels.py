"""Pillow images <-> NumPy arrays, without copying where Pillow allows it.

``np.asarray(image)`` copies every pixel out through Pillow's encoder: for a
4096x4096 photo that costs more than pooling it, and doubles peak memory. Pillow
13 can instead export an image held in one memory block through the Arrow C data
interface; :func:`view` wraps that memory as a read-only array (an RGB image comes
out as RGBX, four bytes a pixel, which the engine pools channel by channel just as
well). Images in several blocks fall back to ``np.asarray``.
"""

from __future__ import annotations

import ctypes

import numpy as np
from PIL import Image

from ..modes import mode_of


def view(image: Image.Image, *, padded: bool = False) -> np.ndarray:
    """The pixels of ``image`` as an (H, W[, C]) array, read-only, shared when possible.

    With ``padded=True`` an RGB image may come back as (H, W, 4): RGB plus a padding
    channel that callers pooling channel by channel can carry along and drop (see
    :func:`image_from`). Otherwise the channels are exactly the mode's.
    """
    record = mode_of(image.mode)
    if record is not None and (
        record.buffer is not None or (record.four_bytes and (padded or record.channels == 4))
    ):
        shared = _arrow_view(image, record.buffer)
        if shared is not None:
            return shared
    return np.asarray(image)


def image_from(array: np.ndarray, mode: str) -> Image.Image:
    """An image of ``mode`` from (H, W[, C]) pixels in the mode's dtype.

    An RGB image may be given four channels (RGB + padding, as :func:`view` gives).
    """
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    height, width = array.shape[:2]
    if mode == "1":
        return Image.fromarray(np.ascontiguousarray(array, dtype=bool))
    if mode == "RGB" and array.ndim == 3 and array.shape[2] == 4:
        return Image.frombytes(
            "RGB", (width, height), _bytes(array.astype(np.uint8, copy=False)), "raw", "RGBX"
        )
    record = mode_of(mode)
    dtype = np.dtype(record.buffer if record is not None and record.buffer else np.uint8)
    return Image.frombytes(mode, (width, height), _bytes(array.astype(dtype, copy=False)))


def _bytes(array: np.ndarray) -> memoryview:
    return np.ascontiguousarray(array).data.cast("B")


class _ArrowSchema(ctypes.Structure):
    pass


_ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p),
    ("name", ctypes.c_char_p),
    ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowSchema))),
    ("dictionary", ctypes.POINTER(_ArrowSchema)),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]


class _ArrowArray(ctypes.Structure):
    pass


_ArrowArray._fields_ = [
    ("length", ctypes.c_int64),
    ("null_count", ctypes.c_int64),
    ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64),
    ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(_ArrowArray))),
    ("dictionary", ctypes.POINTER(_ArrowArray)),
    ("release", ctypes.c_void_p),
    ("private_data", ctypes.c_void_p),
]

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class _Exported:
    """Owns the Arrow capsules (so the memory stays valid) and describes it to NumPy."""

    def __init__(self, capsules: tuple[object, object], address: int, shape, dtype: np.dtype):
        self.capsules = capsules
        self.__array_interface__ = {
            "version": 3,
            "shape": shape,
            "typestr": dtype.str,
            "data": (address, True),  # read-only: the engine never writes its input
        }


def _arrow_view(image: Image.Image, buffer: str | None) -> np.ndarray | None:
    """The pixels of ``image`` shared through Arrow: one ``buffer`` value a pixel, or
    (without one) four bytes a pixel; None where Pillow cannot export them whole."""
    export = getattr(image, "__arrow_c_array__", None)
    if export is None:
        return None
    try:
        schema, array = export()
    except (ValueError, OSError, AttributeError):
        return None  # rows in several blocks, or no Arrow support: copy instead
    exported = _ArrowArray.from_address(_capsule_pointer(array, b"arrow_array"))
    width, height = image.size
    shape: tuple[int, ...]
    dtype: np.dtype
    if buffer is None:
        if exported.n_children != 1:
            return None
        child = exported.children[0].contents
        address, length = child.buffers[1], child.length
        shape, dtype = (height, width, 4), np.dtype(np.uint8)
    else:
        address, length = exported.buffers[1], exported.length
        shape, dtype = (height, width), np.dtype(buffer)
        length *= dtype.itemsize
    if not address or length != int(np.prod(shape)) * dtype.itemsize:
        return None
    return np.asarray(_Exported((schema, array), address, shape, dtype))
