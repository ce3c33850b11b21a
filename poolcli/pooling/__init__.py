"""The pooling engine: pure NumPy, no Pillow, no click.

``pool`` (PyTorch-style windows), ``adaptive_pool`` (a given output size) and
``output_shape``; the modes are the :class:`PoolMode` enum. Names load on first use,
so that importing :mod:`poolcli.pooling.modes` alone does not load NumPy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .modes import PoolMode

__all__ = ["PoolMode", "adaptive_pool", "available_cores", "output_shape", "pool"]

if TYPE_CHECKING:
    from .engine import adaptive_pool, output_shape, pool
    from .threads import available_cores


def __getattr__(name: str) -> Any:
    if name == "available_cores":
        from .threads import available_cores

        return available_cores
    if name in ("adaptive_pool", "output_shape", "pool"):
        value = getattr(import_module(".engine", __name__), name)
        globals()[name] = value
        return value
    message = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(message)
