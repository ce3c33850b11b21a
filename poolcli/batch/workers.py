"""Running jobs: in this process, or on a pool of worker processes.

Start method, chosen per pool:

- **fork** on Linux when this process runs a single thread. Workers then start in
  a millisecond with Pillow and the image layer already loaded (and NumPy with the
  engine, when the jobs will need them: see ``load_ahead``), and
  inherit no thread pool: there is none (the engine's is made only when the
  engine runs here; the CLI caps OpenBLAS at one thread before NumPy loads).
- **forkserver** otherwise (a process with threads, such as one that already ran
  the engine threaded): forking a multi-threaded process can deadlock a child on a
  lock another thread held. The fork server is a fresh, single-threaded process
  that imports :mod:`poolcli.batch.preload` (NumPy, Pillow, every plugin) once,
  then forks warm workers. **spawn** where neither exists.

Each worker has its own pipe and at most :data:`QUEUED` jobs, run in the order
sent, so the main process always knows which job a worker is on: a worker that
dies (a decoder crash, the OOM killer) fails only that job, and is replaced; the
jobs queued behind it go back in line. Results are yielded as they finish.

Interruption (Ctrl-C, SIGTERM, a ``--fail-fast`` stop, or a consumer that stops
iterating): workers get SIGTERM, which unwinds them through the atomic writer's
cleanup; those still busy after a grace period are killed, then the temporary
files of the jobs in flight are swept. Workers ignore SIGINT so that a Ctrl-C in a
terminal, sent to the whole process group, is handled once, here.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, BinaryIO

from ..errors import FailureKind, Terminated
from .writing import sweep

if TYPE_CHECKING:  # jobs imports Pillow: loaded when jobs run, not to start workers
    from ..images.reading.ahead import DecodeAhead
    from .jobs import Job, Result, Work

#: How long workers get to clean up after SIGTERM before they are killed.
GRACE_SECONDS = 1.0
#: Jobs sent ahead to each worker, so it starts the next one without waiting for
#: this process to read a result and answer (a round trip per file otherwise).
QUEUED = 2
#: A worker's first message: it started (so a later death is its job's doing).
_READY = "ready"
_PRELOAD = "poolcli.batch.preload"


def run_jobs(
    jobs: Sequence[Job],
    work: Work,
    *,
    workers: int,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    ahead: DecodeAhead | None = None,
) -> Iterator[Result]:
    """Run ``jobs``, yielding each :class:`Result` as it finishes.

    With one worker, or one job, the jobs run here and the engine may use every
    core; with more, each worker's engine runs one thread (the processes already
    fill the cores). Outputs are the same either way. ``ahead`` (an input being
    decoded already) serves a job run here.
    """
    from ..images.conversion import load_ahead
    from .jobs import run_job

    workers = min(workers, len(jobs))
    if workers <= 1:
        for job in jobs:
            try:
                result = run_job(job, work, stdin=stdin, stdout=stdout, ahead=ahead)
            except BaseException:
                sweep([job.target], work.run_id)  # belt and braces: the writer cleans up too
                raise
            yield result
        return
    load_ahead(work.settings, {job.format for job in jobs})  # then forked workers share it
    single_threaded = replace(work, settings=replace(work.settings, threads=1))
    yield from _Pool(workers, single_threaded).run(jobs)


def warm_up() -> None:
    """Start the fork server now, if workers will need one, so that it loads while
    the main process plans."""
    context = _context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`~poolcli.errors.Terminated`, a
    KeyboardInterrupt (so it cleans up like Ctrl-C, then exits 143)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _context():
    """The multiprocessing context for new workers (see the module docstring)."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and _threads() == 1:
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(_preload())
    return context


