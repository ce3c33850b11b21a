"""The pooling engine: pure NumPy, no Pillow, no click.

``pool`` (PyTorch-style windows), ``adaptive_pool`` (a given output size) and
``output_shape``; the modes are the :class:`PoolMode` enum.
"""

from .engine import adaptive_pool, available_cores, output_shape, pool
from .modes import PoolMode

__all__ = ["PoolMode", "adaptive_pool", "available_cores", "output_shape", "pool"]
