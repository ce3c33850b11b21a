"""Running jobs on a Dask distributed cluster: ``poolcli pool --executor dask``.

The tasks are :func:`run_group` calls on a few :class:`~.jobs.Job` descriptions
(paths and a format, never pixels) and the shared :class:`~.jobs.Work`; each runs
:func:`~.jobs.run_job`, the code a local worker runs, so outputs are the same bytes.
Workers read the inputs and write the outputs at the paths this process planned,
made absolute here (a worker's current directory is not this one's): every
machine must see the input and output trees at the same paths (a shared
filesystem), and have poolcli installed.

- **Flow.** A few tasks per worker thread are submitted at a time and topped up as
  results arrive, so a batch of millions never floods the scheduler, and a stop
  (``--fail-fast``, Ctrl-C) has little to cancel. Results are yielded as they come.
- **Threads.** The engine runs one thread per task: the cluster's worker threads
  (or processes) already fill the cores, as ``-j N`` workers do locally.
- **Dying workers.** When a worker dies, the scheduler runs its tasks again
  elsewhere (up to its ``distributed.scheduler.allowed-failures``, 3 by default);
  a task that raises is retried :data:`RETRIES` times. Each job leaves a *claim*,
  a hidden file beside its output named by the run, until this process has its
  result. A task that finds its claim is a second attempt: it removes the
  temporary file the dead attempt may have left, and an output that attempt had
  already published counts as done, not as "exists". A job whose workers kept dying
  fails with a one-line error; when it shared a task with other jobs, they are
  run again one per task first, so only the culprit fails.
- **Stopping.** On Ctrl-C, ``--fail-fast`` or a consumer that stops iterating, the
  remaining tasks are cancelled. Dask cannot stop a running task: one already
  running finishes the file it is on (whole, through the atomic writer) and starts
  no other. After up to :data:`GRACE_SECONDS` for that, the claims and temporary
  files of the jobs with no result are swept (a task still running then loses its
  file, which is never published, and removes its own claim).
"""

from __future__ import annotations

import itertools
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import ExitStatus, FailureKind, PoolcliError
from .choices import CONNECT_SECONDS, Existing
from .writing import remove, temp_path

if TYPE_CHECKING:
    from distributed import Client, Future

    from .jobs import Job, Result, Work

#: Retries of a task that raised (run_job itself never raises for a bad file).
RETRIES = 2
#: Tasks kept submitted per worker thread of the cluster.
AHEAD = 2
#: Most jobs in one task: fewer tasks for the scheduler, less to redo after a death.
GROUP = 4
#: How long a stop waits for the tasks already running to end, before sweeping (seconds).
GRACE_SECONDS = 2.0
#: How often to ask the scheduler how many worker threads there are (seconds).
RECOUNT_SECONDS = 2.0
#: The command that installs what this module needs.
INSTALL = "pip install 'poolcli[dask]'"
_CLAIM = "claim"


class ClusterError(PoolcliError):
    """The cluster cannot be used: Dask missing, a bad address, no scheduler answering.

    Found before any file is read: exit status 2.
    """

    exit_code = ExitStatus.USAGE
    kind = FailureKind.USAGE


class SchedulerLost(PoolcliError):
    """The connection to the scheduler broke mid-batch (some results never came)."""


def require() -> None:
    """Raise :class:`ClusterError` (naming the install command) unless Dask's
    ``distributed`` can be imported."""
    try:
        import distributed  # noqa: F401 - the import is the check
    except ImportError:
        message = f"`executor=dask` needs Dask's distributed scheduler: {INSTALL}"
        raise ClusterError(message) from None


def connect(address: str, *, timeout: float = CONNECT_SECONDS) -> Client:
    """A client of the scheduler at ``address`` (``tcp://host:8786``, ``host:8786``, or
    a scheduler file written by ``dask scheduler --scheduler-file``).

    Raises :class:`ClusterError` when Dask's ``distributed`` is not installed, the
    address is malformed, or nothing answers within ``timeout`` seconds.
    """
    require()
    import distributed
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import get_backend

    scheduler_file = address.endswith(".json") or os.path.isfile(address)
    if not scheduler_file:
        try:
            scheme, location = parse_address(address if "://" in address else f"tcp://{address}")
            get_backend(scheme)
            if scheme in ("tcp", "tls"):
                parse_host_port(location)
        except ValueError as error:
            message = (
                f"`scheduler` {address!r} is not a Dask scheduler address ({error}); "
                "give tcp://HOST:PORT (8786 by default) or a scheduler file"
            )
            raise ClusterError(message) from None
    try:
        if scheduler_file:
            # Dask waits for a missing scheduler file for ever: wait here, within the timeout
            deadline = time.monotonic() + timeout
            while not os.path.exists(address):
                if time.monotonic() >= deadline:
                    message = (
                        f"no Dask scheduler file at {address} after {timeout:g} s; start one "
                        f"with 'dask scheduler --scheduler-file {address}' or check `scheduler`"
                    )
                    raise ClusterError(message)
                time.sleep(0.05)
            left = max(1.0, deadline - time.monotonic())
            return distributed.Client(scheduler_file=address, timeout=left, set_as_default=False)
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        cause = f"timed out after {timeout:g} s" if _timed_out(error) else str(error)
        start = f"dask scheduler --scheduler-file {address}" if scheduler_file else "dask scheduler"
        message = (
            f"cannot reach the Dask scheduler at {address} ({cause}); "
            f"start one with '{start}' or check `scheduler`"
        )
        raise ClusterError(message) from None


