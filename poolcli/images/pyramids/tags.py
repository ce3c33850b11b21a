"""Extra TIFF tags of each pyramid level, as tifffile ``extratags``.

One function, so that what a level's page carries beside its pixels has one home:
GeoTIFF georeferencing (GeoKeyDirectory, ModelPixelScale scaled by ``2**level``,
ModelTiepoint, GDAL_NODATA) belongs here once the streamed readers carry it in
:class:`~..streams.readers.Facts`. Nothing is carried yet: every level gets none.
"""

from __future__ import annotations

from ..streams.readers import Facts

#: tifffile's ``extratags`` entries: (code, dtype, count, value, writeonce).
ExtraTag = tuple[int, int | str, int, object, bool]


def level_extratags(facts: Facts, level: int, shape: tuple[int, ...]) -> list[ExtraTag]:
    """The extra tags of the page of ``level`` (``shape``: its (H, W[, S]) pixels),
    from the level-0 input's ``facts``. Level ``k``'s pixels are ``2**k`` level-0
    pixels wide, with the same top-left corner."""
    return []
