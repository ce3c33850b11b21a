"""A pooled frame before it becomes an image again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image, ImagePalette

if TYPE_CHECKING:
    import numpy as np


@dataclass
class PooledFrame:
    """Pooled pixels, not yet an image: the caller can free the input frame first.

    ``array`` holds them (the engine's result), or ``ready`` when Pillow pooled the
    frame itself.
    """

    array: np.ndarray | None
    mode: str
    palette: ImagePalette.ImagePalette | None = None
    transparency: object = None
    ready: Image.Image | None = None

    def image(self) -> Image.Image:
        if self.ready is not None:
            return self.ready
        assert self.array is not None
        from .engine_route.pixels import image_from  # an array: NumPy is loaded already

        result = image_from(self.array, self.mode)
        if self.palette is not None:
            result.putpalette(self.palette)
        if self.transparency is not None:
            result.info["transparency"] = self.transparency
        return result