def run_on_cluster(
    jobs: Sequence[Job], work: Work, *, client: Client, group: int = GROUP
) -> Iterator[Result]:
    """Run ``jobs`` on ``client``'s cluster, yielding each :class:`Result` as it arrives.

    At most ``group`` jobs go in one task. Interrupting the iteration (or closing it)
    cancels what is left and sweeps its leftovers; the client stays open.
    """
    from distributed import as_completed

    work = replace(work, settings=replace(work.settings, threads=1))
    given = {job.index: job for job in jobs}  # messages name paths as the user did
    jobs = [
        replace(job, source=os.path.abspath(job.source), target=os.path.abspath(job.target))
        for job in jobs
    ]
    threads = _Threads(client)
    waiting: deque[tuple[Job, ...]] = deque(_groups(jobs, group, threads.count()))
    pending: dict[Future, tuple[Job, ...]] = {}
    arrived = as_completed(loop=client.loop, with_results=True, raise_errors=False)
    prefix = f"poolcli-{work.run_id}-"  # names this run's tasks, on every worker
    tasks = itertools.count()

    def submit(batch: tuple[Job, ...]) -> None:
        key = f"{prefix}{next(tasks)}"
        future = client.submit(run_group, batch, work, key=key, retries=RETRIES)
        pending[future] = batch
        arrived.add(future)

    def top_up() -> None:
        room = AHEAD * threads.count() - len(pending)
        while room > 0 and waiting:
            submit(waiting.popleft())
            room -= 1

    stop = _stop_event(work.run_id, client)
    try:
        top_up()
        for future, value in arrived:
            batch = pending.pop(future)
            if future.status == "finished":
                results: Iterable[Result] = value
            elif _killed(value) and len(batch) > 1:
                # one job per task, to find the culprit; the claims stay, so that outputs
                # the dead attempts published count as done
                waiting.extendleft((job,) for job in reversed(batch))
                continue
            elif future.status == "cancelled" or client.status != "running":
                lost = sum(len(b) for b in [*pending.values(), *waiting, batch])
                message = (
                    f"lost the Dask scheduler mid-batch; {lost} file(s) not done: "
                    "run again with `existing=skip` to finish"
                )
                pending[future] = batch  # swept below
                raise SchedulerLost(message)
            else:
                results = [_task_failure(job, value) for job in batch]
            if future.status != "finished":
                _sweep(batch, work.run_id)  # what the dead attempts left
            for job in batch:  # all before the first yield: the consumer may stop there
                remove(claim_path(job.target, work.run_id))
            sent = {job.index: job for job in batch}
            for result in results:
                yield _as_given(result, sent[result.index], given[result.index])
            top_up()
    finally:
        try:
            if pending:
                # first the event, which a task reads before each job: a task the
                # scheduler hands out after the cancel (it may be on its way) starts none
                stop.set()
                client.cancel(list(pending))
                # a task may start or finish after the cancel: let them settle, so
                # that the sweep comes last and nothing this run made is left over
                client.run(_settle, prefix, GRACE_SECONDS)
        except Exception:  # noqa: BLE001 - the scheduler may be gone; sweep anyway
            pass
        finally:
            _sweep([job for batch in [*pending.values(), *waiting] for job in batch], work.run_id)


def run_group(jobs: Sequence[Job], work: Work) -> list[Result]:
    """The task: run ``jobs`` one after the other on a worker (see the module docstring).

    A task cancelled while it runs (Ctrl-C, ``--fail-fast``) starts no further job,
    and removes the claim of the one it was on: nobody waits for its result now.
    """
    results = []
    for job in jobs:
        if _cancelled() or _stopped(work.run_id):
            break
        results.append(_attempt(job, work))
        if _cancelled():
            remove(claim_path(job.target, work.run_id))
            break
    return results


def claim_path(target: str, run_id: str) -> str:
    """The hidden file that marks ``target`` as started by run ``run_id``."""
    return temp_path(target, f"{run_id}-{_CLAIM}")


