"""What a pyramid is asked to be: its container, levels, tiles (NumPy-free).

The container follows from the output's name (:func:`container_of`): ``NAME.ome.zarr``
or ``NAME.zarr`` an OME-Zarr image, ``NAME.ome.tif`` an OME-TIFF with SubIFDs,
``NAME.tif`` a TIFF with reduced-resolution pages, ``NAME.dzi`` a Deep Zoom image,
and a folder (a name ending in ``/``, or an existing folder) one file per level.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..enums import StrEnum
from ..errors import ParameterError


class Container(StrEnum):
    """The kinds of pyramid file."""

    OME_ZARR = "ome-zarr"
    TIFF = "tiff"
    OME_TIFF = "ome-tiff"
    DZI = "dzi"
    FOLDER = "folder"

    @property
    def suffix(self) -> str:
        """The name ending it is written with in an output folder ('' for a folder)."""
        return _SUFFIXES[self]


_SUFFIXES = {
    Container.OME_ZARR: ".ome.zarr",
    Container.TIFF: ".tif",
    Container.OME_TIFF: ".ome.tif",
    Container.DZI: ".dzi",
    Container.FOLDER: "",
}

#: Name endings and their containers, longest first.
_ENDINGS = (
    (".ome.zarr", Container.OME_ZARR), (".zarr", Container.OME_ZARR),
    (".ome.tiff", Container.OME_TIFF), (".ome.tif", Container.OME_TIFF),
    (".tiff", Container.TIFF), (".tif", Container.TIFF), (".dzi", Container.DZI),
)  # fmt: skip

#: Deep Zoom's usual tiles: 254 pixels plus 1 of overlap on each inner side.
DZI_TILE = 254
DZI_OVERLAP = 1
#: TIFF tiles and Zarr chunks.
TILE = 256


def container_of(name: str) -> Container | None:
    """The container an output ``name`` asks for; None when its ending names none."""
    lowered = name.lower()
    if lowered.endswith(("/", "\\")):
        return Container.FOLDER
    for ending, container in _ENDINGS:
        if lowered.endswith(ending):
            return container
    return None


def endings() -> str:
    """The endings that name containers, for messages."""
    return ", ".join(e for e, _ in _ENDINGS) + " or a folder (DIR/)"


@dataclass(frozen=True)
class PyramidOptions:
    """The pyramid's shape: ``levels`` (None: down to the first level that fits one
    tile; Deep Zoom: always down to one pixel), ``tile`` (None: 256, Deep Zoom 254),
    ``overlap`` (Deep Zoom), ``tile_format`` (Deep Zoom tiles and a folder's
    files: ``png``, ``jpg``...; None: PNG for a folder, JPEG or PNG for Deep Zoom
    as the pixels allow), ``label`` and ``image`` (an OME-Zarr label pyramid
    written into ``image`` under ``labels/label``)."""

    levels: int | None = None
    tile: int | None = None
    overlap: int = DZI_OVERLAP
    tile_format: str | None = None
    label: str | None = None
    image: str | None = None
    #: What each level divides an axis by: (h, w), or (d, h, w) for a volume (None:
    #: 2 along every axis).
    factors: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.levels is not None and self.levels < 1:
            message = f"`levels` must be at least 1, got {self.levels}"
            raise ParameterError(message, parameter="levels", value=self.levels)
        if self.tile is not None and not 16 <= self.tile <= 65536:
            message = f"`tile_size` must be 16 to 65536 pixels, got {self.tile}"
            raise ParameterError(message, parameter="tile_size", value=self.tile)
        if self.overlap < 0:
            message = f"`overlap` must be 0 or more, got {self.overlap}"
            raise ParameterError(message, parameter="overlap", value=self.overlap)
        if (self.label is None) != (self.image is None):
            message = "`label` and `image` go together: a label pyramid is written into an image"
            raise ParameterError(message, parameter="label", value=self.label)
        factors = self.factors
        if factors is not None and len(factors) == 2 and factors != (2, 2):
            message = (
                "a pyramid of images halves both sides at each level (2x2); other `factors` "
                "are for volumes: give WxHxD, e.g. 2x2x1"
            )
            raise ParameterError(message, parameter="factors", value=factors)
        if factors is not None and (min(factors) < 1 or max(factors) < 2):
            message = f"`factors` must be at least 1 each and one of them 2 or more, got {factors}"
            raise ParameterError(message, parameter="factors", value=factors)

    def is_volume(self, layout: str | None) -> bool:
        """Whether the input is a volume: ``factors`` has a depth, or ``layout`` does."""
        from .arrays import VOLUME_LAYOUTS

        return (self.factors is not None and len(self.factors) == 3) or layout in VOLUME_LAYOUTS

    def tile_for(self, container: Container) -> int:
        """The tile side of ``container``."""
        if self.tile is not None:
            return self.tile
        return DZI_TILE if container is Container.DZI else TILE

    def check_for(self, container: Container) -> None:
        """Refuse options ``container`` cannot honour."""
        if container is Container.DZI and self.levels is not None:
            message = "Deep Zoom has every level down to one pixel: leave out `levels`"
            raise ParameterError(message, parameter="levels", value=self.levels)
        if container is Container.TIFF or container is Container.OME_TIFF:
            if self.tile is not None and self.tile % 16:
                message = f"TIFF tiles are multiples of 16 pixels, got `tile_size` {self.tile}"
                raise ParameterError(message, parameter="tile_size", value=self.tile)
        volume = self.factors is not None and len(self.factors) == 3
        if volume and container not in (Container.OME_ZARR, Container.FOLDER):
            message = (
                f"a volume pyramid is written as OME-Zarr (NAME.ome.zarr) or a folder of "
                f"levels (DIR/), not {container}: TIFF pages and Deep Zoom tiles are planes"
            )
            raise ParameterError(message, parameter="factors", value=self.factors)
        if self.label is not None and container is not Container.OME_ZARR:
            message = "`label` writes into an OME-Zarr image: it takes no output name"
            raise ParameterError(message, parameter="label", value=self.label)
