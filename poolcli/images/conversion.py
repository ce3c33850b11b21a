"""One input to one output: ``convert``, ``describe``, ``output_format``, ``pool_image``.

``convert`` pools one input (any Pillow image, every frame, or a .npy/.npz) and
writes the result to a stream; ``describe`` reads headers only; ``pool_image``
pools a Pillow image in memory. Arrays in or out go through
:mod:`poolcli.images.array_conversion`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image

from ..choices import DEFAULT_MAX_PIXELS
from ..errors import OutputError
from ..pooling.modes import PoolMode
from . import encode
from .decode import Source, decoding, probe
from .policy import pool_frame, reducible_by_pillow
from .settings import PoolSettings

#: Formats written by poolcli's own code, which uses NumPy: its PNG writer, exact GIF
#: palettes, arrays.
_NUMPY_WRITTEN = {"PNG", "GIF", "NPY", "NPZ"}


@dataclass(frozen=True)
class ReadOptions:
    """How to read an input: pixel limit, one frame only, array layout."""

    max_pixels: int | None = DEFAULT_MAX_PIXELS
    frame: int | None = None
    layout: str | None = None


@dataclass(frozen=True)
class WriteOptions:
    """How to write: Pillow format name (or NPY/NPZ), Pillow save options, array dtype."""

    format: str
    save_options: Mapping[str, object] = field(default_factory=dict)
    dtype: str | None = None


@dataclass(frozen=True)
class Report:
    """What one conversion did, for the batch report and ``--json``."""

    input_format: str
    in_size: tuple[int, int]
    out_size: tuple[int, int]
    frames: int
    notes: tuple[str, ...] = ()


def output_format(target_name: str | None, requested: str | None, input_format: str) -> str:
    """The format to write: ``--format``, else the target's extension, else the input's.

    Raises :class:`OutputError` naming the choices when none fits or Pillow cannot
    write it.
    """
    if requested:
        fmt = encode.writable_format(requested)
        if fmt is None:
            message = (
                f"unknown output format {requested!r}; try png, jpg, webp, gif, tif, npy or npz"
            )
            raise OutputError(message)
        return fmt
    if target_name and "." in target_name.rsplit("/", 1)[-1]:
        suffix = target_name.rsplit(".", 1)[-1]
        fmt = encode.writable_format(suffix)
        if fmt is None:
            message = (
                f"cannot tell an output format from '.{suffix}'; "
                "name the file .png, .jpg, ... or pass --format"
            )
            raise OutputError(message)
        return fmt
    if encode.writable(input_format):
        return input_format
    return "PNG"


def convert(
    source: Source,
    target: BinaryIO,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions = ReadOptions(),
) -> Report:
    """Pool ``source`` as ``settings`` say and write the result to ``target``."""
    notes: list[str] = []
    with decoding(
        source, max_pixels=read.max_pixels, frame=read.frame, layout=read.layout
    ) as decoded:
        if decoded.is_array:
            from . import array_conversion  # NumPy and the engine load here

            return array_conversion.convert_arrays(decoded, target, settings, write, notes)
        results, in_size = [], None
        for frame in decoded.frames:  # one decoded frame in memory at a time
            in_size = in_size or frame.size
            results.append(pool_frame(frame, settings, notes))
            del frame  # the loop variable would keep the last input alive
        metadata = decoded.metadata
        input_format = decoded.format
    assert in_size is not None
    # the decoded input is gone now: turn results into images, each array freed in turn
    pooled = [results.pop(0).image() for _ in range(len(results))]
    out_size = pooled[0].size
    if write.format in ("NPY", "NPZ"):
        from . import array_conversion

        array_conversion.write_images(pooled, target, write)
    else:
        options = metadata.save_options(
            write.format, scale=settings.scale(*in_size), size=out_size, frames=len(pooled)
        )
        encode.save(pooled, target, write.format, metadata_options=options,
                    user_options=write.save_options, notes=notes)  # fmt: skip
    return Report(input_format, in_size, out_size, len(pooled), tuple(notes))


def load_ahead(settings: PoolSettings, formats: Collection[str]) -> None:
    """Import now what pooling with ``settings`` into ``formats`` is likely to load
    later: NumPy and the engine, unless Pillow's own reduce and writers can do the
    whole job (a 2x2 mean of photos into JPEG, say, which never loads NumPy).

    Worker processes forked next then share one import instead of each paying for
    it. Results never depend on it: whatever is missing loads when first needed.
    """
    if reducible_by_pillow(settings) and not set(formats) & _NUMPY_WRITTEN:
        return
    load_engine()


def load_engine() -> None:
    """Import NumPy, the engine and every module of the image layer built on them."""
    from . import animation, array_conversion, engine_path, fitting, png  # noqa: F401


def describe(source: Source, read: ReadOptions = ReadOptions()):
    """Headers of ``source``: format, frames or arrays with modes and sizes, metadata."""
    return probe(source, max_pixels=read.max_pixels, layout=read.layout)


def pool_image(
    image: Image.Image,
    kernel: int | tuple[int, int] = 2,
    *,
    mode: str | PoolMode = "avg",
    **options: object,
) -> Image.Image:
    """Pool the current frame of a Pillow image; returns a new image.

    Takes the options of :func:`poolcli.pool` (``stride``, ``padding``, ``dilation``,
    ``ceil_mode``, ``count_include_pad``, ``divisor``, ``p``, ``threads``) plus
    ``alpha`` ('premultiplied' or 'independent'), ``linear`` (bool), ``size``
    ((width, height), adaptive) and ``repeat``. The mode policy of the command line
    applies (bit depth kept, palette and alpha handling; see
    :mod:`poolcli.images.policy`). The image is not modified.

    >>> from PIL import Image
    >>> pool_image(Image.new("RGB", (640, 480), "orange"), 2).size
    (320, 240)
    """
    settings = PoolSettings.make(kernel, mode=mode, **options)
    settings.output_size(*image.size)
    notes: list[str] = []
    result = pool_frame(image, settings, notes).image()
    if "icc_profile" in image.info:
        result.info["icc_profile"] = image.info["icc_profile"]
    return result