def _attempt(job: Job, work: Work) -> Result:
    from .jobs import Status, preview_job, run_job

    claim = claim_path(job.target, work.run_id)
    retried = os.path.lexists(claim)
    if retried:
        remove(temp_path(job.target, work.run_id))  # the dead attempt's, if it got that far
    elif work.existing is Existing.OVERWRITE or not os.path.lexists(job.target):
        _make_claim(claim)
    result = run_job(job, work)
    if not retried:
        return result
    published = result.status is Status.SKIPPED or (
        result.failure is not None and result.failure.kind is FailureKind.EXISTS
    )
    if published:
        # the dead attempt published it: done, as far as this run is concerned
        overwrite = replace(work, existing=Existing.OVERWRITE)
        planned = preview_job(job, overwrite)
        result = replace(planned, status=Status.OK if not planned.failed else planned.status)
    note = "its first Dask worker died; it ran again on another"
    return replace(result, notes=(*result.notes, note))


def _sweep(jobs: Iterable[Job], run_id: str) -> None:
    """Remove the claims and temporary files of ``jobs`` in run ``run_id``."""
    for job in jobs:
        remove(temp_path(job.target, run_id))
        remove(claim_path(job.target, run_id))


def _as_given(result: Result, sent: Job, job: Job) -> Result:
    """``result`` with the absolute paths sent to the worker named as in ``job``."""
    failure = result.failure
    if failure is None:
        return result
    message = failure.message.replace(sent.target, job.target).replace(sent.source, job.source)
    return replace(result, failure=replace(failure, message=message))


async def _settle(prefix: str, seconds: float, dask_worker: Any = None) -> int:
    """On a worker: wait up to ``seconds`` until no task named ``prefix...`` is queued
    or running there (cancelled ones are forgotten, running ones end); how many are
    still there."""
    import asyncio

    deadline = time.monotonic() + seconds
    while True:
        busy = [
            key
            for key, task in dask_worker.state.tasks.items()
            if str(key).startswith(prefix) and task.state not in ("memory", "error", "released")
        ]
        if not busy or time.monotonic() >= deadline:
            return len(busy)
        await asyncio.sleep(0.02)


def _stop_event(run_id: str, client: Any = None) -> Any:
    """The Dask event that tells this run's tasks to start no further job."""
    from distributed import Event

    return Event(f"poolcli-{run_id}-stop", client=client)


def _stopped(run_id: str) -> bool:
    """True when this run was stopped (outside a Dask worker, or unreachable: never)."""
    try:
        from distributed import get_worker

        get_worker()
        return bool(_stop_event(run_id).is_set())
    except Exception:  # noqa: BLE001 - no worker or no scheduler: nothing says stop
        return False


def _cancelled() -> bool:
    """True when the task running in this thread was cancelled (outside a Dask worker:
    never). Dask lets a cancelled task run to its end; this lets it end early."""
    try:
        from distributed import get_worker
        from distributed.worker import thread_state

        task = get_worker().state.tasks.get(thread_state.key)
    except (ImportError, ValueError, AttributeError):
        return False
    return task is None or task.state == "cancelled"


def _make_claim(claim: str) -> None:
    try:
        os.makedirs(os.path.dirname(claim) or ".", exist_ok=True)
        os.close(os.open(claim, os.O_WRONLY | os.O_CREAT, 0o666))
    except OSError:
        pass  # no claim: a retry then sees an earlier output as "exists"; run_job reports why


def _groups(jobs: Sequence[Job], most: int, threads: int) -> Iterator[tuple[Job, ...]]:
    """Jobs in tasks of up to ``most``, smaller when there are few jobs per thread
    (so that every thread gets some)."""
    size = max(1, min(most, len(jobs) // max(1, 4 * threads)))
    for start in range(0, len(jobs), size):
        yield tuple(jobs[start : start + size])


class _Threads:
    """Worker threads in the cluster (at least 1: workers may join later), asked of
    the scheduler at most every :data:`RECOUNT_SECONDS` (clusters grow and shrink)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.asked = float("-inf")
        self.known = 1

    def count(self) -> int:
        now = time.monotonic()
        if now - self.asked >= RECOUNT_SECONDS:
            self.asked = now
            self.known = max(1, sum(self.client.nthreads().values()))
        return self.known


def _killed(value: Any) -> bool:
    error = value[1] if isinstance(value, tuple) and len(value) == 3 else value
    return type(error).__name__ == "KilledWorker"


def _task_failure(job: Job, value: Any) -> Result:
    from .jobs import Result

    error = value[1] if isinstance(value, tuple) and len(value) == 3 else value
    if _killed(error):
        message = (
            "the Dask workers running this file kept dying (KilledWorker); "
            "if memory ran out, give the workers more or lower `max_pixels`"
        )
        return Result.failing(job.index, FailureKind.WORKER_DIED, message)
    message = f"the Dask task failed ({type(error).__name__}: {error})"
    return Result.failing(job.index, FailureKind.BUG, message)


def _timed_out(error: BaseException) -> bool:
    return isinstance(error, TimeoutError) or "timed out" in str(error).lower()
