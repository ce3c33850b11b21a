"""The choices a batch request offers: what to do with existing outputs, where to run.

Standard library only, so that the command line builds ``--help`` from them without
loading the rest of the batch library.
"""

from __future__ import annotations

from ..enums import StrEnum

#: How long to wait for a Dask scheduler to answer (seconds), unless told otherwise.
CONNECT_SECONDS = 10.0


class Existing(StrEnum):
    """What to do when an output file already exists."""

    REFUSE = "refuse"
    OVERWRITE = "overwrite"
    SKIP = "skip"


def refused(what: str) -> str:
    """Why an existing output was left alone, and the two ways on (``what``: 'X exists')."""
    return f"{what}; pass `existing=overwrite` to replace it or `existing=skip` to keep it"


class Executor(StrEnum):
    """Where a batch runs its jobs."""

    #: Worker processes on this machine (``workers``).
    LOCAL = "local"
    #: The workers of a Dask distributed cluster (``scheduler``).
    DASK = "dask"
