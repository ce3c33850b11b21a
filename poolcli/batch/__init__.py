"""Inputs to jobs to outputs: the batch layer under ``poolcli pool`` and ``poolcli info``.

:func:`~.planning.plan` turns arguments into :class:`Job` objects (discovery, naming, the
checks that must pass before any work); :func:`~.workers.run_jobs` runs them in this process
or on worker processes, writing every output atomically; :mod:`.report` formats
what happened. Nothing here imports click.

Modules: :mod:`.discovery` (which files), :mod:`.naming` (which outputs),
:mod:`.planning` (both, checked together), :mod:`.sharding` (``--shard I/N``),
:mod:`.writing` (atomic writes), :mod:`.jobs` (one file), :mod:`.workers`
(processes and interruption), :mod:`.cluster` (a Dask cluster instead),
:mod:`.report` (lines and counts), :mod:`.info` (``poolcli info``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Names load on first use: the CLI starts the worker processes (workers.py needs
# neither NumPy nor Pillow) before it imports the layers that do.
_EXPORTS = {
    "STDIN": "discovery", "Input": "discovery", "Rules": "discovery", "discover": "discovery",
    "read_list": "discovery",
    "Existing": "jobs", "Job": "jobs", "Result": "jobs", "Status": "jobs", "Work": "jobs",
    "preview_job": "jobs", "run_job": "jobs",
    "DEFAULT_DIRECTORY": "naming", "STDOUT": "naming", "PlanError": "naming",
    "Plan": "planning", "plan": "planning",
    "available_cores": "workers", "run_jobs": "workers", "sigterm_as_interrupt": "workers",
    "warm_up": "workers",
}  # fmt: skip

__all__ = [
    "DEFAULT_DIRECTORY", "STDIN", "STDOUT", "Existing", "Input", "Job", "Plan", "PlanError",
    "Result", "Rules", "Status", "Work", "available_cores", "discover", "plan", "preview_job",
    "read_list", "run_job", "run_jobs", "sigterm_as_interrupt", "warm_up",
]  # fmt: skip

if TYPE_CHECKING:
    from .discovery import STDIN, Input, Rules, discover, read_list
    from .jobs import Existing, Job, Result, Status, Work, preview_job, run_job
    from .naming import DEFAULT_DIRECTORY, STDOUT, PlanError
    from .planning import Plan, plan
    from .workers import available_cores, run_jobs, sigterm_as_interrupt, warm_up


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        message = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(message)
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
