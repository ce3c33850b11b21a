"""Running jobs: in process and on workers, start methods, dying workers, vanishing files."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from poolcli import PoolSettings
from poolcli.batch import Rules, Status
from poolcli.batch.jobs import Work
from poolcli.batch.planning import plan as plan_batch
from poolcli.batch.workers import _context, run_jobs


def photos(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    for index in range(count):
        Image.fromarray(rng.integers(0, 256, (10, 14), dtype=np.uint8)).save(root / f"{index}.png")


def work() -> Work:
    return Work(PoolSettings.make(2), run_id="test")


def test_results_cover_every_job_once(tmp_path):
    photos(tmp_path / "in", 9)
    plan = plan_batch([str(tmp_path / "in")], Rules(recursive=True), output=str(tmp_path / "out"))
    results = list(run_jobs(plan.jobs, work(), workers=2))
    assert sorted(r.index for r in results) == list(range(9))
    assert {r.status for r in results} == {Status.OK}
    assert {(r.in_size, r.out_size, r.frames) for r in results} == {((14, 10), (7, 5), 1)}


def test_a_process_with_threads_does_not_fork():
    import threading

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert _context().get_start_method() in ("forkserver", "spawn")
    finally:
        stop.set()
        thread.join()


def script(body: str, cwd: Path, *, stdin_script: bool = False) -> subprocess.CompletedProcess:
    code = textwrap.dedent(body)
    if stdin_script:
        return subprocess.run(
            [sys.executable, "-"], input=code.encode(), cwd=cwd, capture_output=True, check=False
        )
    (cwd / "main.py").write_text(code)
    return subprocess.run([sys.executable, "main.py"], cwd=cwd, capture_output=True, check=False)


def test_single_threaded_cli_process_forks(tmp_path):
    done = script(
        """
        import os
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        from poolcli.batch.workers import _context
        print(_context().get_start_method())
        """,
        tmp_path,
    )
    assert done.stdout.decode().strip() == "fork", done.stderr


def test_a_worker_killed_on_a_file_fails_only_that_file(tmp_path):
    photos(tmp_path / "in", 6)
    done = script(
        """
        import os, signal
        # single-threaded, so workers fork and inherit the patch
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        import poolcli.batch.jobs as jobs
        from poolcli import PoolSettings
        from poolcli.batch import Rules
        from poolcli.batch.jobs import Work
        from poolcli.batch.planning import plan
        from poolcli.batch.workers import run_jobs

        real = jobs.convert
        def convert(source, *args, **kwargs):
            if str(source).endswith("3.png"):
                os.kill(os.getpid(), signal.SIGKILL)  # as the OOM killer would
            return real(source, *args, **kwargs)
        jobs.convert = convert

        if __name__ == "__main__":
            plan = plan(["in"], Rules(recursive=True), output="out")
            work = Work(PoolSettings.make(2), run_id="t")
            for result in sorted(run_jobs(plan.jobs, work, workers=2), key=lambda r: r.index):
                print(plan.sources[result.index], result.status, result.error)
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines == [
        "in/0.png ok None", "in/1.png ok None", "in/2.png ok None",
        "in/3.png error the worker process died (killed by signal 9) on this file; "
        "if memory ran out, lower workers or max_pixels",
        "in/4.png ok None", "in/5.png ok None",
    ]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "0.png",
        "1.png",
        "2.png",
        "4.png",
        "5.png",
    ]


def test_workers_that_cannot_start_hand_their_jobs_back(tmp_path):
    """A main script read from stdin cannot be imported by spawned or fork-server
    workers: they die at start-up, and the jobs run in the main process instead."""
    photos(tmp_path / "in", 5)
    done = script(
        """
        from poolcli import PoolSettings
        from poolcli.batch import Rules
        from poolcli.batch.jobs import Work
        from poolcli.batch.planning import plan
        from poolcli.batch.workers import run_jobs
        import threading
        threading.Thread(target=lambda: None).start()  # any thread at all

        plan = plan(["in"], Rules(recursive=True), output="out")
        work = Work(PoolSettings.make(2), run_id="t")
        import poolcli.batch.workers as workers
        workers._threads = lambda: 2  # as if threads were running: no fork
        results = list(run_jobs(plan.jobs, work, workers=2))
        print(sorted((r.index, str(r.status)) for r in results))
        """,
        tmp_path,
        stdin_script=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == str([(i, "ok") for i in range(5)])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"{i}.png" for i in range(5)]


def test_input_deleted_after_discovery(tmp_path):
    photos(tmp_path / "in", 3)
    plan = plan_batch([str(tmp_path / "in")], Rules(recursive=True), output=str(tmp_path / "out"))
    (tmp_path / "in" / "1.png").unlink()
    results = sorted(run_jobs(plan.jobs, work(), workers=2), key=lambda r: r.index)
    assert [r.status for r in results] == [Status.OK, Status.ERROR, Status.OK]
    assert results[1].error == "cannot open: no such file or directory"


def test_output_directory_deleted_mid_batch_is_made_again(tmp_path):
    photos(tmp_path / "in", 4)
    plan = plan_batch([str(tmp_path / "in")], Rules(recursive=True), output=str(tmp_path / "out"))
    done = []
    for result in run_jobs(plan.jobs, work(), workers=1):
        done.append(result.status)
        if len(done) == 2:
            for path in (tmp_path / "out").iterdir():
                path.unlink()
            (tmp_path / "out").rmdir()
    assert done == [Status.OK] * 4
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["2.png", "3.png"]


def test_unreadable_input(tmp_path):
    import os

    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    photos(tmp_path / "in", 1)
    (tmp_path / "in" / "0.png").chmod(0)
    plan = plan_batch([str(tmp_path / "in")], Rules(recursive=True), output=str(tmp_path / "out"))
    (result,) = run_jobs(plan.jobs, work(), workers=1)
    assert result.error == "cannot open: permission denied"
