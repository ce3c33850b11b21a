"""GeoTIFF georeferencing and GDAL's nodata: read from a TIFF page, carried, moved.

NumPy-free (Pillow-only pooling never loads NumPy).

A GeoTIFF says where its pixels lie on the Earth in a handful of TIFF tags: the
GeoKey directory (with its double and ASCII parameters) names the coordinate
reference system; a tie point and pixel scale, or a 4x4 model transformation,
place the raster. GDAL adds its metadata (XML) and its nodata value (ASCII).

:class:`Georef` holds those tags as they are stored; :meth:`Georef.pooled` gives the
tags of a pooled output: the placement scaled by the stride and shifted so that each
output pixel's centre is its window's centre (see
:meth:`poolcli.spec.settings.PoolSettings.placement`), the nodata value the pooling
used, and GDAL's cached statistics dropped (they describe the input's values). A
classified raster's colour table (a ColorMap on grey samples) goes along as it is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

#: ModelPixelScale, ModelTiepoint, ModelTransformation.
PIXEL_SCALE, TIEPOINT, TRANSFORMATION = 33550, 33922, 34264
#: GeoKeyDirectory, GeoDoubleParams, GeoAsciiParams.
GEO_KEYS, GEO_DOUBLES, GEO_ASCII = 34735, 34736, 34737
#: GDAL's metadata (XML) and nodata (ASCII) tags.
GDAL_METADATA, GDAL_NODATA = 42112, 42113
#: GDAL's RPC coefficients (a satellite image's rational polynomial camera model).
RPC_COEFFICIENTS = 50844
#: A colour table on grey samples: GDAL writes one for a classified raster (land cover).
COLORMAP = 320
TAGS = (PIXEL_SCALE, TIEPOINT, TRANSFORMATION, GEO_KEYS, GEO_DOUBLES, GEO_ASCII,
        GDAL_METADATA, GDAL_NODATA, COLORMAP)  # fmt: skip
#: TIFF field types: SHORT, DOUBLE, ASCII.
_SHORT, _DOUBLE, _ASCII = 3, 12, 2
_TYPES = {GEO_KEYS: _SHORT, COLORMAP: _SHORT, GDAL_METADATA: _ASCII, GDAL_NODATA: _ASCII,
          GEO_ASCII: _ASCII}  # fmt: skip

#: GeoKeys: raster type (1 area, 2 point), citation, geographic and projected CRS codes.
_RASTER_TYPE, _CITATION, _GEOGRAPHIC, _PROJECTED, _PROJECTED_CITATION = (
    1025, 1026, 2048, 3072, 3073,
)  # fmt: skip
#: VerticalCSTypeGeoKey: the vertical part of a compound CRS (heights above a geoid).
_VERTICAL = 4096
_USER_DEFINED = 32767
#: GDAL's cached statistics, which describe the input's values, not the output's.
_STATISTICS = re.compile(r"\s*<Item[^>]*name=\"STATISTICS_[A-Z_]+\"[^>]*>[^<]*</Item>")


@dataclass(frozen=True)
class Georef:
    """The GeoTIFF and GDAL tags of a page, by tag code, as stored."""

    tags: dict[int, Any] = field(default_factory=dict)
    #: The page's RPCs (a camera model of the raster's pixels), which are not carried.
    rpcs: bool = False

    @classmethod
    def of_page(cls, page: Any) -> Georef | None:
        """The tags of a tifffile page; None when it has none of them."""
        tags = {code: page.tags[code].value for code in TAGS if code in page.tags}
        if COLORMAP in tags:  # tifffile gives it as a (3, N) array: stored flat
            tags[COLORMAP] = tuple(int(v) for v in tags[COLORMAP].ravel())
        rpcs = RPC_COEFFICIENTS in page.tags
        return cls(tags, rpcs) if tags or rpcs else None

    @classmethod
    def of_pillow(cls, image: Any) -> Georef | None:
        """The tags of a TIFF image Pillow opened (its ``tag_v2``); None without them."""
        stored = getattr(image, "tag_v2", None)
        if stored is None:
            return None
        # a palette image's colour map is Pillow's to write
        tags = {code: stored[code] for code in TAGS if code in stored and code != COLORMAP}
        rpcs = RPC_COEFFICIENTS in stored
        return cls(tags, rpcs) if tags or rpcs else None

    def unkept_rpcs(self) -> str | None:
        """The note for an input whose RPCs no output keeps; None without RPCs."""
        if not self.rpcs:
            return None
        return "its RPCs (a camera model of its pixels) are not kept in the pooled output"

    @property
    def nodata(self) -> int | float | None:
        """GDAL's nodata value (an int when whole, NaN for ``nan``), or None."""
        return parse_nodata(self.tags.get(GDAL_NODATA))

    @property
    def georeferenced(self) -> bool:
        return any(code in self.tags for code in (TIEPOINT, TRANSFORMATION, GEO_KEYS))

    def keys(self) -> dict[int, Any]:
        """The GeoKeys by number, their values looked up in the parameter tags."""
        directory = [int(v) for v in self.tags.get(GEO_KEYS, ())]
        doubles = self.tags.get(GEO_DOUBLES, ())
        ascii_params = _text(self.tags.get(GEO_ASCII, ""))
        keys: dict[int, Any] = {}
        for i in range(4, min(len(directory), 4 + 4 * directory[3] if directory else 0), 4):
            key, location, count, value = directory[i : i + 4]
            if location == 0:
                keys[key] = value
            elif location == GEO_DOUBLES:
                keys[key] = tuple(doubles[value : value + count])
            elif location == GEO_ASCII:
                keys[key] = ascii_params[value : value + count].rstrip("|\0")
        return keys

    def gdal_items(self) -> list[str] | None:
        """The names of GDAL_METADATA's items (``SCALE``, ``UNITS``, a band's
        ``DESCRIPTION``, user tags), in order, once each; None without the tag."""
        if GDAL_METADATA not in self.tags:
            return None
        names = re.findall(r"<Item[^>]*\sname=\"([^\"]*)\"", _text(self.tags[GDAL_METADATA]))
        return list(dict.fromkeys(names))

    def crs(self) -> str | None:
        """``EPSG:32633`` (a compound CRS with its vertical part: ``EPSG:32633+5773``),
        or the CRS's name from its citation; None without GeoKeys."""
        keys = self.keys()
        vertical = keys.get(_VERTICAL)
        height = (
            f"+{vertical}" if isinstance(vertical, int) and 0 < vertical < _USER_DEFINED else ""
        )
        for code in (_PROJECTED, _GEOGRAPHIC):
            value = keys.get(code)
            if isinstance(value, int) and 0 < value < _USER_DEFINED:
                return f"EPSG:{value}{height}"
        for code in (_PROJECTED_CITATION, _CITATION):
            if isinstance(keys.get(code), str) and keys[code]:
                return str(keys[code])
        return "user-defined" if keys else None

    def geotransform(self) -> tuple[float, ...] | None:
        """GDAL's (x0, dx, rx, y0, ry, dy) of pixel corners, or None (none, or control
        points only)."""
        point = self.keys().get(_RASTER_TYPE) == 2  # centres: GDAL moves half a pixel
        if TRANSFORMATION in self.tags:
            m = [float(v) for v in self.tags[TRANSFORMATION]]
            gt = (m[3], m[0], m[1], m[7], m[4], m[5])
        elif PIXEL_SCALE in self.tags and len(self.tags.get(TIEPOINT, ())) == 6:
            i, j, _, x, y, _ = (float(v) for v in self.tags[TIEPOINT])
            sx, sy = (float(v) for v in self.tags[PIXEL_SCALE][:2])
            gt = (x - i * sx, sx, 0.0, y + j * sy, 0.0, -sy)
        else:
            return None
        if point:
            x0 = gt[0] - 0.5 * gt[1] - 0.5 * gt[2]
            y0 = gt[3] - 0.5 * gt[4] - 0.5 * gt[5]
            gt = (x0, gt[1], gt[2], y0, gt[4], gt[5])
        return gt

    def pooled(
        self,
        placement: tuple[tuple[float, float], tuple[float, float]],
        nodata: int | float | None,
    ) -> Georef:
        """The tags of the output: pixel placement moved by ``placement`` ((scale,
        offset) along x and y, see :meth:`PoolSettings.placement`) and GDAL's nodata
        set to ``nodata``; None (``--nodata none``: every value was pooled as data)
        drops it, so that GDAL masks nothing the pooling counted."""
        (sx, ox), (sy, oy) = placement
        if self.keys().get(_RASTER_TYPE) == 2:
            # a tie point names a pixel's centre: centre v maps to centre s*v + o + s/2 - 1/2
            ox, oy = ox + sx / 2 - 0.5, oy + sy / 2 - 0.5
        tags = dict(self.tags)
        if TRANSFORMATION in tags:
            m = [float(v) for v in tags[TRANSFORMATION]]
            for row in (0, 4, 8, 12):
                a, b = m[row], m[row + 1]
                m[row + 3] += a * ox + b * oy
                m[row], m[row + 1] = a * sx, b * sy
            tags[TRANSFORMATION] = tuple(m)
        if TIEPOINT in tags:
            points = [float(v) for v in tags[TIEPOINT]]
            if PIXEL_SCALE in tags and len(points) == 6:
                scale = [float(v) for v in tags[PIXEL_SCALE]]
                # the tie point moved to the output's corner (0, 0)
                points[3] += (ox - points[0]) * scale[0]
                points[4] -= (oy - points[1]) * scale[1]
                points[0] = points[1] = 0.0
                tags[PIXEL_SCALE] = (scale[0] * sx, scale[1] * sy, *scale[2:])
            else:  # control points: their raster positions in output pixels
                for i in range(0, len(points) - 5, 6):
                    points[i] = (points[i] - ox) / sx
                    points[i + 1] = (points[i + 1] - oy) / sy
            tags[TIEPOINT] = tuple(points)
        elif PIXEL_SCALE in tags:
            scale = [float(v) for v in tags[PIXEL_SCALE]]
            tags[PIXEL_SCALE] = (scale[0] * sx, scale[1] * sy, *scale[2:])
        if nodata is not None:
            tags[GDAL_NODATA] = format_nodata(nodata)
        else:
            tags.pop(GDAL_NODATA, None)
        if GDAL_METADATA in tags:
            kept = _STATISTICS.sub("", _text(tags[GDAL_METADATA]))
            if "<Item" in kept:
                tags[GDAL_METADATA] = kept
            else:
                del tags[GDAL_METADATA]
        return Georef(tags)

    def extratags(self) -> list[tuple[int, int, int, Any, bool]]:
        """The tags as tifffile's ``extratags`` (code, type, count, value, writeonce)."""
        result: list[tuple[int, int, int, Any, bool]] = []
        for code in TAGS:
            if code not in self.tags:
                continue
            value = self.tags[code]
            kind = _TYPES.get(code, _DOUBLE)
            if kind == _ASCII:
                value = _text(value)
                result.append((code, kind, 0, value, True))
            else:
                values = tuple(int(v) if kind == _SHORT else float(v) for v in value)
                result.append((code, kind, len(values), values, True))
        return result

    def pillow_tags(self) -> Any:
        """The tags as Pillow's ``tiffinfo`` (an IFD with each tag's type)."""
        from PIL import TiffImagePlugin

        ifd = TiffImagePlugin.ImageFileDirectory_v2()
        for code, kind, _, value, _ in self.extratags():
            ifd[code] = value
            ifd.tagtype[code] = kind
        return ifd


