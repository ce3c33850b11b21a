"""A TIFF Z stack's physical voxel size: read from OME-XML or ImageJ's description, and
written into a pooled stack as OME-XML, an ImageJ hyperstack's calibration, or tags.

The reader serves ``poolcli pool`` (the output's voxel size is the input's times the
stride along each axis: :meth:`Voxel.scaled` with
:meth:`~poolcli.spec.settings.PoolSettings.volume_placement`) and volume pyramids.
The writer keeps what it can where Fiji and tifffile look for it: OME-XML for an OME
input or a ``NAME.ome.tif`` output, else an ImageJ hyperstack when ImageJ holds the
dtype (uint8, uint16, float32; RGB of uint8), else OME-XML (int8, int16, int32,
uint32, float64, RGBA, other channel counts); dtypes neither holds (int64, uint64,
float16) get resolution tags and the sizes in tifffile's JSON description, with a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .requests import add_note

#: OME's length units (``UnitsLength``), and the other names ImageJ files give some.
_OME_UNITS = frozenset(
    "Ym Zm Em Pm Tm Gm Mm km hm dam m dm cm mm µm nm pm fm am zm ym Å thou li in ft yd mi "
    "ua ly pc pt".split()
)
_ALIASES = {"um": "µm", "micron": "µm", "microns": "µm", "\u03bcm": "µm", "u": "µm",
            "inch": "in", "inches": "in", "A": "Å", "angstrom": "Å"}  # fmt: skip
#: TIFF's resolution units: how many centimetres (or inches) a unit is.
_PER_CM = {"nm": 1e-7, "µm": 1e-4, "mm": 0.1, "cm": 1.0, "m": 100.0}
#: The dtypes an ImageJ hyperstack holds (RGB: uint8 only), and those OME-XML names.
_IMAGEJ = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))
_OME = (*_IMAGEJ, *map(np.dtype, (np.int8, np.int16, np.int32, np.uint32, np.float64)))

Size = tuple[float | None, float | None, float | None]
Units = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class Voxel:
    """A voxel's physical size along (z, y, x), None where the file does not say, each
    axis's unit as the file names it (None: no unit), and whether OME-XML said so."""

    size: Size = (None, None, None)
    unit: Units = (None, None, None)
    ome: bool = False

    @property
    def known(self) -> bool:
        return any(s is not None for s in self.size)

    def or_ones(self) -> tuple[float, float, float]:
        """(z, y, x), 1 where unknown (a pyramid's scale)."""
        z, y, x = (1.0 if s is None else s for s in self.size)
        return z, y, x

    def scaled(self, placement: Sequence[tuple[float, float]]) -> Voxel:
        """The output's voxel: each axis's size times the input voxels one output voxel
        spans there; ``placement`` is ((scale, offset) along x, along y, along z)."""
        (sx, _), (sy, _), (sz, _) = placement[:3]
        z, y, x = (None if s is None else s * f
                   for s, f in zip(self.size, (sz, sy, sx), strict=True))  # fmt: skip
        return Voxel((z, y, x), self.unit, self.ome)


#: NGFF's unit names for the ones ImageJ and OME-XML write.
NGFF_UNITS = {"µm": "micrometer", "um": "micrometer", "micron": "micrometer",
              "nm": "nanometer", "mm": "millimeter", "cm": "centimeter", "m": "meter",
              "Å": "angstrom", "pm": "picometer", "km": "kilometer"}  # fmt: skip
#: OME-XML's symbol for each (the first listed: ``µm`` for micrometer).
_OME_SYMBOLS = {ngff: symbol for symbol, ngff in reversed(NGFF_UNITS.items())}


def ome_unit(ngff: str | None) -> str | None:
    """OME-XML's symbol for an NGFF unit name (``micrometer`` -> ``µm``), or None."""
    return None if ngff is None else _OME_SYMBOLS.get(ngff)


