"""Test helpers for real processes."""

from __future__ import annotations

import os
import signal
import time


def session_processes(session: int) -> list[int]:
    """Processes still alive in ``session`` (a command started as a session leader):
    what a batch would leave behind as orphans."""
    alive = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            alive.append(int(entry))
    return alive


def orphans_after(session: int, seconds: float) -> list[int]:
    """Processes of ``session`` still alive after waiting up to ``seconds`` for them to
    leave; they are killed, so that a failing test leaves nothing behind either."""
    deadline = time.monotonic() + seconds
    while session_processes(session) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphans = session_processes(session)
    for pid in orphans:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return orphans
