"""Images and feature maps in, pooled files out: the Pillow side of poolcli.

``convert`` pools one input (any Pillow image, every frame, or a .npy/.npz) and
writes the result to a stream; ``describe`` reads headers only; ``pool_image``
pools a Pillow image in memory. The batch layer and the CLI are built on these.

Names load on first use, and NumPy only when a job needs it: the engine's path
(:mod:`~poolcli.images.engine_path`), mode conversions that look at pixels
(:mod:`~poolcli.images.fitting`), the PNG and animation writers and arrays each load
it. A 2x2 mean of a photo into JPEG, TIFF or WebP is Pillow's work alone.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "LAYOUTS",
    "AlphaPolicy",
    "PoolSettings",
    "ReadOptions",
    "Report",
    "WriteOptions",
    "convert",
    "describe",
    "output_format",
    "pool_image",
]

_HOMES = {
    "DEFAULT_MAX_PIXELS": "..choices",
    "LAYOUTS": "..choices",
    "AlphaPolicy": "..choices",
    "PoolSettings": ".settings",
}

if TYPE_CHECKING:
    from ..choices import DEFAULT_MAX_PIXELS, LAYOUTS, AlphaPolicy
    from .conversion import (
        ReadOptions,
        Report,
        WriteOptions,
        convert,
        describe,
        output_format,
        pool_image,
    )
    from .settings import PoolSettings


def __getattr__(name: str) -> Any:
    if name not in __all__:
        message = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(message)
    value = getattr(import_module(_HOMES.get(name, ".conversion"), __name__), name)
    globals()[name] = value
    return value
