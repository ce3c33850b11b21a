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
    frame itself. ``sums``: ``array`` holds a sum's widened integers, which no image
    mode holds, for an array output (see :meth:`values`).
    """

    array: np.ndarray | None
    mode: str
    palette: ImagePalette.ImagePalette | None = None
    transparency: object = None
    ready: Image.Image | None = None
    sums: bool = False

    def values(self) -> np.ndarray:
        """The pooled pixels as an (H, W[, C]) array, as an array output holds them."""
        if self.sums:
            assert self.array is not None
            return self.array
        import numpy as np

        return np.asarray(self.image())

    def image(self) -> Image.Image:
        assert not self.sums, "widened sums are written as arrays only"
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
