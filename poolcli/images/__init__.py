"""Images and feature maps in, pooled files out: the Pillow side of poolcli.

``convert`` pools one input (any Pillow image, every frame, or a .npy/.npz) and
writes the result to a stream; ``describe`` reads headers only; ``pool_image``
pools a Pillow image in memory. The batch layer and the command line build on these.

The rooms:

- :mod:`.formats` and :mod:`.modes`: the format table and the mode table, one
  record per format and per Pillow mode, which every other module asks.
- :mod:`.conversion`: one input to one output; :mod:`.requests`: what it is asked
  (:class:`ReadOptions`, :class:`WriteOptions`) and what it reports.
- :mod:`.reading`: sources, the pixel limit, decoding frames (upright) and arrays,
  headers only, decoding ahead.
- :mod:`.policy`: pooling one frame (the mode policy, Pillow's own ``reduce``
  where it is exact); :mod:`.engine_route`: the frame through the engine (pixel
  views, alpha weighting, linear light).
- :mod:`.arrays`: .npy/.npz files, layouts, arrays to and from images.
- :mod:`.metadata`: what survives pooling (ICC, EXIF, XMP, DPI, text, timing).
- :mod:`.writing`: the nearest mode a format holds, Pillow's writers, and poolcli's
  own (parallel PNG, frame-exact GIF/APNG/WebP animations).

Names load on first use, and NumPy only when a job needs it: the engine route,
arrays, mode conversions that look at pixels, and the own writers each load it. A
2x2 mean of a photo into JPEG, TIFF or WebP is Pillow's work alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

__all__ = ["ReadOptions", "Report", "WriteOptions", "convert", "describe", "pool_image"]

if TYPE_CHECKING:
    from .conversion import convert, describe, pool_image
    from .requests import ReadOptions, Report, WriteOptions

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "convert": ".conversion",
        "describe": ".conversion",
        "pool_image": ".conversion",
        "ReadOptions": ".requests",
        "Report": ".requests",
        "WriteOptions": ".requests",
    },
)
