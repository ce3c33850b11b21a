"""One input to one output: ``convert``, ``describe``, ``pool_image``.

``convert`` pools one input (any Pillow image, every frame, or a .npy/.npz) and
writes the result to a stream; ``describe`` reads headers only; ``pool_image``
pools a Pillow image in memory. Arrays in or out go through :mod:`.arrays.route`,
frames through the mode policy (:mod:`.policy`), outputs through :mod:`.writing`.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, BinaryIO

from PIL import Image

from ..errors import InputError, LimitError
from ..spec.modes import PoolMode
from ..spec.settings import PoolSettings
from .formats import FORMATS, is_deep_png, record_of, sniff
from .georef import pooled_tags
from .metadata import Metadata
from .policy import nodata_index_transparent, pool_frame, reducible_by_pillow
from .reading.ahead import DecodeAhead
from .reading.frames import decoding
from .reading.headers import Description, Plane, probe
from .reading.sources import Source
from .requests import ReadOptions, Report, WriteOptions, add_note, resolve_nodata, unused_options
from .writing.save import save, without_default_image

_READ = ReadOptions()  # the defaults: the pixel limit, every frame, default layouts


def convert(
    source: Source,
    target: BinaryIO | str,
    settings: PoolSettings,
    write: WriteOptions,
    read: ReadOptions = _READ,
    *,
    ahead: DecodeAhead | None = None,
) -> Report:
    """Pool ``source`` as ``settings`` say and write the result to ``target``.

    ``target`` is a stream, or a folder's path for a format that is a folder (Zarr).
    A TIFF, .npy or Zarr input larger than half of ``read.memory`` is pooled in
    bands of rows when the output format streams too (:mod:`.streaming`).

    ``ahead`` may hold ``source`` already being decoded (see
    :mod:`.reading.ahead`); it is used only if it is that very file.
    """
    notes: list[str] = []
    if isinstance(source, bytes) and file_readers_keep(source[:26]):
        with as_file(source) as path:  # the file's route: tifffile, bands of rows
            return convert(path, target, settings, write, read)
    if isinstance(source, str):
        streamable = streamable_format(source)
        if streamable == "TIFF" and settings.depth is not None:
            from .volumes import convert_tiff_volume  # pages are depth

            return convert_tiff_volume(source, target, settings, write, read, notes)
        if streamable is not None:
            from .streaming import convert_streamed

            report = convert_streamed(source, streamable, target, settings, write, read, notes)
            if report is not None:
                return report
    with decoding(
        source, max_pixels=read.max_pixels, frame=read.frame, layout=read.layout, ahead=ahead
    ) as decoded:
        if decoded.is_array:
            from .arrays import route  # NumPy and the engine load here

            return route.convert_arrays(
                decoded.arrays, decoded.format, target, settings, write, notes
            )
        if settings.depth is not None:
            from .volumes import not_a_volume

            raise not_a_volume(decoded.format)
        array_out = record_of(write.format).array
        notes += unused_options(read, write, array_out=array_out)
        settings = resolve_nodata(settings, decoded.metadata.nodata, notes)
        georef = decoded.metadata.georef
        if georef is not None and (rpcs := georef.unkept_rpcs()) is not None:
            add_note(notes, rpcs)
        results, in_size = [], None
        given = settings
        for frame in decoded.frames:  # one decoded frame in memory at a time
            in_size = in_size or frame.size
            frame, settings = nodata_index_transparent(frame, given, notes)
            results.append(pool_frame(frame, settings, notes, wide=array_out))
            del frame  # the loop variable would keep the last input alive
        metadata = decoded.metadata
        input_format = decoded.format
    assert in_size is not None
    frames = len(results)
    if array_out:
        from .arrays import route

        planes = [results.pop(0).values() for _ in range(frames)]
        out_size = (planes[0].shape[1], planes[0].shape[0])
        route.write_images(planes, target, write, settings.nodata_value)
        return Report(input_format, in_size, out_size, frames, tuple(notes))
    # the decoded input is gone now: turn results into images, each array freed in turn
    pooled = [results.pop(0).image() for _ in range(frames)]
    if metadata.default_image:
        pooled = without_default_image(pooled, write.format, notes)
        frames = len(pooled)
    out_size = pooled[0].size
    assert not isinstance(target, str), "only array formats are folders"
    placement = settings.placement(*in_size)
    options = metadata.save_options(
        write.format,
        scale=settings.scale(*in_size),
        size=out_size,
        frames=frames,
        modes={frame.mode for frame in pooled},
        georef=pooled_tags(metadata.georef, placement, settings.nodata_value),
    )
    pages = None
    if record_of(write.format).name == "TIFF" and "compression" not in write.save_options:
        pages = metadata.tiff_pages([frame.mode for frame in pooled], notes)
    save(pooled, target, write.format, metadata_options=options,
         user_options=metadata.kept(write.save_options), notes=notes,
         page_compressions=pages)  # fmt: skip
    return Report(input_format, in_size, out_size, frames, tuple(notes))


def file_readers_keep(head: bytes) -> bool:
    """True for bytes (stdin) that the file readers keep more of than Pillow: a TIFF
    (any dtype and band count, GeoTIFF tags, pages as depth) or a 16-bit colour PNG."""
    return is_deep_png(head) or sniff(head, ("TIFF",)) is not None


@contextmanager
def as_file(source: Source) -> Iterator[Source]:
    """``source`` as it is, or for bytes read from stdin that the file readers keep
    more of (:func:`file_readers_keep`), the path of a temporary copy, removed after."""
    if not (isinstance(source, bytes) and file_readers_keep(source[:26])):
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="poolcli-stdin-") as folder:
        path = os.path.join(folder, "stdin")
        with open(path, "wb") as spool:
            spool.write(source)
        yield path


def streamable_format(path: str) -> str | None:
    """The format of ``path`` when it is one that may stream (TIFF, .npy, Zarr), or a
    16-bit colour PNG (which Pillow reads at 8 bits: the streamed path keeps 16); else None."""
    if os.path.isdir(path):
        return "ZARR" if path.rstrip("/" + os.sep).lower().endswith(".zarr") else None
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None  # a pipe or a device: read once, by the whole-image path
        with open(path, "rb") as file:
            head = file.read(26)
    except OSError:
        return None  # the whole-image path says why
    if is_deep_png(head):
        return "PNG"
    record = sniff(head, ("TIFF", "NPY"))
    return None if record is None else record.name


def load_ahead(settings: PoolSettings, formats: Collection[str]) -> None:
    """Import now what pooling with ``settings`` into ``formats`` is likely to load
    later: NumPy and the engine, unless Pillow's own reduce and writers can do the
    whole job (a 2x2 mean of photos into JPEG, say, which never loads NumPy).

    Worker processes forked next then share one import instead of each paying for
    it. Results never depend on it: whatever is missing loads when first needed.
    """
    numpy_written = any(FORMATS[f].needs_numpy for f in formats if f in FORMATS)
    if reducible_by_pillow(settings) and not numpy_written:
        return
    load_engine()


def load_engine() -> None:
    """Import NumPy, the engine and every module of the image layer built on them."""
    from .arrays import route  # noqa: F401 - the imports are the point
    from .engine_route import route as engine_route  # noqa: F401
    from .writing import animation, fitting, png  # noqa: F401


def describe(
    source: Source,
    read: ReadOptions = _READ,
    *,
    tolerant: bool = False,
    first_only: bool = False,
) -> Description:
    """Headers of ``source``: format, frames or arrays with modes and sizes, metadata;
    for a TIFF or Zarr, how it is stored. ``tolerant``: an .npz's arrays that cannot
    be pooled are listed in ``skipped`` instead of failing it; ``first_only``: the
    first frame only (no seeking through the others). Both for ``poolcli info``."""
    options: dict[str, Any] = {
        "layout": read.layout,
        "tolerant": tolerant,
        "first_only": first_only,
    }
    if not isinstance(source, str) or (streamable := streamable_format(source)) is None:
        return probe(source, max_pixels=read.max_pixels, **options)
    from .streams.readers import open_rows
    from .streams.storage import raster, storage

    if streamable == "ZARR":
        from .arrays.layouts import pick_layout, plane_size

        opened = open_rows(source, "ZARR", read.layout)
        assert opened is not None
        rows, facts = opened
        layout = read.layout or facts.extra.get("layout") or pick_layout(rows.shape, None)
        size = plane_size(rows.shape, layout)  # a volume's slices (its rows are depth)
        plane = Plane("", str(rows.dtype), size, rows.shape, layout)
        description = Description("ZARR", [plane], Metadata(), is_array=True)
    else:
        deep = _deep_plane(source, streamable)  # pixels Pillow has no mode for, or cannot read
        try:
            description = probe(source, max_pixels=read.max_pixels, **options)
        except InputError as error:
            if deep is None or isinstance(error, LimitError):
                raise
            description = Description(streamable, [deep], Metadata())
        else:
            if deep is not None and "-band;" in deep.mode and len(description.planes) > 1:
                description.planes = [deep]  # channels as pages (CYX): one image of bands
            elif deep is not None:  # as pooling will read them: one image, overviews not frames
                description.planes = [replace(description.planes[0], mode=deep.mode)]
    try:
        description.storage = storage(source, streamable)
    except Exception:  # noqa: BLE001 - the storage facts are extras; the header said enough
        description.storage = {}
    try:
        description.raster = raster(source, streamable)
    except Exception:  # noqa: BLE001 - as the storage facts
        description.raster = {}
    return description


def _deep_plane(path: str, fmt: str) -> Plane | None:
    """The first plane of a file whose pixels Pillow has no mode for (``L;int16``,
    ``RGB;uint16``, ``5-band;float32``) as the streamed reader reads them; else None."""
    from .modes import array_mode, image_mode
    from .streams.readers import open_rows

    try:
        opened = open_rows(path, fmt)
    except Exception:  # noqa: BLE001 - the header said enough; pooling will say what is wrong
        return None
    if opened is None:
        return None
    rows, facts = opened
    with rows:
        channels = rows.shape[2] if len(rows.shape) == 3 else 1
        dtype, size = str(rows.dtype), (rows.shape[1], rows.shape[0])
    if facts.kind != "image" or (facts.alpha is not False and image_mode(dtype, channels)):
        return None
    record = array_mode(dtype, channels, alpha=facts.alpha)
    return Plane("0", record.name if record else f"{channels}-band;{dtype}", size)


def _height_width(value: Any) -> Any:
    """A (width, height) pair as the engine's (height, width); anything else as it is."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[1], value[0]
    return value


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
    ((width, height), adaptive) and ``repeat``. Pairs are (width, height), as Pillow
    and the command line say sizes: ``kernel=(3, 2)`` is 3 wide and 2 tall. The mode
    policy of the command line applies (bit depth kept, palette and alpha handling;
    see :mod:`poolcli.images.policy`). The image is not modified.

    >>> from PIL import Image
    >>> pool_image(Image.new("RGB", (640, 480), "orange"), 2).size
    (320, 240)
    >>> pool_image(Image.new("L", (60, 40)), (3, 2)).size
    (20, 20)
    """
    if not isinstance(image, Image.Image):
        if isinstance(image, (str, os.PathLike)):
            hint = "open the file first: pool_image(Image.open(path)); run_batch pools files"
        else:
            hint = "for NumPy arrays use poolcli.pool"
        message = f"pool_image takes a PIL.Image.Image, got {type(image).__name__}; {hint}"
        raise InputError(message)
    for name in ("stride", "padding", "dilation"):
        if options.get(name) is not None:
            options[name] = _height_width(options[name])
    settings = PoolSettings.make(_height_width(kernel), mode=mode, **options)
    settings.output_size(*image.size)
    notes: list[str] = []
    result = pool_frame(image, settings, notes).image()
    if "icc_profile" in image.info:
        result.info["icc_profile"] = image.info["icc_profile"]
    return result
