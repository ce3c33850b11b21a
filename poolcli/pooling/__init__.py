"""The pooling engine: pure NumPy, no Pillow, no click.

``pool`` (PyTorch-style windows), ``adaptive_pool`` (a given output size) and
``output_shape``, from :mod:`.engine`; ``available_cores``, from :mod:`.threads`.
The modes are :class:`poolcli.spec.modes.PoolMode`. Names load on first use, so
importing the package, or ``available_cores`` (standard library only), does not
load NumPy.

- :mod:`.engine`: the public functions and the checks of their arguments.
- :mod:`.geometry`: where the windows fall along one axis.
- :mod:`.reduction`: mode semantics (output dtype, divisors, power means).
- :mod:`.bands`: the band scheduler, splitting a call into bands of rows on threads.
- :mod:`.separable_work`: max, min and the sum-based modes on one band.
- :mod:`.separable`: one planned max/min/sum pass along one axis.
- :mod:`.ranked`: median and mode over window stacks.
- :mod:`.volumes`: signals (one spatial axis) and volumes (three): the checks, and
  the dispatch to :mod:`.volume_passes` (max, min and sums, a pass per axis) and
  :mod:`.volume_ranked` (median and mode over whole 3-D windows).
- :mod:`.multiscale`: a pyramid's levels in memory (``poolcli.pyramid``);
  :mod:`.pyramid` and :mod:`.pyramid_modes`: every level from a stream of bands.
- :mod:`.numeric`: dtype rules, accumulators and exact integer rounding.
- :mod:`.threads`: the thread pool and thread counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

__all__ = ["adaptive_pool", "available_cores", "output_shape", "pool"]

if TYPE_CHECKING:
    from .engine import adaptive_pool, output_shape, pool
    from .threads import available_cores

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "pool": ".engine",
        "adaptive_pool": ".engine",
        "output_shape": ".engine",
        "available_cores": ".threads",
    },
)
