"""poolcli: exact, fast downsampling of images and feature maps by pooling.

The library API::

    >>> import numpy as np, poolcli
    >>> poolcli.pool(np.arange(16).reshape(4, 4), 2)
    array([[ 5,  7],
           [13, 15]])

``pool``, ``adaptive_pool``, ``output_shape`` and ``pyramid`` work on NumPy arrays;
``pool_image`` on Pillow images; ``run_batch`` pools whole batches of files as the
command line does, from a :class:`BatchRequest`. Names are imported on first use,
so that ``poolcli --help`` starts without loading NumPy or Pillow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_exports
from .version import __version__

__all__ = [
    "BatchRequest",
    "PoolMode",
    "PoolSettings",
    "PoolcliError",
    "__version__",
    "adaptive_pool",
    "output_shape",
    "pool",
    "pool_image",
    "pyramid",
    "run_batch",
]

if TYPE_CHECKING:
    from .batch import BatchRequest, run_batch
    from .errors import PoolcliError
    from .images import pool_image
    from .pooling import adaptive_pool, output_shape, pool
    from .pooling.multiscale import pyramid
    from .spec.modes import PoolMode
    from .spec.settings import PoolSettings

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "pool": ".pooling",
        "adaptive_pool": ".pooling",
        "output_shape": ".pooling",
        "pyramid": ".pooling.multiscale",
        "PoolMode": ".spec.modes",
        "PoolSettings": ".spec.settings",
        "PoolcliError": ".errors",
        "pool_image": ".images",
        "run_batch": ".batch",
        "BatchRequest": ".batch",
    },
)
