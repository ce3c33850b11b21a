"""The ``poolcli`` command's first milliseconds: guess the input, then load the rest.

Loading click, Pillow and the command line (and NumPy, when the engine runs) takes a
single-file run's first tens of milliseconds. When the arguments plainly name one
still JPEG or PNG to pool, its decode starts on a thread before anything else loads
(:mod:`poolcli.images.reading.ahead`, which needs Pillow only) and is handed to the
command line, which parses the arguments for real and passes it on to the batch,
which uses it only for the very file it names, with the same pixel limit. A wrong
guess costs the wasted decode and nothing else.

A local run ends without Python's teardown (freeing NumPy, Pillow and a few hundred
modules one object at a time: 30-50 ms measured, a tenth of a single-image run). By
then every output is closed and published and every worker process joined; stdout
and stderr are flushed here. Runs on a Dask cluster end normally, and so does any
run under a profiler, a debugger or coverage, which write their data at exit.
"""

from __future__ import annotations

import sys

#: Options of ``poolcli pool`` that take a value (the token after them is no input).
#: A test checks this list against the command's own options.
VALUE_OPTIONS = frozenset(
    {
        "-o", "--output", "-m", "--mode", "-k", "--kernel", "-s", "--stride",
        "-p", "--padding", "--dilation", "--divisor", "--p", "--size", "--repeat",
        "--alpha", "--frame", "--layout", "--max-pixels", "--memory", "--format", "-O",
        "--save-option", "--dtype", "--include", "--exclude", "--files-from", "-j",
        "--jobs", "--executor", "--scheduler", "--scheduler-timeout", "--shard", "--nodata",
        "--min-valid",
    }
)  # fmt: skip
_DEFAULT_LIMIT = 89_478_485  # poolcli.spec.limits.DEFAULT_MAX_PIXELS (a test checks)


def main() -> None:
    """The ``poolcli`` console script (and ``python -m poolcli``)."""
    guess = guess_input(sys.argv[1:])
    ahead = None
    if guess is not None:
        from .images.reading.ahead import DecodeAhead

        ahead = DecodeAhead.start(*guess)
    from .cli import app

    try:
        app.main(ahead)
    except SystemExit as done:
        if not app.quick_exit or _observed():
            raise
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        _quick_exit(code)


def _observed() -> bool:
    """True under a profiler, debugger or coverage, which write their data at exit."""
    return sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules


def _quick_exit(code: int) -> None:
    """Flush what the run wrote and end the process now."""
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or 1  # the reader went away: as the normal path reports it
    os._exit(code)


def guess_input(args: list[str]) -> tuple[str, int | None] | None:
    """(path, pixel limit) when ``args`` are ``pool`` with exactly one input, else None."""
    if not args or args[0] != "pool":
        return None
    inputs: list[str] = []
    limit: int | None = _DEFAULT_LIMIT
    expecting: str | None = None
    for token in args[1:]:
        if expecting is not None:
            if expecting == "--max-pixels":
                limit = _limit(token)
            expecting = None
        elif token == "--":
            return None  # everything after it is an input: rare enough to leave alone
        elif token.startswith("--max-pixels="):
            limit = _limit(token.partition("=")[2])
        elif token in VALUE_OPTIONS:
            expecting = token
        elif token.startswith("-") and token != "-":
            continue  # a flag, or an option with its value attached (-k2, --kernel=2)
        else:
            inputs.append(token)
    if len(inputs) != 1 or limit == -1:
        return None
    return inputs[0], limit


def _limit(value: str) -> int | None:
    if value.lower() == "none":
        return None
    try:
        return int(value)
    except ValueError:
        return -1  # the command line will refuse it; guess nothing
