"""The exceptions poolcli raises on purpose, and how a failure is described.

Every message is one line that says what was wrong, the value seen, and what would
work. A message names the parameters it speaks of in backticks, ``\\`divisor\\``` or
``\\`max_pixels=none\\```, so that each front end says them its own way:
:func:`spell` renders them for the library (``divisor``, ``max_pixels=None``) and
the command line passes its own :data:`Spelling` (``--divisor``, ``--max-pixels
none``). ``str(error)`` is the library's wording.

A :class:`Failure` is what a batch reports for a file: a :class:`FailureKind` and the
message, plain data that crosses process boundaries, so that callers compare kinds
instead of parsing text. The command line prints ``str(error)`` in its spelling and
exits with ``error.exit_code``; anything that is not a :class:`PoolcliError` is a
bug and is reported as one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from .enums import StrEnum


class ExitStatus(IntEnum):
    """How the ``poolcli`` command exits."""

    OK = 0
    #: One or more inputs failed (the others were done); also an internal error.
    INPUT_FAILED = 1
    #: Bad usage: options, or a plan that cannot work. Nothing was read or written.
    USAGE = 2
    #: Ctrl-C (128 + SIGINT); no partial output was left.
    INTERRUPTED = 130
    #: SIGTERM (128 + 15), as shells and supervisors expect; no partial output was left.
    TERMINATED = 143

    @classmethod
    def of_interrupt(cls, interrupt: BaseException) -> ExitStatus:
        """130 for Ctrl-C, 143 for SIGTERM (:class:`Terminated`)."""
        return cls.TERMINATED if isinstance(interrupt, Terminated) else cls.INTERRUPTED


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C would be, so that it cleans up the same way."""


class FailureKind(StrEnum):
    """Why a file failed."""

    #: The input cannot be read or pooled as asked.
    INPUT = "input"
    #: The input is larger than the pixel limit.
    LIMIT = "limit"
    #: The output cannot be written (format, mode, permissions, disk).
    OUTPUT = "output"
    #: The output exists and the batch keeps existing outputs.
    EXISTS = "exists"
    #: Memory ran out on this file.
    MEMORY = "memory"
    #: The process running the file died (a decoder crash, the OOM killer).
    WORKER_DIED = "worker died"
    #: Parameters that cannot work (found before any file is read, as a rule).
    USAGE = "usage"
    #: A poolcli bug.
    BUG = "bug"


#: How a front end says a parameter: ``spelling(name, value)`` -> text, where
#: ``value`` is None for a bare name (``divisor``) and the value as a command line
#: would type it otherwise (``none`` in ``max_pixels=none``).
Spelling = Callable[[str, "str | None"], str]

#: The parameters messages may name: the library's keyword arguments and fields.
PARAMETERS = frozenset(
    {
        "kernel", "stride", "padding", "dilation", "mode", "ceil_mode", "count_include_pad",
        "divisor", "p", "size", "output_size", "repeat", "alpha", "linear", "axes",
        "channel_axis", "threads", "max_pixels", "frame", "layout", "format", "save_options",
        "dtype", "existing", "output", "workers", "recursive", "shard", "scheduler",
        "files_from", "null", "executor", "include", "exclude", "follow_symlinks", "dry_run",
        "fail_fast", "scheduler_timeout", "band", "memory", "nodata", "min_valid",
        "levels", "tile_size", "overlap", "container", "label", "image",
    }
)  # fmt: skip
#: A parameter named in a message, in backticks: divisor, or max_pixels=none.
_NAMED = r"`([a-z_]+)(?:=([^`\s]+))?`"


def library_spelling(name: str, value: str | None) -> str:
    """``divisor``; ``max_pixels=None``, ``frame=N``, ``existing='skip'``."""
    if value is None:
        return name
    python = {"none": "None", "true": "True", "false": "False"}.get(value)
    if python is None:
        bare = value.isupper() or value.lstrip("-").replace(".", "", 1).isdigit()
        python = value if bare else repr(value)
    return f"{name}={python}"


def spell(message: str, spelling: Spelling = library_spelling) -> str:
    """``message`` with its backticked parameter names said by ``spelling``."""

    def said(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2)
        if name not in PARAMETERS:
            return match.group(0)  # backticks in a file name, say: not a parameter
        return spelling(name, value)

    if "`" not in message:
        return message
    return re.sub(_NAMED, said, message)  # re caches the compiled pattern


class PoolcliError(Exception):
    """Base class: a problem poolcli detected and can explain in one line.

    ``message`` may name parameters in backticks (see the module docstring);
    ``str(error)`` says them as the library does, :meth:`said` as asked.
    """

    #: Process exit status the command line uses for this kind of error.
    exit_code = ExitStatus.INPUT_FAILED
    #: What a batch reports a file failing with this error as.
    kind = FailureKind.INPUT

    @property
    def message(self) -> str:
        """The message as raised, parameter names still in backticks."""
        return str(self.args[0]) if self.args else ""

    def said(self, spelling: Spelling = library_spelling) -> str:
        return spell(self.message, spelling)

    def __str__(self) -> str:
        return self.said()


class ParameterError(PoolcliError, ValueError):
    """Pooling parameters that no input could satisfy (kernel, stride, mode, ...).

    ``parameter`` names the offending parameter and ``value`` holds what it was
    given. On the command line this is bad usage: exit status 2, before any file is
    read.
    """

    exit_code = ExitStatus.USAGE
    kind = FailureKind.USAGE

    def __init__(self, message: str, *, parameter: str | None = None, value: object = None):
        super().__init__(message)
        self.parameter = parameter
        self.value = value

    def __reduce__(self):
        return _rebuild, (type(self), self.message, self.parameter, self.value)


def _rebuild(cls, message, parameter, value):
    return cls(message, parameter=parameter, value=value)


class InputError(PoolcliError, ValueError):
    """An input (array or file) that cannot be pooled as asked."""


class LimitError(InputError):
    """An input larger than the configured pixel limit (``max_pixels``)."""

    kind = FailureKind.LIMIT


class OutputError(PoolcliError, OSError):
    """An output that cannot be written (format, mode, permissions, disk)."""

    kind = FailureKind.OUTPUT


class OutputExists(OutputError):
    """The output exists, and what was asked keeps existing outputs."""

    kind = FailureKind.EXISTS


@dataclass(frozen=True)
class Failure:
    """Why one file failed: its kind and a one-line message (parameter names in
    backticks, see :func:`spell`). Plain data: it crosses process boundaries."""

    kind: FailureKind
    message: str

    @classmethod
    def of(cls, error: PoolcliError) -> Failure:
        return cls(error.kind, error.message)

    def said(self, spelling: Spelling = library_spelling) -> str:
        return spell(self.message, spelling)

    def __str__(self) -> str:
        return self.said()
