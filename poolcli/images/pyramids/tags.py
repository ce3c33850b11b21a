"""Extra TIFF tags of each pyramid level, as tifffile ``extratags``.

One function, so that what a level's page carries beside its pixels has one home:
level 0 carries the input's GeoTIFF georeferencing and GDAL tags as they are
(:class:`~..georef.Georef`; level 0 is the input's own grid), which GDAL applies to
the reduced pages too (its overviews take the main page's georeferencing); every
level carries a classified raster's colour table and GDAL's nodata, as GDAL's own
overviews do, so that a level opened on its own (``OVERVIEW_LEVEL``) masks it. A
level written as a file of its own (a folder of levels) carries them all, its
placement moved as ``pool`` moves it (:meth:`~..georef.Georef.pooled`).
"""

from __future__ import annotations

from typing import Any

from ..georef import COLORMAP, GDAL_NODATA, Georef
from ..streams.rows import Facts

#: tifffile's ``extratags`` entries: (code, dtype, count, value, writeonce).
ExtraTag = tuple[int, int, int, Any, bool]
#: Where a level's pixels lie on level 0: (scale, offset) along x, then along y.
Placement = tuple[tuple[float, float], tuple[float, float]]
#: The tags every level's page carries, not level 0's only.
_EVERY_LEVEL = (COLORMAP, GDAL_NODATA)


def level_extratags(facts: Facts, level: int, shape: tuple[int, ...]) -> list[ExtraTag]:
    """The extra tags of the page of ``level`` (``shape``: its (H, W[, S]) pixels),
    from the level-0 input's ``facts``. Level ``k``'s pixels are ``2**k`` level-0
    pixels wide, with the same top-left corner."""
    georef: Georef | None = facts.georef
    if georef is None:
        return []
    if level > 0:
        kept = {code: v for code, v in georef.tags.items() if code in _EVERY_LEVEL}
        georef = Georef(kept)
    return list(georef.extratags())


def file_extratags(facts: Facts, placement: Placement) -> list[ExtraTag]:
    """The extra tags of a level written as a file of its own, from the level-0
    input's ``facts``: its tags with the pixels placed by ``placement`` (the level's
    one-shot pooling of level 0, :meth:`~poolcli.spec.settings.PoolSettings.placement`),
    GDAL's nodata kept."""
    georef: Georef | None = facts.georef
    if georef is None:
        return []
    return list(georef.pooled(placement, georef.nodata).extratags())