def _threads() -> int:
    """Threads this process runs, as the kernel counts them (native ones too)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 2  # unknown: assume threads


def _preload() -> list[str]:
    """Modules the fork server imports once, for every worker.

    Workers import the main script, as spawned children do, unless it ran with
    ``-m``. When that script is poolcli's console script, the fork server imports
    it once instead (click and the CLI); any other script is left to the usual
    rules (guarded by ``if __name__ == "__main__"``), and a worker that cannot
    start is replaced by running its jobs in this process.
    """
    main = sys.modules.get("__main__")
    cli = sys.modules.get("poolcli.cli")
    if cli is not None and getattr(main, "main", None) is getattr(cli, "main", False):
        return ["__main__", _PRELOAD]
    return [_PRELOAD]


class _Worker:
    """A worker process, its pipe, and the jobs it holds (in the order it runs them)."""

    def __init__(self, context, work: Work) -> None:
        # a forked child would write out whatever sits in these buffers a second time
        sys.stdout.flush()
        sys.stderr.flush()
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, work), daemon=True, name="poolcli-worker"
        )
        self.process.start()
        child.close()
        self.jobs: deque[Job] = deque()
        #: It said it started; a worker that dies before this could not start at all.
        self.ready = False

    def give(self, job: Job) -> None:
        self.jobs.append(job)
        try:
            self.connection.send(job)
        except OSError:
            pass  # it died: its sentinel says so next, and its jobs go back in line


class _Pool:
    def __init__(self, size: int, work: Work) -> None:
        self.size = size
        self.work = work
        self.context = _context()
        self.workers: list[_Worker] = []

    def run(self, jobs: Sequence[Job]) -> Iterator[Result]:
        waiting = deque(jobs)
        finished = False
        try:
            self.workers = [_Worker(self.context, self.work) for _ in range(self.size)]
            self._feed(waiting)
            while any(w.jobs for w in self.workers):
                busy = [w for w in self.workers if w.jobs]
                events = [w.connection for w in busy] + [w.process.sentinel for w in busy]
                ready = set(multiprocessing.connection.wait(events))
                for worker in busy:
                    result = self._collect(worker, ready, waiting)
                    if result is not None:
                        yield result
                self._feed(waiting)
            finished = True
        finally:
            self._close(finished)
        # Left when no worker could start (say, a __main__ script the fork server
        # cannot import): run the rest here rather than fail them.
        from .jobs import run_job

        for job in waiting:
            yield run_job(job, self.work)

    def _feed(self, waiting: deque) -> None:
        """Top every worker up to :data:`QUEUED` jobs, one worker at a time (fair)."""
        for _ in range(QUEUED):
            for worker in self.workers:
                if len(worker.jobs) < QUEUED and waiting:
                    worker.give(waiting.popleft())

    def _collect(self, worker: _Worker, ready: set, waiting: deque) -> Result | None:
        """The worker's next result, if it sent one; if it died, a failure for the job
        it was on (and a replacement), its other jobs back in line."""
        if worker.connection in ready:
            try:
                message = worker.connection.recv()
            except (EOFError, OSError):
                pass  # it died: below
            else:
                if message == _READY:
                    worker.ready = True
                    return None
                worker.jobs.popleft()
                return message
        elif worker.process.sentinel not in ready:
            return None
        worker.process.join(GRACE_SECONDS)
        code = worker.process.exitcode
        worker.connection.close()
        sweep([job.target for job in worker.jobs], self.work.run_id)
        self.workers.remove(worker)
        culprit = worker.jobs.popleft()
        waiting.extendleft(reversed(worker.jobs))  # queued behind it: never started
        if not worker.ready:
            waiting.appendleft(culprit)  # it never started: not the file's fault
            return None  # and no replacement, which would fail the same way
        self.workers.append(_Worker(self.context, self.work))
        from .jobs import Result

        cause = (
            f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        )
        message = (
            f"the worker process died ({cause}) on this file; "
            "if memory ran out, lower `workers` or `max_pixels`"
        )
        return Result.failing(culprit.index, FailureKind.WORKER_DIED, message)

    def _close(self, finished: bool) -> None:
        in_flight = [job.target for worker in self.workers for job in worker.jobs]
        if finished:
            for worker in self.workers:
                try:
                    worker.connection.send(None)
                except OSError:
                    pass
        else:
            for worker in self.workers:
                if worker.process.is_alive():
                    worker.process.terminate()
        for worker in self.workers:
            worker.process.join(GRACE_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            worker.connection.close()
        sweep(in_flight, self.work.run_id)


def _serve(connection, work: Work) -> None:
    """A worker's loop: receive a job, run it, send the result; None or EOF ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    from .jobs import run_job

    connection.send(_READY)
    # A worker holds copies of pipe ends it inherited (its own pipe's other end
    # among them), so it never reads EOF when the main process is killed outright
    # (SIGKILL, the OOM killer): it would wait for a job forever. It watches the
    # main process instead, and leaves between jobs once that is gone.
    parent = multiprocessing.parent_process()
    watched = [connection] if parent is None else [connection, parent.sentinel]
    while True:
        if connection not in multiprocessing.connection.wait(watched):
            return
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        result = run_job(job, work)
        try:
            connection.send(result)
        except OSError:
            return


def _exit_on_sigterm(signum, frame):
    # SystemExit unwinds through the atomic writer's cleanup (its temporary file is
    # removed) and ends the process quietly.
    raise SystemExit(128 + signum)
