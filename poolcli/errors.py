"""The exceptions poolcli raises on purpose.

Every message is one line that says what was wrong, the value seen, and what would
work. The command line prints ``str(error)`` and exits with ``error.exit_code``;
anything that is not a :class:`PoolcliError` is a bug and is reported as one.
"""

from __future__ import annotations


class PoolcliError(Exception):
    """Base class: a problem poolcli detected and can explain in one line."""

    #: Process exit status the command line uses for this kind of error.
    exit_code = 1


class ParameterError(PoolcliError, ValueError):
    """Pooling parameters that no input could satisfy (kernel, stride, mode, ...).

    On the command line this is bad usage: exit status 2, before any file is read.
    """

    exit_code = 2


class InputError(PoolcliError, ValueError):
    """An input (array or file) that cannot be pooled as asked."""


class LimitError(InputError):
    """An input larger than the configured pixel limit (``--max-pixels``)."""


class OutputError(PoolcliError, OSError):
    """An output that cannot be written (format, mode, permissions, disk)."""
