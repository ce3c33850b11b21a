"""Test helpers for real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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


def poolcli_imports(*args: str, cwd: str | os.PathLike[str] | None = None):
    """Run ``python -X importtime -m poolcli ARGS`` (it must succeed): the finished
    process and the dotted name of every module it imported, in the main process or
    a worker."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "poolcli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
    return done, {line.split("|")[-1].strip() for line in lines}


_PEAK = (
    "import resource, subprocess, sys;"
    "subprocess.run([sys.executable, '-m', 'poolcli', 'pool', *sys.argv[1:]], check=True);"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss(*args: object) -> int:
    """Peak resident memory, in bytes, of ``poolcli pool ARGS`` run in a process of its own."""
    out = subprocess.run([sys.executable, "-c", _PEAK, *map(str, args)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(out.stdout.split()[-1]) * 1024


def poolcli(*args: object, cwd: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    """``python -m poolcli ARGS`` run in ``cwd``, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "poolcli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)  # fmt: skip
