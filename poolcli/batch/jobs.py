"""One input to one output: the unit of work, run in the main process or a worker.

A :class:`Job` is small (two paths and a format) so workers receive descriptions,
never pixels; what every job shares (:class:`Work`) is sent to each worker once.
:func:`run_job` never raises for a bad input or output: it returns a
:class:`Result` saying what happened, a failure with its kind
(:class:`~poolcli.errors.FailureKind`). Only interruptions propagate.
"""

from __future__ import annotations

import errno
import io
import os
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from ..enums import StrEnum
from ..errors import Failure, FailureKind, OutputError, OutputExists, PoolcliError
from ..images.conversion import convert, describe
from ..images.formats import record_of
from ..images.reading.ahead import DecodeAhead
from ..images.reading.frames import frame_index
from ..images.requests import ReadOptions, WriteOptions, check_declared_nodata
from ..images.writing.options import options_for
from ..spec.settings import PoolSettings
from .choices import Existing, refused
from .discovery import STDIN
from .naming import STDOUT
from .writing import reason, write_atomically, write_directory_atomically


class Status(StrEnum):
    """How a job ended (the ``status`` of a ``--json`` line)."""

    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"
    #: ``dry_run``: it would be written.
    PLANNED = "planned"


@dataclass(frozen=True)
class Job:
    """Pool ``source`` (a path or ``-``) into ``target`` (a path or ``-``) as ``format``."""

    index: int
    source: str
    target: str
    format: str


@dataclass(frozen=True)
class Work:
    """What every job of a batch shares: settings, read/write options, overwrite policy."""

    settings: PoolSettings
    read: ReadOptions = ReadOptions()
    save_options: Mapping[str, object] = field(default_factory=dict)
    dtype: str | None = None
    existing: Existing = Existing.REFUSE
    run_id: str = "0"


@dataclass(frozen=True)
class Result:
    """What one job did: status, why it failed, sizes (width, height), notes."""

    index: int
    status: Status
    failure: Failure | None = None
    #: (width, height); (width, height, depth) for a volume
    in_size: tuple[int, ...] | None = None
    out_size: tuple[int, ...] | None = None
    frames: int | None = None
    seconds: float = 0.0
    #: Notes on what was done (a conversion that lost something), parameter names
    #: in backticks as in failure messages.
    notes: tuple[str, ...] = ()
    #: Set for a poolcli bug (not a bad file): the traceback, shown with --traceback.
    traceback: str | None = None
    #: How a streamed input was pooled ("in bands of 512 rows"); None: whole.
    streamed: str | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.ERROR

    @property
    def error(self) -> str | None:
        """The failure's message in the library's words (None when it did not fail)."""
        return None if self.failure is None else str(self.failure)

    @classmethod
    def failing(cls, index: int, kind: FailureKind, message: str, **facts: object) -> Result:
        return cls(index, Status.ERROR, Failure(kind, message), **facts)  # type: ignore[arg-type]


def run_job(
    job: Job,
    work: Work,
    *,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    ahead: DecodeAhead | None = None,
) -> Result:
    """Pool one input and write its output; the outcome as a :class:`Result`.

    ``stdin`` and ``stdout`` serve a ``-`` source or target (main process only);
    ``ahead`` may hold the input already being decoded.
    """
    started = time.perf_counter()
    source: str | bytes = job.source
    try:
        if _kept(job, work):  # checked first so that no work is wasted; link() has the last word
            message = f"{job.target} exists"
            raise OutputExists(message)
        source = _source(job, stdin)
        ome_name = job.target.lower().endswith((".ome.tif", ".ome.tiff"))
        write = WriteOptions(
            job.format, options_for(work.save_options, job.format), work.dtype, ome_name
        )

        def pool_into(stream: BinaryIO | str):
            return convert(source, stream, work.settings, write, work.read, ahead=ahead)

        replace = work.existing is Existing.OVERWRITE
        if record_of(job.format).directory:  # a Zarr store
            report = write_directory_atomically(
                job.target, pool_into, replace=replace, run_id=work.run_id
            )
        elif job.target == STDOUT:
            assert stdout is not None, "a job writing to stdout runs in the main process"
            buffer = io.BytesIO()  # nothing reaches stdout unless the whole image worked
            report = pool_into(buffer)
            write_all(stdout, buffer.getbuffer())
        else:
            report = write_atomically(job.target, pool_into, replace=replace, run_id=work.run_id)
    except OutputExists as exists:
        if work.existing is Existing.SKIP:
            return Result(job.index, Status.SKIPPED, seconds=time.perf_counter() - started)
        return _failure(job, _exists(exists.message), started)
    except PoolcliError as error:
        return _failure(job, Failure.of(error), started)
    except OSError as error:  # not wrapped by a lower layer (stdout closed, ...)
        return _failure(job, Failure(FailureKind.OUTPUT, reason(error)), started)
    except MemoryError:  # a file too big for this machine, not a bug
        message = "ran out of memory on this file; lower `workers` or `max_pixels`"
        return _failure(job, Failure(FailureKind.MEMORY, message), started)
    except Exception as error:  # noqa: BLE001 - a bug must not stop the batch
        message = (
            f"internal error ({type(error).__name__}: {error}); "
            "this is a poolcli bug, please report it"
        )
        return _failure(job, Failure(FailureKind.BUG, message), started, traceback.format_exc())
    return Result(
        job.index,
        Status.OK,
        in_size=report.in_size,
        out_size=report.out_size,
        frames=report.frames,
        seconds=time.perf_counter() - started,
        notes=report.notes,
        streamed=report.streamed,
    )


