"""Test helpers for real processes."""

from __future__ import annotations

import os


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
