"""poolcli: exact, fast downsampling of images and feature maps by pooling.

The library API::

    >>> import numpy as np, poolcli
    >>> poolcli.pool(np.arange(16).reshape(4, 4), 2)
    array([[ 5,  7],
           [13, 15]])

``pool``, ``adaptive_pool`` and ``output_shape`` work on NumPy arrays;
``pool_image`` on Pillow images. Names are imported on first use, so that
``poolcli --help`` starts without loading NumPy or Pillow.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "pool": "poolcli.pooling",
    "adaptive_pool": "poolcli.pooling",
    "output_shape": "poolcli.pooling",
    "PoolMode": "poolcli.pooling",
    "PoolcliError": "poolcli.errors",
    "pool_image": "poolcli.images",
}

__all__ = [
    "PoolMode",
    "PoolcliError",
    "__version__",
    "adaptive_pool",
    "output_shape",
    "pool",
    "pool_image",
]

if TYPE_CHECKING:
    from .errors import PoolcliError
    from .images import pool_image
    from .pooling import PoolMode, adaptive_pool, output_shape, pool


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        message = f"module 'poolcli' has no attribute {name!r}"
        raise AttributeError(message)
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
