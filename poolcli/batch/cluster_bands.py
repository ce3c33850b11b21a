"""One huge input split across a Dask cluster: bands of a Zarr output on the workers.

With ``--executor dask`` a batch of one input that streams (a TIFF, .npy or Zarr
larger than half of ``--memory``) into a Zarr store is not given to one worker:
this process creates the store (in its hidden temporary folder), cuts the output
rows into bands of whole chunk rows, and each task pools one band from the input
rows it needs and writes its own chunks, so no two tasks ever write one chunk.
Once every band is in, the store is published like any output. The bytes equal a
local run's (each band is computed as the streamed path computes it).
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import Failure, FailureKind, PoolcliError
from ..images.conversion import streamable_format
from ..images.requests import WriteOptions
from ..images.writing.options import options_for
from .choices import Existing
from .jobs import Job, Result, Status, Work
from .writing import reason, write_directory_atomically

if TYPE_CHECKING:
    from distributed import Client


def run_split(job: Job, work: Work, client: Client) -> Result | None:
    """Run ``job`` as bands on the cluster; None when it does not split (run it whole)."""
    from ..images.streaming import plan_split, pool_split_band

    source, target = os.path.abspath(job.source), os.path.abspath(job.target)
    fmt = streamable_format(source)
    if fmt is None or job.format != "ZARR":
        return None
    if work.existing is Existing.REFUSE and os.path.lexists(target):
        return None  # refused as any job is, before any work
    started = time.perf_counter()
    write = WriteOptions(job.format, options_for(work.save_options, job.format), work.dtype)
    settings = replace(work.settings, threads=1)  # the cluster's threads fill the cores
    split = None

    def fill(temp: str):
        nonlocal split
        split = plan_split(source, fmt, temp, settings, write, work.read)
        if split is None:
            return None
        futures = [
            client.submit(pool_split_band, source, fmt, temp, settings, write, work.read,
                          start, stop, key=f"poolcli-{work.run_id}-band-{start}", pure=False)
            for start, stop in split.bands
        ]  # fmt: skip
        client.gather(futures)
        return split.report

    try:
        report = write_directory_atomically(
            target, fill, replace=work.existing is Existing.OVERWRITE, run_id=work.run_id
        )
    except PoolcliError as error:
        return Result(job.index, Status.ERROR, Failure.of(error),
                      seconds=time.perf_counter() - started)  # fmt: skip
    except OSError as error:
        return Result(job.index, Status.ERROR, Failure(FailureKind.OUTPUT, reason(error)),
                      seconds=time.perf_counter() - started)  # fmt: skip
    if report is None:
        return None
    assert split is not None
    return Result(
        job.index, Status.OK, in_size=report.in_size, out_size=report.out_size, frames=1,
        seconds=time.perf_counter() - started, notes=report.notes,
        streamed=f"{report.streamed}, {len(split.bands)} bands on the cluster",
    )  # fmt: skip
