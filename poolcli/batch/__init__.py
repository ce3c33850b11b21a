"""Inputs to jobs to outputs: the batch library under ``poolcli pool`` and ``poolcli info``.

:func:`run_batch` runs a whole batch from a :class:`BatchRequest`, without click:
it plans (:mod:`.planning`: discovery and naming, checked together), shards, picks
the executor, and yields an :class:`Outcome` per input in input order. Nothing here
imports click.

Modules: :mod:`.request` (the typed request), :mod:`.run` (the entry),
:mod:`.discovery` (which files), :mod:`.naming` (which outputs), :mod:`.planning`
(both, checked together), :mod:`.sharding` (shards of a batch), :mod:`.writing`
(atomic writes), :mod:`.jobs` (one file), :mod:`.workers` (processes and
interruption), :mod:`.cluster` (a Dask cluster instead), :mod:`.report` (lines,
counts, order), :mod:`.info` (``poolcli info``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_exports

__all__ = [
    "Batch", "BatchRequest", "Executor", "Existing", "Job", "Outcome", "Result", "Rules",
    "Shard", "Status", "run_batch",
]  # fmt: skip

if TYPE_CHECKING:
    from .choices import Executor, Existing
    from .discovery import Rules
    from .jobs import Job, Result, Status
    from .request import BatchRequest
    from .run import Batch, Outcome, run_batch
    from .sharding import Shard

# Names load on first use: the command line parses its options (request.py needs
# neither NumPy nor Pillow) before it imports the layers that do the work.
__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "Batch": ".run", "Outcome": ".run", "run_batch": ".run",
        "BatchRequest": ".request", "Executor": ".choices", "Existing": ".choices",
        "Job": ".jobs", "Result": ".jobs", "Status": ".jobs",
        "Rules": ".discovery", "Shard": ".sharding",
    },
)  # fmt: skip
