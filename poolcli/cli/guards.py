"""What every command runs inside: library errors as one line and their exit status,
internal errors as one line asking for a report, SIGTERM as Ctrl-C."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..errors import ExitStatus, PoolcliError
from .console import Console, said


@contextmanager
def clean_errors(show_traceback: bool) -> Iterator[None]:
    """A PoolcliError becomes one line and its exit status; a bug, one line asking
    for a report (the traceback with --traceback)."""
    try:
        yield
    except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
        raise
    except PoolcliError as error:
        if error.exit_code == ExitStatus.USAGE:
            raise click.UsageError(said(error.message)) from None
        Console().error(f"error: {said(error.message)}")
        raise click.exceptions.Exit(error.exit_code) from None
    except KeyboardInterrupt as interrupt:
        Console().line("interrupted", always=True)
        raise click.exceptions.Exit(ExitStatus.of_interrupt(interrupt)) from None
    except BrokenPipeError:
        raise
    except Exception as error:
        if show_traceback:
            raise
        message = (
            f"internal error: {type(error).__name__}: {error} "
            "(a poolcli bug: please report it; --traceback shows where)"
        )
        Console().error(message)
        raise click.exceptions.Exit(ExitStatus.INPUT_FAILED) from None


@contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM interrupts like Ctrl-C while the block runs."""
    from ..batch.workers import sigterm_as_interrupt

    with sigterm_as_interrupt():
        yield