def pooled_tags(
    georef: Georef | None,
    placement: tuple[tuple[float, float], tuple[float, float]],
    nodata: int | float | None,
) -> Georef | None:
    """The tags of a pooled output of an input with ``georef`` (or none): moved by
    ``placement`` (:meth:`Georef.pooled`), GDAL's nodata set to ``nodata`` (None:
    none). None when there is nothing to write."""
    if georef is not None:
        return georef.pooled(placement, nodata)
    return None if nodata is None else nodata_tags(nodata)


def unkept_note(holder: str, georef: Georef | None, *, nodata: bool = False) -> str | None:
    """The note for an output ``holder`` (``"PNG"``) that holds no GeoTIFF tags, of
    an input whose tags are ``georef``: it loses the georeferencing (and, with
    ``nodata``, the GDAL_NODATA); None when there is nothing to lose."""
    lost = []
    if georef is not None and georef.georeferenced:
        lost.append("georeferencing")
    if nodata and georef is not None and georef.nodata is not None:
        lost.append("nodata")
    if not lost:
        return None
    them = "them" if len(lost) > 1 else "it"
    return f"{holder} holds no {' or '.join(lost)}; write TIFF to keep {them}"


def with_colour_table(georef: Georef | None, palette: list[int]) -> Georef:
    """``georef``'s tags (or none) with a TIFF colour table of ``palette`` (Pillow's
    flat 8-bit ``[r, g, b, r, g, b...]``, up to 256 entries): the 256 reds, greens and
    blues of a palette page's ColorMap, 16 bits each."""
    entries = [*palette[:768], *[0] * (768 - len(palette[:768]))]
    table = tuple(entries[i + 3 * n] * 257 for i in range(3) for n in range(256))
    tags = dict(georef.tags) if georef is not None else {}
    tags[COLORMAP] = table
    return Georef(tags)


def nodata_tags(nodata: int | float) -> Georef:
    """The tags of an output without georeferencing whose nodata is ``nodata``."""
    return Georef({GDAL_NODATA: format_nodata(nodata)})


def parse_nodata(text: object) -> int | float | None:
    """GDAL's nodata text (``-9999``, ``nan``, ``1e20``) as a number; None if absent or odd."""
    if text is None:
        return None
    stripped = _text(text).strip().strip("\0")
    try:
        return int(stripped)
    except ValueError:
        pass
    try:
        value = float(stripped)
    except ValueError:
        return None
    return int(value) if _whole(value) else value


def format_nodata(value: int | float) -> str:
    """A nodata value as GDAL writes it: ``-9999``, ``nan``, ``0.5``, ``-3.4e+38``."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and _whole(value):
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(int(value))


def _whole(value: float) -> bool:
    """True for a float that some 64-bit integer holds exactly (a float32's lowest
    value, -3.4e38, is a whole number too, but only a float's)."""
    return value.is_integer() and -(2**63) <= value < 2**64


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