def write_all(stream: BinaryIO, data: memoryview) -> None:
    """Write every byte of ``data`` to ``stream`` and flush it, or raise OutputError.

    An unbuffered stdout (``PYTHONUNBUFFERED``, ``python -u``) is a raw file whose
    ``write`` may take only part of the bytes: a pipe whose reader leaves mid-write
    (``| head -c 10``) takes what fit, and only the next write fails. So the rest is
    written until done or refused, and a refused write is never taken for success.
    """
    try:
        while data:
            written = stream.write(data)
            if written is None:  # a non-blocking stdout that is full
                raise BlockingIOError(errno.EAGAIN, "it is non-blocking and full")
            data = data[written:]
        stream.flush()
    except OSError as error:
        message = f"cannot write to stdout: {reason(error)}; the output is incomplete"
        raise OutputError(message) from None


def preview_job(job: Job, work: Work, *, stdin: BinaryIO | None = None) -> Result:
    """What :func:`run_job` would do, from headers only: a dry run."""
    started = time.perf_counter()
    try:
        if _kept(job, work):
            if work.existing is Existing.SKIP:
                return Result(job.index, Status.SKIPPED)
            return _failure(job, _exists(f"{job.target} exists"), started)
        source = _source(job, stdin)
        description = describe(source, work.read)
        if work.settings.depth is not None:  # a volume: one frame of (w, h, d)
            from ..images.volumes import volume_extent

            extent = volume_extent(source, description, work.read.layout)
            return Result(job.index, Status.PLANNED, in_size=extent,
                          out_size=work.settings.planned_volume(*extent), frames=1,
                          seconds=time.perf_counter() - started)  # fmt: skip
        planes = description.planes
        check_declared_nodata(work.settings, description.raster.get("nodata"), description.dtype)
        if work.read.frame is not None and not description.is_array:
            planes = [planes[frame_index(work.read.frame, len(planes))]]
        sizes = [
            (plane.size, work.settings.planned_size(*plane.size, plane.layout)) for plane in planes
        ]
        in_size, out_size = sizes[0]
    except PoolcliError as error:
        return _failure(job, Failure.of(error), started)
    except OSError as error:
        return _failure(job, Failure(FailureKind.INPUT, reason(error)), started)
    return Result(job.index, Status.PLANNED, in_size=in_size, out_size=out_size,
                  frames=len(sizes), seconds=time.perf_counter() - started)  # fmt: skip


def _exists(what: str) -> Failure:
    return Failure(FailureKind.EXISTS, refused(what))


def _kept(job: Job, work: Work) -> bool:
    """True when the target exists and the policy keeps it (refuse or skip)."""
    return (
        job.target != STDOUT
        and work.existing is not Existing.OVERWRITE
        and os.path.lexists(job.target)
    )


def _source(job: Job, stdin: BinaryIO | None) -> str | bytes:
    if job.source == STDIN:
        assert stdin is not None, "a job reading stdin runs in the main process"
        return stdin.read()
    return job.source


def _failure(job: Job, failure: Failure, started: float, trace: str | None = None) -> Result:
    return Result(
        job.index, Status.ERROR, failure, seconds=time.perf_counter() - started, traceback=trace
    )