def ome_zarr_voxel(axes: str | None, transforms: dict[str, Any] | None) -> Voxel | None:
    """The voxel size of an OME-Zarr volume whose level 0 has ``axes`` (``zyx``,
    ``czyx``...) and ``transforms`` (its scale and axis units, as the Zarr reader
    gives them); None without a z axis, a scale, or units OME-XML names (a scale in
    no unit says nothing of the voxel's size)."""
    if not axes or "z" not in axes or not transforms or "scale" not in transforms:
        return None
    scale, units = transforms["scale"], transforms.get("units") or [None] * len(axes)
    if len(scale) != len(axes):
        return None
    size = tuple(float(scale[axes.index(a)]) for a in "zyx")
    unit = tuple(ome_unit(units[axes.index(a)]) for a in "zyx")
    if None in unit:
        return None
    return Voxel((size[0], size[1], size[2]), (unit[0], unit[1], unit[2]), ome=True)


def read_tiff_voxel(path: str) -> Voxel:
    """The voxel size of the TIFF at ``path``: OME-XML's PhysicalSize* of the first image
    (unit µm where it names none, as OME says), or an ImageJ stack's calibration
    (X/YResolution pixels per unit, ``spacing`` between slices, 1 when not written, as
    ImageJ writes it; ``unit``, ``yunit``, ``zunit``). Unknown for other TIFFs, for an
    ImageJ stack without calibration, and for files whose metadata do not parse."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            if tif.is_ome and tif.ome_metadata:
                return _ome_voxel(tifffile.xml2dict(tif.ome_metadata))
            if tif.is_imagej and tif.imagej_metadata is not None:
                return _imagej_voxel(tif.imagej_metadata, tif.pages.first)
    except (tifffile.TiffFileError, OSError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, SyntaxError, ZeroDivisionError):  # fmt: skip
        pass  # odd metadata: the pixels are still pooled, their size unknown
    return Voxel()


def _ome_voxel(tree: dict[str, Any]) -> Voxel:
    images = tree["OME"]["Image"]
    pixels = (images[0] if isinstance(images, list) else images)["Pixels"]

    def size(axis: str) -> float | None:
        value = pixels.get(f"PhysicalSize{axis}")
        return None if value is None else float(value)

    def unit(axis: str) -> str:
        return str(pixels.get(f"PhysicalSize{axis}Unit", "µm"))

    return Voxel((size("Z"), size("Y"), size("X")), (unit("Z"), unit("Y"), unit("X")), ome=True)


def _imagej_voxel(metadata: dict[str, Any], page: Any) -> Voxel:
    unit = metadata.get("unit")
    unit = None if unit in (None, "", "pixel", "pixels") else str(unit)
    sizes = []
    for tag in ("YResolution", "XResolution"):
        found = page.tags.get(tag)
        numerator, denominator = found.value if found is not None else (1, 1)
        sizes.append(denominator / numerator if numerator else 1.0)
    spacing = metadata.get("spacing")
    if unit is None and spacing is None and sizes == [1.0, 1.0]:
        return Voxel()  # not calibrated
    named = [metadata.get(name) or unit for name in ("zunit", "yunit")]
    zunit, yunit = (None if u is None else str(u) for u in named)
    depth = 1.0 if spacing is None else float(spacing)
    return Voxel((depth, sizes[0], sizes[1]), (zunit, yunit, unit))


def voxel_options(
    voxel: Voxel | None,
    shape: tuple[int, ...],
    dtype: np.dtype,
    *,
    ome: bool = False,
    notes: list[str] | None = None,
    big: bool = False,
) -> dict[str, Any]:
    """tifffile ``imwrite`` options that carry ``voxel`` into a (D, H, W[, C]) stack of
    ``dtype``: ``metadata`` and ``imagej``, ``ome`` or ``resolution``. An OME-TIFF when
    ``ome`` (the output's name says so) or the voxel came from OME-XML; otherwise an
    ImageJ hyperstack when ImageJ holds the dtype and the units; otherwise OME-XML. An
    OME-TIFF also gets X/YResolution per centimetre when its unit converts. A dtype OME
    cannot name gets resolution tags and the sizes in tifffile's JSON description, and
    a note in ``notes``. Without a known voxel: the axes only (tifffile's shaped series;
    OME-XML without physical sizes when ``ome``). ``big``: a BigTIFF, never ImageJ's."""
    axes = "ZYX" if len(shape) == 3 else "ZYXS"
    dtype = np.dtype(dtype)
    if voxel is None or not voxel.known:
        if ome and dtype in _OME:  # the name says OME-TIFF: one, of unknown voxel size
            return {"ome": True, "metadata": {"axes": axes}}
        return {"metadata": {"axes": axes}}
    if not (ome or voxel.ome) and _imagej_fits(voxel, shape, dtype):
        if not big:
            return _imagej_options(voxel, axes)
        if notes is not None:
            add_note(notes, "the Z stack is a BigTIFF (over 4 GB), which ImageJ's format is "
                     "not: its voxel size is written as OME-XML")  # fmt: skip
    sizes = _ome_sizes(voxel, notes)
    tags = _resolution_tags(voxel)
    if dtype in _OME:  # and X/YResolution for readers of TIFF tags, in a unit they know
        physical = tags.get("resolutionunit") in ("CENTIMETER", "INCH")
        return {"ome": True, "metadata": {"axes": axes, **sizes}, **(tags if physical else {})}
    if notes is not None:
        add_note(
            notes,
            f"a {dtype} Z stack is neither an ImageJ nor an OME-TIFF type: its voxel size "
            "is written in tifffile's description and X/YResolution, not as ImageJ's or OME's",
        )
    return {"metadata": {"axes": axes, **sizes}, **tags}


def _imagej_fits(voxel: Voxel, shape: tuple[int, ...], dtype: np.dtype) -> bool:
    channels = shape[3] if len(shape) == 4 else 1
    grey = channels == 1 and dtype in _IMAGEJ
    ascii_units = all(u is None or _imagej_unit(u) is not None for u in voxel.unit)
    return (grey or (channels == 3 and dtype == np.uint8)) and ascii_units


def _imagej_unit(unit: str) -> str | None:
    """``unit`` as ImageJ writes it (ASCII: ``um`` for µm), None when it has no ASCII name."""
    unit = "um" if unit in ("µm", "\u03bcm") else unit
    return unit if unit.isascii() else None


def _imagej_options(voxel: Voxel, axes: str) -> dict[str, Any]:
    z, y, x = voxel.size
    metadata: dict[str, Any] = {"axes": axes}
    if z is not None:
        metadata["spacing"] = z
    zunit, yunit, xunit = (None if u is None else _imagej_unit(u) for u in voxel.unit)
    if xunit is not None:
        metadata["unit"] = xunit
    for name, unit in (("yunit", yunit), ("zunit", zunit)):
        if unit is not None and unit != xunit:
            metadata[name] = unit
    options: dict[str, Any] = {"imagej": True, "metadata": metadata}
    if x is not None and y is not None:
        options["resolution"] = (1 / x, 1 / y)
    return options


def _ome_sizes(voxel: Voxel, notes: list[str] | None) -> dict[str, Any]:
    """OME-XML's PhysicalSize* and their units; an axis whose unit OME cannot name is
    left out, with a note (OME would read it as µm)."""
    sizes: dict[str, Any] = {}
    for axis, size, unit in zip("ZYX", voxel.size, voxel.unit, strict=True):
        if size is None:
            continue
        named = _ALIASES.get(unit, unit) if unit is not None else None
        if named not in _OME_UNITS and named != "pixel":
            if notes is not None:
                add_note(notes, f"the voxel's {axis} unit {unit!r} has no OME name: not written")
            continue
        sizes[f"PhysicalSize{axis}"] = size
        sizes[f"PhysicalSize{axis}Unit"] = named
    return sizes


def _resolution_tags(voxel: Voxel) -> dict[str, Any]:
    """X/YResolution of the voxel, per centimetre (or inch) when its unit converts."""
    _, y, x = voxel.size
    if x is None or y is None:
        return {}
    _, yunit, xunit = (_ALIASES.get(u, u) if u is not None else None for u in voxel.unit)
    if xunit == yunit and xunit in _PER_CM:
        per = _PER_CM[xunit]
        return {"resolution": (1 / (x * per), 1 / (y * per)), "resolutionunit": "CENTIMETER"}
    if xunit == yunit == "in":
        return {"resolution": (1 / x, 1 / y), "resolutionunit": "INCH"}
    return {"resolution": (1 / x, 1 / y), "resolutionunit": "NONE"}
