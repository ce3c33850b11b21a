"""``poolcli info``: what an input is, from its headers, and what pooling would make of it.

:func:`inspect` never decodes pixels. Its answer is a plain dict (the ``--json``
object); :func:`human_lines` renders it for people.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, BinaryIO

from ..errors import LimitError, PoolcliError, Spelling, library_spelling
from ..images.conversion import as_file, describe
from ..images.formats import sniff
from ..images.requests import ReadOptions, check_declared_nodata
from ..spec.settings import PoolSettings
from .discovery import STDIN
from .report import shown, size_text
from .writing import reason


def inspect(
    path: str,
    read: ReadOptions,
    settings: PoolSettings | None = None,
    *,
    stdin: BinaryIO | None = None,
    spelling: Spelling = library_spelling,
) -> dict[str, Any]:
    """Facts about one input: format, mode, size, frames, dtype, metadata; and with
    ``settings``, the output size (``out_size``). On failure ``error`` holds the
    reason, its parameters said by ``spelling``."""
    facts: dict[str, Any] = {"input": path, "status": "ok", "error": None}
    try:
        with as_file(stdin.read() if path == STDIN and stdin is not None else path) as source:
            _inspect(facts, source, read, settings, spelling)
    except PoolcliError as error:
        facts.update(status="error", error=error.said(spelling))
    except OSError as error:
        facts.update(status="error", error=reason(error))
    return facts


def _inspect(facts: dict[str, Any], source: Any, read: ReadOptions,
             settings: PoolSettings | None, spelling: Spelling) -> None:  # fmt: skip
    """:func:`inspect` of ``source`` (a path, or stdin's bytes) into ``facts``."""
    refusal = None
    try:
        description = describe(source, read, tolerant=True)
    except LimitError as error:
        # over the limit: a format whose header Pillow reads without decoding is
        # described anyway (its first frame), then pooling's refusal said
        if not _header_only(source):
            raise
        refusal = error.said(spelling)
        unlimited = replace(read, max_pixels=None)
        description = describe(source, unlimited, tolerant=True, first_only=True)
    planes = description.planes
    first = planes[0]
    facts.update(
        format=description.format,
        mode=first.mode if not description.is_array else None,
        size=list(first.size),
        frames=len(planes),
        dtype=description.dtype,
        metadata=list(description.metadata.present),
        metadata_values=description.metadata.values(),
        planes=[_plane(plane, description.is_array) for plane in planes],
    )
    if description.storage:
        facts["storage"] = description.storage
    if description.raster:
        facts["raster"] = _json_safe(description.raster)
    voxel = None
    if description.format == "TIFF" and isinstance(source, str):
        voxel = _voxel(facts, source)
    if description.skipped:
        facts["skipped_arrays"] = description.skipped
    if refusal is not None:
        facts.update(frames=None, pooling=refusal)  # frames past the first: not counted
    if settings is not None and settings.depth is not None:
        _volume(facts, source, description, settings, read, spelling, voxel)
    elif settings is not None:
        try:
            facts["out_size"] = list(settings.planned_size(*first.size, first.layout))
        except PoolcliError as error:
            facts.update(out_size=None, pooling=error.said(spelling))
        else:
            try:
                _pooled_raster(facts, settings, first.size)
            except PoolcliError as error:  # a nodata this file's dtype cannot hold
                facts.update(pooling=error.said(spelling))


#: Formats whose header Pillow reads without decoding pixels.
_HEADER_ONLY = ("PNG", "JPEG", "TIFF")


def _header_only(source: str | bytes) -> bool:
    """Whether ``source`` is a PNG, JPEG or TIFF, safe to open past the pixel limit."""
    if isinstance(source, bytes):
        head = source[:8]
    else:
        try:
            with open(source, "rb") as file:
                head = file.read(8)
        except OSError:
            return False
    return sniff(head, _HEADER_ONLY) is not None


def human_lines(facts: dict[str, Any]) -> list[str]:
    """``facts`` as 'key: value' lines under the file name."""
    name = shown(facts["input"])
    if facts["status"] != "ok":
        return [f"{name}: {facts['error']}"]
    lines = [f"{name}:"]
    lines.append(f"  format: {facts['format']}")
    if facts["mode"] is not None:
        lines.append(f"  mode: {facts['mode']}")
    lines.append(f"  size: {size_text(facts['size'])}")
    lines.append(f"  frames: {_frames(facts)}")
    lines.append(f"  dtype: {facts['dtype']}")
    lines.append(f"  metadata: {_metadata(facts) or 'none'}")
    for problem in facts.get("skipped_arrays", ()):
        lines.append(f"  not poolable: {problem}")
    planes = facts["planes"]
    if planes and "shape" in planes[0]:
        for plane in planes:
            label = f"array {plane['name']!r}" if plane["name"] else "array"
            shape = "x".join(map(str, plane["shape"]))
            lines.append(f"  {label}: {plane['dtype']}, shape {shape}, layout {plane['layout']}")
    elif len({(p["mode"], tuple(p["size"])) for p in planes}) > 1:
        for first, last, mode, size in _runs(planes):
            label = f"frame {first}" if first == last else f"frames {first}-{last}"
            lines.append(f"  {label}: {mode} {size_text(size)}")
    if facts.get("storage"):
        stored = ", ".join(f"{k} {_value(v)}" for k, v in facts["storage"].items())
        lines.append(f"  storage: {stored}")
    for key, label in (("raster", "raster"), ("pooled_raster", "pooled raster")):
        if facts.get(key):
            said = ", ".join(f"{k} {_raster_value(v)}" for k, v in facts[key].items())
            lines.append(f"  {label}: {said}")
    for key, label in (("voxel", "voxel"), ("pooled_voxel", "pooled voxel")):
        if facts.get(key):
            lines.append(f"  {label}: {_voxel_text(facts[key])}")
    if facts.get("volume"):
        lines.append(f"  volume: {size_text(facts['volume'])} (width x height x depth)")
    if facts.get("out_size"):
        lines.append(f"  pooled size: {size_text(facts['out_size'])}")
    if facts.get("pooling"):
        lines.append(f"  pooling: {facts['pooling']}")
    return lines


def _frames(facts: dict[str, Any]) -> str:
    """'5', or for an APNG with a default image '5 (a default image, then 4 animation frames)'."""
    frames = facts["frames"]
    if frames is None:
        return "not counted (over the pixel limit)"
    if facts.get("metadata_values", {}).get("default_image") and frames > 1:
        animated = frames - 1
        plural = "" if animated == 1 else "s"
        return f"{frames} (a default image, not animated, then {animated} animation frame{plural})"
    return str(frames)


def _metadata(facts: dict[str, Any]) -> str:
    """'icc_profile (sRGB IEC61966-2.1), dpi 300x300, exif (orientation 6)...'."""
    values = facts.get("metadata_values", {})
    parts = []
    for name in facts["metadata"]:
        if name == "animation":
            loop, durations = values.get("loop"), values.get("durations")
            said = [] if loop is None else [f"loop {loop or 'forever'}"]
            if durations:
                shown = ", ".join(f"{d:g}" for d in durations[:8])
                more = ", ..." if len(durations) > 8 else ""
                said.append(f"frames of {shown}{more} ms")
            parts.append(f"animation ({'; '.join(said)})" if said else "animation")
        elif name == "dpi" and "dpi" in values:
            x, y = values["dpi"]
            parts.append(f"dpi {x:g}x{y:g}")
        elif name == "exif" and values.get("exif"):
            parts.append("exif (" + ", ".join(f"{k} {v}" for k, v in values["exif"].items()) + ")")
        elif name == "gdal_metadata" and values.get("gdal_metadata"):
            parts.append("gdal_metadata (" + ", ".join(values["gdal_metadata"]) + ")")
        elif name == "text" and values.get("text"):
            parts.append("text (" + ", ".join(values["text"]) + ")")
        elif name in ("icc_profile", "xmp") and name in values:
            parts.append(f"{name} ({values[name]})")
        else:
            parts.append(name)
    return ", ".join(parts)


def _runs(planes: list[dict[str, Any]]) -> list[tuple[int, int, str, list[int]]]:
    """Consecutive frames of one mode and size, as (first, last, mode, size)."""
    runs: list[tuple[int, int, str, list[int]]] = []
    for index, plane in enumerate(planes):
        if runs and (runs[-1][2], runs[-1][3]) == (plane["mode"], plane["size"]):
            runs[-1] = (runs[-1][0], index, plane["mode"], plane["size"])
        else:
            runs.append((index, index, plane["mode"], plane["size"]))
    return runs


def _plane(plane, is_array: bool) -> dict[str, Any]:
    if is_array:  # an array's "mode" is its dtype
        return {"name": plane.name, "dtype": plane.mode, "size": list(plane.size),
                "shape": list(plane.shape), "layout": plane.layout}  # fmt: skip
    return {"name": plane.name, "mode": plane.mode, "size": list(plane.size)}


def _value(value: Any) -> str:
    if isinstance(value, list):
        if value and all(isinstance(v, int) for v in value):
            return "x".join(map(str, value))  # a shape, tile or chunk
        return ", ".join(map(str, value)) or "none"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _volume(facts: dict[str, Any], source: Any, description: Any, settings: Any, read: Any,
            spelling: Any, voxel: Any = None) -> None:  # fmt: skip
    """A WxHxD kernel's facts: the volume's (w, h, d) as it reads it, and pooled (its
    ``voxel`` size too, when known)."""
    from ..images.volumes import volume_extent
    from ..spec.arrays import VOLUME_DEFAULT

    try:
        extent = volume_extent(source, description, read.layout)
        facts["volume"] = list(extent)
        for plane in facts["planes"] if description.is_array else ():
            plane["layout"] = read.layout or VOLUME_DEFAULT[len(plane["shape"])]
        facts["out_size"] = list(settings.planned_volume(*extent))
    except PoolcliError as error:
        facts.update(out_size=None, pooling=error.said(spelling))
        return
    if voxel is not None:
        facts["pooled_voxel"] = _voxel_fact(voxel.scaled(settings.volume_placement(*extent)))


def _voxel(facts: dict[str, Any], path: str) -> Any:
    """A TIFF's voxel size (OME-XML or ImageJ calibration) into ``facts`` and returned,
    when it has one; else None."""
    from ..images.voxels import read_tiff_voxel

    voxel = read_tiff_voxel(path)
    if not voxel.known:
        return None
    facts["voxel"] = _voxel_fact(voxel)
    return voxel


def _voxel_fact(voxel: Any) -> dict[str, Any]:
    """``{"size": [x, y, z], "unit": [x, y, z]}``, None where the file does not say."""
    return {"size": list(voxel.size[::-1]), "unit": list(voxel.unit[::-1])}


def _voxel_text(fact: dict[str, Any]) -> str:
    sizes = [
        "?" if size is None else f"{_number(size)}{' ' + unit if unit else ''}"
        for size, unit in zip(fact["size"], fact["unit"], strict=True)
    ]
    return " x ".join(sizes) + " (x, y, z)"


def _pooled_raster(facts: dict[str, Any], settings: Any, size: tuple[int, int]) -> None:
    """The output's geotransform and nodata, from the input's and where pooling puts
    its pixels (:meth:`PoolSettings.placement`); :class:`ParameterError` for a nodata
    the input's dtype cannot hold, as pooling would say."""
    found = facts.get("raster") or {}
    pooled: dict[str, Any] = {}
    (sx, ox), (sy, oy) = settings.placement(*size)
    if found.get("geotransform"):
        x0, dx, rx, y0, ry, dy = found["geotransform"]
        pooled["geotransform"] = (
            x0 + ox * dx + oy * rx, dx * sx, rx * sy, y0 + ox * ry + oy * dy, ry * sx, dy * sy,
        )  # fmt: skip
    nodata = check_declared_nodata(settings, found.get("nodata"), facts["dtype"]).nodata_value
    if nodata is not None:
        pooled["nodata"] = nodata
    if pooled:
        facts["pooled_raster"] = _json_safe(pooled)


def _json_safe(found: dict[str, Any]) -> dict[str, Any]:
    """NaN nodata as ``"nan"``: JSON has no NaN."""
    return {k: "nan" if isinstance(v, float) and v != v else v for k, v in found.items()}


def _raster_value(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_number(v) for v in value) + ")"
    if isinstance(value, dict):
        return " ".join(f"{k}={_number(v)}" for k, v in value.items())
    return _number(value)


def _number(value: object) -> str:
    return f"{value:.12g}" if isinstance(value, float) else str(value)
