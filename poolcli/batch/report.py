"""How a batch is told: JSON lines, human lines, the summary, results in order.

Plain strings only (no click, no colour): the caller decides where they go, and
says parameters its own way (a :data:`~poolcli.errors.Spelling`: the command line's
flags, or the library's names by default). Paths are shown as given; in human
lines control characters are escaped (``\\n``), so every message stays on one line
whatever a file is called.
"""

from __future__ import annotations

import base64
import json
import os
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..errors import Spelling, library_spelling, spell
from .jobs import Result, Status


def json_line(
    source: str, target: str | None, result: Result, spelling: Spelling = library_spelling
) -> str:
    """The ``--json`` object for one file (keys fixed, documented in ``--help``)."""
    record = {
        "input": source,
        "output": target,
        "status": str(result.status),
        "error": None if result.failure is None else result.failure.said(spelling),
        "in_size": list(result.in_size) if result.in_size else None,
        "out_size": list(result.out_size) if result.out_size else None,
        "frames": result.frames,
        "seconds": round(result.seconds, 6),
        "streamed": result.streamed is not None,
    }
    # a name that is not UTF-8 reaches Python with lone surrogates, which JSON readers
    # cannot turn back into the file's name: its bytes go along, base64-encoded
    for key, path in (("input", source), ("output", target)):
        raw = name_bytes(path)
        if raw is not None:
            record[f"{key}_bytes"] = base64.b64encode(raw).decode("ascii")
    # ASCII escapes keep any file name valid JSON on any terminal
    return json.dumps(record, ensure_ascii=True)


def name_bytes(path: str | None) -> bytes | None:
    """The bytes of a file name that is not valid UTF-8 (None for one that is)."""
    if path is None:
        return None
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path)
    return None


def file_line(
    source: str, target: str | None, result: Result, spelling: Spelling = library_spelling
) -> str:
    """One human line for a file: what was (or would be) done, or why it failed."""
    if result.failure is not None:
        return f"{shown(source)}: {result.failure.said(spelling)}"
    source, target = shown(source), shown(target or "?")
    if result.status is Status.SKIPPED:
        return f"{source} -> {target}: skipped, the output exists"
    sizes = f"{size_text(result.in_size)} -> {size_text(result.out_size)}"
    frames = f", {result.frames} frames" if result.frames and result.frames > 1 else ""
    timing = f", {result.seconds:.3f} s" if result.status is Status.OK else ""
    streamed = f", streamed {result.streamed}" if result.streamed else ""
    return f"{source} -> {target}: {sizes}{frames}{timing}{streamed}"


@dataclass
class Tally:
    """Counts of finished jobs, for the summary line and the exit status."""

    counts: Counter = field(default_factory=Counter)

    def add(self, result: Result) -> None:
        self.counts[result.status] += 1

    @property
    def failed(self) -> int:
        return self.counts[Status.ERROR]

    @property
    def done(self) -> int:
        return sum(self.counts.values())

    def summary(self, total: int, seconds: float, *, dry_run: bool = False) -> str:
        """'12 ok, 1 skipped, 2 failed in 3.4 s' (+ how many never ran, if any)."""
        first = (
            f"{self.counts[Status.PLANNED]} planned" if dry_run else f"{self.counts[Status.OK]} ok"
        )
        parts = [first, f"{self.counts[Status.SKIPPED]} skipped", f"{self.failed} failed"]
        if total > self.done:
            parts.append(f"{total - self.done} not done")
        return f"{', '.join(parts)} in {seconds:.1f} s"


def note_line(source: str, note: str, spelling: Spelling = library_spelling) -> str:
    """A note on one file: what a conversion did that the user should know."""
    return f"{shown(source)}: {spell(note, spelling)}"


class FirstFailure:
    """Fail fast: passes results on up to and including the first failure."""

    def __init__(self) -> None:
        self.seen = False

    def watch(self, results: Iterable[Result]) -> Iterator[Result]:
        for result in results:
            yield result
            if result.failed:
                self.seen = True
                return


def shown(path: str) -> str:
    """``path`` on one line: control characters and undecodable bytes escaped."""
    if path.isprintable():
        return path
    return "".join(_escape(char) for char in path)


def _escape(char: str) -> str:
    if char.isprintable() or char == " ":
        return char
    if char in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte the file system encoding could not decode
        return f"\\x{code - 0xDC00:02x}"
    if unicodedata.category(char) in ("Zs",):
        return char
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def size_text(size: tuple[int, ...] | list[int] | None) -> str:
    """``WxH``, or ``WxHxD`` for a volume."""
    return "?" if size is None else "x".join(map(str, size))


def ordered(results: Iterable[Result]) -> Iterable[Result]:
    """``results`` (any order, indices 0..n-1 with gaps allowed at the end) in index order.

    Lines come out in input order whatever the number of workers, as soon as every
    earlier one is known.
    """
    waiting: dict[int, Result] = {}
    expected = 0
    for result in results:
        waiting[result.index] = result
        while expected in waiting:
            yield waiting.pop(expected)
            expected += 1
    for index in sorted(waiting):
        yield waiting.pop(index)
