"""Mutated corpus files through the image layer: each pools or fails in one line.

2,000+ seeded cases (bit flips, zeroed runs, truncations, splices between files,
absurd header sizes; see tests/fuzzing.py). A case must either produce output or
raise a PoolcliError with a one-line message: never another exception, never a
hang (a per-case alarm), never a Python warning or C-library chatter on stderr.
"""

from __future__ import annotations

import io
import signal

import pytest
from fuzzing import mutate

from poolcli.errors import PoolcliError
from poolcli.images import PoolSettings, ReadOptions, WriteOptions, convert

CASES = 2400
PER_BLOCK = 200
SECONDS_PER_CASE = 20
# a lower limit keeps absurd-but-allowed sizes fast; the default limit is tested
# against the real decompression bomb in test_images_corpus.py
READ = ReadOptions(max_pixels=1 << 22)
SETTINGS = PoolSettings.make(2, mode="avg", ceil_mode=True)


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang


@pytest.mark.parametrize("block", range(CASES // PER_BLOCK))
@pytest.mark.parametrize("fmt", ["PNG", "TIFF"])
def test_mutated_files_pool_or_fail_in_one_line(block, fmt, capfd):
    previous = signal.signal(signal.SIGALRM, _alarm)
    failures = []
    try:
        for case in range(block * PER_BLOCK, (block + 1) * PER_BLOCK):
            if fmt == "TIFF" and case % 4:
                continue  # a quarter of the cases again, into a second writer
            name, data = mutate(case)
            signal.alarm(SECONDS_PER_CASE)
            try:
                convert(data, io.BytesIO(), SETTINGS, WriteOptions(fmt), READ)
            except PoolcliError as error:
                message = str(error)
                if not message or "\n" in message:
                    failures.append(f"{name}: message {message!r}")
            except _Hang:
                failures.append(f"{name}: still running after {SECONDS_PER_CASE} s")
            except Exception as error:  # noqa: BLE001 - exactly what this test hunts
                failures.append(f"{name}: {type(error).__name__}: {error}")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    captured = capfd.readouterr()
    assert not failures, failures
    assert captured.err == "", captured.err[:500]
