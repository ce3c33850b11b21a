"""A whole batch, asked for in one typed value: :class:`BatchRequest`.

The command line parses its options into one; a Python caller builds one directly
and hands it to :func:`poolcli.run_batch`. Importing this module loads neither
NumPy nor Pillow, so ``--help`` can list the choices it offers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from ..errors import ParameterError
from ..images.requests import ReadOptions
from ..spec.settings import PoolSettings
from .choices import CONNECT_SECONDS, Executor, Existing
from .discovery import STDIN, Rules
from .naming import STDOUT
from .sharding import Shard


@dataclass(frozen=True)
class BatchRequest:
    """Everything a batch is asked to do; checked when made.

    ``inputs`` are files, folders (walked with ``recursive``) or ``-`` for stdin;
    ``files_from`` names a file listing more (``-``: stdin), one a line or, with
    ``null``, NUL-separated. ``output`` is a file (one input), a folder that mirrors
    the inputs, ``-`` for stdout, or None for ``./pooled/``. Paths may be strings or
    ``pathlib.Path``s (kept as strings). ``format`` names the output format (else the
    output's or the input's extension says it).
    ``workers`` is the number of local worker processes (None: one per core).
    ``existing`` says what happens to outputs that exist. With ``dry_run`` only
    headers are read and nothing is written.

    >>> BatchRequest(["photos"], recursive=True, output="thumbs").existing
    <Existing.REFUSE: 'refuse'>
    """

    inputs: Sequence[str] = ()
    output: str | None = None
    settings: PoolSettings = field(default_factory=PoolSettings)
    read: ReadOptions = field(default_factory=ReadOptions)
    format: str | None = None
    save_options: Mapping[str, object] = field(default_factory=dict)
    dtype: str | None = None
    existing: Existing = Existing.REFUSE
    recursive: bool = False
    include: Sequence[str] = ()
    exclude: Sequence[str] = ()
    follow_symlinks: bool = False
    files_from: str | None = None
    null: bool = False
    workers: int | None = None
    executor: Executor = Executor.LOCAL
    scheduler: str | None = None
    scheduler_timeout: float = CONNECT_SECONDS
    shard: Shard | None = None
    dry_run: bool = False
    fail_fast: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "inputs", tuple(_path(item) for item in _sequence(self.inputs, "inputs")))
        for name in ("output", "files_from"):  # pathlib paths as the strings they name
            if isinstance(getattr(self, name), os.PathLike):
                set_(self, name, _path(getattr(self, name)))
        set_(self, "include", tuple(_sequence(self.include, "include")))
        set_(self, "exclude", tuple(_sequence(self.exclude, "exclude")))
        set_(self, "existing", _choice(Existing, self.existing, "existing"))
        set_(self, "executor", _choice(Executor, self.executor, "executor"))
        self._check()

    @property
    def rules(self) -> Rules:
        """How folders are searched."""
        return Rules(self.recursive, tuple(self.include), tuple(self.exclude), self.follow_symlinks)

    @property
    def on_cluster(self) -> bool:
        return self.executor is Executor.DASK

    def _check(self) -> None:
        """Combinations that cannot work: ParameterError, before anything is read."""
        if not self.inputs and self.files_from is None:
            _refuse(
                "inputs",
                "no inputs: name files, folders (with `recursive=true`), - for stdin, "
                "or `files_from=FILE`",
            )
        if self.null and self.files_from is None:
            _refuse("null", "`null=true` describes a `files_from` list; give `files_from=FILE` too")
        if self.files_from == STDIN and STDIN in self.inputs:
            _refuse("files_from", "stdin cannot be both an input (-) and the `files_from` list")
        if self.workers is not None and (isinstance(self.workers, bool) or self.workers < 1):
            _refuse("workers", f"`workers` must be at least 1, got {self.workers!r}")
        if self.on_cluster:
            self._check_cluster()
        elif self.scheduler is not None:
            _refuse(
                "scheduler",
                "`scheduler` is for `executor=dask`: add `executor=dask`, or drop `scheduler`",
            )
        self.settings.check(self.read.max_pixels)

    def _check_cluster(self) -> None:
        if not self.scheduler:
            _refuse(
                "scheduler",
                "`executor=dask` needs `scheduler=ADDRESS` (or DASK_SCHEDULER_ADDRESS), "
                "e.g. tcp://scheduler-host:8786",
            )
        if self.workers is not None:
            _refuse(
                "workers",
                "`workers` sets local worker processes; with `executor=dask` the cluster's "
                "workers run the jobs (size them with 'dask worker --nworkers N --nthreads 1')",
            )
        if STDIN in self.inputs or self.output == STDOUT:
            _refuse(
                "executor",
                "`executor=dask` runs the jobs on other machines, which cannot read this "
                "stdin or write this stdout: name files, or use `executor=local`",
            )


def _refuse(parameter: str, message: str) -> None:
    raise ParameterError(message, parameter=parameter)


def _sequence(value: object, name: str) -> Sequence[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        message = f"`{name}` must be a list of strings, got {value!r}"
        raise ParameterError(message, parameter=name, value=value)
    return value


def _choice(enum: type[Enum], value: object, name: str) -> Enum:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(repr(member.value) for member in enum)
        message = f"`{name}` must be one of {choices}, got {value!r}"
        raise ParameterError(message, parameter=name, value=value) from None


def _path(item: object) -> str:
    """A path given as a string or a path-like (``pathlib.Path``) as a string."""
    return os.fsdecode(item) if isinstance(item, (os.PathLike, bytes)) else str(item)
