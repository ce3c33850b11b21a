"""Messages on stderr and data on stdout, as the command line prints them.

stderr gets one line per message, each starting with ``poolcli:``, in colour unless
``NO_COLOR`` (click drops colour where stderr is not a terminal), and the progress
bar. stdout gets data only (image bytes, ``--json`` lines, ``info`` and
``--dry-run`` output). Parameter names in library messages are said as flags
(:mod:`.spelling`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..errors import OutputError, spell
from .spelling import flag


def said(message: str) -> str:
    """A library message with its parameters said as the command line's flags."""
    return spell(message, flag)


class Console:
    """Messages on stderr: 'poolcli: ...' lines, colour unless NO_COLOR, the progress bar."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self.stream = sys.stderr
        # click strips colour when stderr is not a terminal; NO_COLOR turns it off everywhere
        self.color: bool | None = False if os.environ.get("NO_COLOR") else None
        self._bar_active = False

    def line(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        self._clear_bar()
        click.echo(f"poolcli: {text}", file=self.stream, color=self.color)

    def error(self, text: str) -> None:
        self._clear_bar()
        click.echo("poolcli: " + click.style(text, fg="red"), file=self.stream, color=self.color)

    def note(self, text: str) -> None:
        if not self.quiet:
            self._clear_bar()
            click.echo(
                "poolcli: " + click.style(text, fg="yellow"), file=self.stream, color=self.color
            )

    def raw(self, text: str) -> None:
        self._clear_bar()
        click.echo(text.rstrip("\n"), file=self.stream)

    def summary(self, text: str, failed: int) -> None:
        if not self.quiet:
            self._clear_bar()
            styled = click.style(text, fg="red" if failed else "green")
            click.echo(f"poolcli: {styled}", file=self.stream, color=self.color)

    @contextmanager
    def progress(self, total: int, *, enabled: bool) -> Iterator[Callable[[Any], None] | None]:
        """A function to call as each result arrives, advancing the bar (None: no bar).

        The bar shows only when stderr is a terminal, and not with -q or -v.
        """
        from ..batch.writing import is_terminal

        show = (
            enabled
            and not self.quiet
            and not self.verbose
            and total > 1
            and is_terminal(self.stream)
        )
        if not show:
            yield None
            return
        layout = bar_layout(_columns(self.stream), total)
        if layout is None:
            yield None
            return
        started = time.perf_counter()
        count = 0
        with click.progressbar(length=total, file=self.stream, show_pos=True, **layout) as bar:
            self._bar_active = True

            def advance(result: Any) -> None:
                nonlocal count
                count += 1
                rate = count / max(time.perf_counter() - started, 1e-9)
                bar.update(1, f"{rate:.1f} files/s")

            try:
                yield advance
            finally:
                self._bar_active = False

    def _clear_bar(self) -> None:
        if self._bar_active:
            self.stream.write("\r\033[K")


#: The bar's parts beside the bar: "  [", "]  ", the position, the ETA, the rate.
_RATE = len("  999.9 files/s")
_ETA = len("  00:00:00")


def bar_layout(columns: int, total: int) -> dict[str, Any] | None:
    """click progressbar options that fit one line of ``columns`` (a redraw that
    wraps fills the screen): the rate, then the ETA, dropped as the line narrows,
    and no bar at all below 20 columns."""
    fixed = len("  []  ") + 2 * len(str(total)) + 1 + 1  # the brackets, "n/total", a margin
    rate, eta = True, True
    if columns < fixed + 10 + _ETA + _RATE:
        rate = False
    if columns < fixed + 10 + _ETA:
        eta = False
    width = columns - fixed - (_ETA if eta else 0) - (_RATE if rate else 0)
    if columns < 20 or width < 5:
        return None
    options: dict[str, Any] = {"width": min(width, 36), "show_eta": eta}
    if rate:
        options["item_show_func"] = lambda text: text
    return options


def _columns(stream: Any) -> int:
    """The terminal's width; 80 where it does not say (0 columns: a pty never sized)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (OSError, ValueError, AttributeError):
        return 80


def data(text: str) -> None:
    """A line of data on stdout. When stdout cannot take it (a full disk), the run
    ends in one line; a closed pipe still ends it quietly (see :func:`.app.main`)."""
    try:
        click.echo(text)
    except BrokenPipeError:
        raise
    except OSError as error:
        from ..batch.writing import reason

        discard_stdout()  # what is left in its buffer cannot be written either
        message = f"cannot write to stdout: {reason(error)}"
        raise OutputError(message) from None


def discard_stdout() -> None:
    """Point stdout at /dev/null: what its buffer holds can never be written."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test runner's stream): nothing flushes it at exit


def binary(name: str):
    """The binary stream under sys.stdin or sys.stdout (CliRunner swaps those)."""
    return getattr(sys, name).buffer
