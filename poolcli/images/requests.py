"""What one conversion is asked to do, and what it reports back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..spec.limits import DEFAULT_MAX_PIXELS, DEFAULT_MEMORY

if TYPE_CHECKING:
    from ..spec.settings import PoolSettings


@dataclass(frozen=True)
class ReadOptions:
    """How to read an input: pixel limit, one frame only, array layout, memory budget
    (bytes: larger inputs that can stream are pooled in bands)."""

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    frame: int | None = None
    layout: str | None = None
    memory: int = DEFAULT_MEMORY


@dataclass(frozen=True)
class WriteOptions:
    """How to write: the format's name (see :mod:`~poolcli.images.formats`), Pillow
    save options, the dtype of array outputs, and whether the output is named
    ``NAME.ome.tif`` (``ome_name``: a TIFF Z stack with a voxel size is an OME-TIFF)."""

    format: str
    save_options: Mapping[str, object] = field(default_factory=dict)
    dtype: str | None = None
    ome_name: bool = False


@dataclass(frozen=True)
class Report:
    """What one conversion did, for the batch report and ``--json``."""

    input_format: str
    #: (width, height); (width, height, depth) for a volume
    in_size: tuple[int, ...]
    out_size: tuple[int, ...]
    frames: int
    notes: tuple[str, ...] = ()
    #: How a streamed input was pooled ("in bands of 512 rows"); None: whole, in memory.
    streamed: str | None = None


def add_note(notes: list[str], text: str) -> None:
    """Append ``text`` to the notes for the report, once."""
    if text not in notes:
        notes.append(text)


def resolve_nodata(
    settings: PoolSettings, declared: int | float | None, notes: list[str]
) -> PoolSettings:
    """``settings`` for a file that declares ``declared`` as nodata (see
    :meth:`PoolSettings.for_file`), with a note when ``min_valid`` has none to count."""
    settings = settings.for_file(declared)
    if settings.min_valid and settings.nodata_value is None:
        add_note(notes, "`min_valid` changes nothing: no nodata value is given or declared")
    return settings


def check_declared_nodata(settings: PoolSettings, declared: object, dtype: str) -> PoolSettings:
    """``settings`` for a file that declares ``declared`` as nodata; refuses, as pooling
    will, a nodata (given or declared) that samples of ``dtype`` cannot hold (a
    :class:`~poolcli.errors.ParameterError`). NumPy loads only when there is one."""
    if isinstance(declared, bool) or not isinstance(declared, (int, float)):
        declared = None  # nothing (or nothing readable) declared
    chosen = settings.for_file(declared)
    if chosen.nodata_value is not None:
        import numpy as np

        from ..pooling.nodata import check_nodata

        check_nodata(chosen.nodata_value, chosen.min_valid, np.dtype(dtype))
    return chosen


def unused_options(read: ReadOptions, write: WriteOptions, *, array_out: bool) -> list[str]:
    """Notes for array options given for an image input, which change nothing there:
    ``layout`` (how .npy/.npz/Zarr axes are read) and, into an image format, ``dtype``."""
    notes = []
    if read.layout is not None:
        notes.append("`layout` applies to .npy, .npz and Zarr inputs: this image ignores it")
    if write.dtype is not None and not array_out:
        notes.append(
            "`dtype` applies to .npy, .npz and Zarr outputs and array inputs: "
            "this image keeps its own depth"
        )
    return notes
