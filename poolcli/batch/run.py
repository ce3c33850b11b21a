"""The whole batch in one call: :func:`run_batch`, as ``poolcli pool`` runs it.

``run_batch(request)`` checks and plans everything before any file is read (bad
usage raises :class:`~poolcli.errors.ParameterError`), then returns a
:class:`Batch`: iterate it for an :class:`Outcome` per input, in input order, as
soon as each is known; the work runs while you iterate (here, on worker processes,
or on a Dask cluster). Leaving the ``with`` block, or breaking off, stops what is
still running and leaves no partial output.

>>> import tempfile
>>> from poolcli import BatchRequest, PoolSettings, run_batch
>>> request = BatchRequest(
...     ["sample_images"], recursive=True, output=tempfile.mkdtemp(),
...     settings=PoolSettings.make(4), workers=1,
... )
>>> with run_batch(request) as batch:
...     for outcome in batch:
...         print(outcome.relative, outcome.result.status, outcome.result.out_size)
astronaut.png ok (128, 128)
camera.png ok (128, 128)
chelsea.png ok (112, 75)
coffee.png ok (150, 100)
>>> batch.tally.failed
0
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from ..errors import ParameterError
from ..images.reading.ahead import DecodeAhead
from ..pooling.threads import available_cores
from .choices import Executor, Existing
from .discovery import STDIN, is_zarr_name, read_list
from .jobs import Result, Work, preview_job
from .naming import DEFAULT_DIRECTORY, STDOUT, default_format
from .planning import Plan, check_writable, plan
from .report import FirstFailure, Tally, ordered
from .request import BatchRequest
from .sharding import select
from .writing import is_terminal

if TYPE_CHECKING:
    from distributed import Client


@dataclass(frozen=True)
class Outcome:
    """What became of one input: where it came from, where it went, and its result."""

    source: str
    #: The output's path (``-``: stdout), None when the input never got one.
    target: str | None
    result: Result
    #: The path its output mirrors under an output folder (its shard key).
    relative: str


def run_batch(
    request: BatchRequest,
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    ahead: DecodeAhead | None = None,
    arrived: Callable[[Result], None] | None = None,
) -> Batch:
    """Plan ``request`` and return the :class:`Batch` that runs it as it is iterated.

    ``stdin`` and ``stdout`` serve ``-`` as an input, a list or the output (binary
    streams; default: none). ``ahead`` may hold the one input already being decoded
    (the console script starts that before the rest loads). ``arrived`` is called
    with each result as it finishes, in any order (a progress bar).

    Raises :class:`~poolcli.errors.ParameterError` (bad usage: nothing was read or
    written) and, for a Dask cluster that cannot be reached,
    :class:`~poolcli.batch.cluster.ClusterError`.
    """
    return Batch(request, stdin=stdin, stdout=stdout, ahead=ahead, arrived=arrived)


class Batch:
    """A planned batch: iterate it for its outcomes; close it (or leave its ``with``
    block) to stop what still runs."""

    def __init__(
        self,
        request: BatchRequest,
        *,
        stdin: BinaryIO | None,
        stdout: BinaryIO | None,
        ahead: DecodeAhead | None,
        arrived: Callable[[Result], None] | None,
    ) -> None:
        self.request = request
        self.tally = Tally()
        #: True when a failure stopped the batch early (``fail_fast``).
        self.stopped_early = False
        self._stack = ExitStack()
        #: Called with each result as it finishes, in any order (a progress bar).
        self.arrived = arrived
        self._started: float | None = None
        ahead = self._decode_ahead(ahead)
        #: Worker processes here (None on a cluster).
        self.workers = None if request.on_cluster else (request.workers or available_cores())
        self.client: Client | None = None
        try:
            if request.on_cluster:
                self.client = self._connect()
            elif self._forks_workers():
                from .workers import warm_up

                warm_up()  # if workers need a fork server, it loads while this plans
            self.plan, self.whole = self._plan(stdin, stdout)
            self._results = self._start(stdin, stdout, ahead)
        except BaseException:
            self._stack.close()
            raise

    @property
    def total(self) -> int:
        """How many inputs this batch (this shard of it) has."""
        return self.plan.total

    @property
    def reads_arrays(self) -> bool:
        """Whether an input is an array (.npy, .npz, Zarr) by its name, or may be one
        (stdin): what array layouts are read in matters to this batch."""
        return any(
            job.source == STDIN or is_zarr_name(job.source) or _names_array(job.source)
            for job in self.plan.jobs
        )

    @property
    def writes_stdout(self) -> bool:
        return any(job.target == STDOUT for job in self.plan.jobs)

    @property
    def seconds(self) -> float:
        return 0.0 if self._started is None else time.perf_counter() - self._started

    def summary(self) -> str:
        """'12 ok, 1 skipped, 2 failed in 3.4 s' (planned, for a dry run)."""
        return self.tally.summary(self.total, self.seconds, dry_run=self.request.dry_run)

    def __iter__(self) -> Iterator[Outcome]:
        if self._started is not None:
            message = "a batch runs once: iterate it once (run_batch again for another run)"
            raise RuntimeError(message)
        self._started = time.perf_counter()
        # the problems found while planning first, then the results as they finish
        results: Iterable[Result] = itertools.chain(self.plan.problems, self._results)
        stop = FirstFailure()
        if self.request.fail_fast:
            results = stop.watch(results)  # stops taking results (and workers) at one
        for result in ordered(self._announced(results)):
            self.tally.add(result)
            index = result.index
            yield Outcome(
                self.plan.sources[index],
                self.plan.targets.get(index),
                result,
                self.plan.keys[index],
            )
        self.stopped_early = stop.seen

    def close(self) -> None:
        """Stop what still runs (workers, cluster tasks) and let go of the cluster."""
        try:
            close = getattr(self._results, "close", None)
            if close is not None:
                close()
        finally:
            self._stack.close()

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _announced(self, results: Iterable[Result]) -> Iterator[Result]:
        for result in results:
            if self.arrived is not None:
                self.arrived(result)
            yield result

    def _decode_ahead(self, ahead: DecodeAhead | None) -> DecodeAhead | None:
        """The decode of a lone input file, begun now if nobody began it yet."""
        request = self.request
        if (
            len(request.inputs) != 1
            or request.inputs[0] == STDIN
            or request.on_cluster
            or request.dry_run
            or request.files_from is not None
        ):
            return None
        path, limit = request.inputs[0], request.read.max_pixels
        if ahead is not None and ahead.matches(path, limit):
            return ahead
        return DecodeAhead.start(path, limit)

    def _forks_workers(self) -> bool:
        request = self.request
        return (
            self.workers is not None
            and self.workers > 1
            and not request.dry_run
            and (len(request.inputs) > 1 or request.recursive or request.files_from is not None)
        )

    def _connect(self) -> Client | None:
        from . import cluster

        cluster.require()
        if self.request.dry_run:
            return None  # a dry run never contacts the scheduler
        request = self.request
        assert request.scheduler is not None
        client = cluster.connect(request.scheduler, timeout=request.scheduler_timeout)
        self._stack.callback(client.close)
        return client

    def _plan(self, stdin: BinaryIO | None, stdout: BinaryIO | None) -> tuple[Plan, int]:
        request = self.request
        listed: list[str] = []
        if request.files_from is not None:
            listed = read_list(_read_list_file(request.files_from, stdin), null=request.null)
        planned = plan(
            request.inputs,
            request.rules,
            listed=listed,
            output=request.output,
            requested_format=request.format,
            skip_existing=request.existing is Existing.SKIP,
        )
        if any(job.target == STDOUT for job in planned.jobs):
            if not request.dry_run and stdout is not None and is_terminal(stdout):
                message = (
                    "refusing to write image bytes to a terminal; "
                    "redirect stdout or use `output=FILE`"
                )
                raise ParameterError(message, parameter="output", value=STDOUT)
        whole = planned.total
        if request.shard is not None:
            planned = select(planned, request.shard)
        if request.save_options:
            from ..images.writing.options import check_save_options

            sources = {default_format(job.source) for job in planned.jobs if job.source != STDIN}
            formats = {job.format for job in planned.jobs}
            mode = request.settings.mode
            check_save_options(request.save_options, formats, sources, pool_mode=str(mode),
                               bilevel=mode.selects)  # fmt: skip
        if not request.dry_run and len(planned.jobs) > 1:  # outputs under one folder
            check_writable(request.output or DEFAULT_DIRECTORY)
        return planned, whole

    def _start(
        self, stdin: BinaryIO | None, stdout: BinaryIO | None, ahead: DecodeAhead | None
    ) -> Iterator[Result]:
        request = self.request
        work = Work(
            request.settings,
            request.read,
            dict(request.save_options),
            request.dtype,
            Existing(request.existing),
            f"{os.getpid()}-{os.urandom(4).hex()}",
        )
        jobs = self.plan.jobs
        if request.dry_run:
            return (preview_job(job, work, stdin=stdin) for job in jobs)
        if self.client is not None:
            from .cluster import run_on_cluster

            if len(jobs) == 1 and request.existing is not Existing.SKIP:
                from .cluster_bands import run_split

                split = run_split(jobs[0], work, self.client)
                if split is not None:
                    return iter([split])
            return run_on_cluster(jobs, work, client=self.client)
        from .workers import run_jobs

        assert self.workers is not None
        assert request.executor is Executor.LOCAL
        return run_jobs(jobs, work, workers=self.workers, stdin=stdin, stdout=stdout, ahead=ahead)


def _names_array(path: str) -> bool:
    from ..images.formats import format_named

    suffix = os.path.splitext(path)[1]
    record = format_named(suffix) if suffix else None
    return record is not None and record.array


def _read_list_file(name: str, stdin: BinaryIO | None) -> bytes:
    if name == STDIN:
        if stdin is None:
            message = "`files_from=-` reads stdin, and this batch was given none"
            raise ParameterError(message, parameter="files_from", value=name)
        return stdin.read()
    try:
        with open(name, "rb") as stream:
            return stream.read()
    except OSError as error:
        message = f"`files_from` {name}: cannot read it: {(error.strerror or str(error)).lower()}"
        raise ParameterError(message, parameter="files_from", value=name) from None
