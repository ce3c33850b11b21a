"""Atomic writes: an output appears whole or not at all, and an input is never touched.

Each output is written to a hidden temporary file beside its target, named from the
target and the run (so an interrupted run can sweep its own leftovers), then
published in one step:

- refuse or skip existing outputs: ``os.link(temp, target)``, which fails when the
  target exists, so two poolcli processes writing one directory cannot overwrite
  each other's files (no check-then-write race);
- ``--overwrite``: ``os.replace(temp, target)``.

A crash, a full disk or Ctrl-C leaves at worst the hidden temporary file, which the
writer (or the batch, when a worker is killed) removes; never a partial output.
Outputs are not fsync'ed: a power cut may lose recent outputs, not corrupt inputs.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TypeVar

from ..errors import OutputError, OutputExists, PoolcliError

#: Suffix of the temporary files; discovery skips them (they are hidden too).
TEMP_SUFFIX = ".poolcli-tmp"
#: Keep temporary names within the usual 255-byte limit on one name.
_NAME_BYTES = 160
# Filesystems without hard links (FAT, some network shares) answer link() with these.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}

T = TypeVar("T")


def temp_path(target: str, run_id: str) -> str:
    """The temporary file ``target`` is written to in run ``run_id``."""
    directory, name = os.path.split(target)
    short = os.fsencode(name)[:_NAME_BYTES].decode(errors="surrogateescape")
    # a cut through a multi-byte character leaves lone surrogates; fine for a name
    return os.path.join(directory, f".{short}.{run_id}{TEMP_SUFFIX}")


def write_atomically(
    target: str,
    write: Callable[[BinaryIO], T],
    *,
    replace: bool,
    run_id: str,
) -> T:
    """Call ``write`` with a stream, then publish what it wrote as ``target``.

    Raises :class:`OutputExists` when ``target`` exists and ``replace`` is false,
    :class:`OutputError` for any other failure to write (permissions, disk full, a
    missing directory that cannot be made). Whatever ``write`` raises propagates;
    in every case no temporary file is left and ``target`` is unchanged.
    """
    directory = os.path.dirname(target) or "."
    temp = temp_path(target, run_id)
    # One try for all of it: an interrupt between creating the file and a second
    # try block would leave the file behind.
    try:
        with _output_errors(target, directory):
            os.makedirs(directory, exist_ok=True)
            # O_EXCL: never write through a file (or symlink) someone else put there.
            # Read and write, as Pillow opens a file it saves to: its multi-page TIFF
            # writer reads back the pages it wrote.
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            with open(temp, "w+b", opener=lambda path, _: os.open(path, flags, 0o666)) as stream:
                result = write(WritesChecked(stream))  # type: ignore[arg-type]
                stream.flush()
            _publish(temp, target, replace)
            return result
    finally:
        remove(temp)


@contextmanager
def _output_errors(target: str, directory: str) -> Iterator[None]:
    """An OSError writing ``target`` as one :class:`OutputError` line."""
    try:
        yield
    except PoolcliError:
        raise
    except OSError as error:
        message = f"cannot write {target}: {_why(error, directory)}"
        raise OutputError(message) from None


def _why(error: OSError, directory: str) -> str:
    """:func:`reason`, except that a file where a folder of the path should be is named."""
    if isinstance(error, (FileExistsError, NotADirectoryError)):
        part = directory
        while part and not os.path.isdir(part):
            if os.path.lexists(part):
                return f"{part} is a file, not a folder"
            part = os.path.dirname(part)
    return reason(error)


class WritesChecked:
    """A file, minus its descriptor: every write goes through Python's checked writes.

    Given a file descriptor, Pillow's encoders (JPEG's among them) write to it
    themselves and ignore a short write, so a full disk left a truncated file that
    was reported as written. Without one they hand their bytes to ``write``, which
    raises on a full disk like any other error.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def fileno(self) -> int:
        message = "no file descriptor: writes go through write()"
        raise io.UnsupportedOperation(message)

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


def write_directory_atomically(
    target: str,
    write: Callable[[str], T],
    *,
    replace: bool,
    run_id: str,
) -> T:
    """:func:`write_atomically` for an output that is a folder (a Zarr store).

    ``write`` fills a hidden temporary folder beside ``target``, which is then
    renamed into place: ``os.rename`` of a folder onto a missing name, which fails
    when the name exists (unless ``replace``: the old store is renamed aside first
    and removed only once the new one is in place).
    """
    directory = os.path.dirname(target) or "."
    temp = temp_path(target, run_id)
    try:
        with _output_errors(target, directory):
            os.makedirs(directory, exist_ok=True)
            os.mkdir(temp)
            result = write(temp)
            if replace and os.path.lexists(target):
                old = temp_path(target, run_id + "-old")
                os.rename(target, old)
                os.rename(temp, target)
                remove_tree(old)
            else:
                _claim_directory(temp, target)
            return result
    finally:
        remove_tree(temp)


def _claim_directory(temp: str, target: str) -> None:
    if os.path.lexists(target):
        message = f"{target} exists"
        raise OutputExists(message)
    try:
        # a folder made there meanwhile: replaced if empty, refused (below) if not
        os.rename(temp, target)
    except OSError as error:
        if error.errno in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR):
            message = f"{target} exists"
            raise OutputExists(message) from None
        raise


def remove_tree(path: str) -> None:
    """Delete the folder ``path`` and all in it, if it is there.

    A writer's threads may still be finishing files in it (zarr writes chunks
    concurrently, and one failed write does not stop the others at once), so the
    removal is repeated until the folder has stayed gone for a moment.
    """
    for _ in range(100):
        if not os.path.lexists(path):
            return
        shutil.rmtree(path, ignore_errors=True)
        time.sleep(0.02)


def _publish(temp: str, target: str, replace: bool) -> None:
    if replace:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        message = f"{target} exists"
        raise OutputExists(message) from None
    except OSError as error:
        if error.errno not in _NO_LINKS:
            raise
        # No hard links here: claim the name exclusively, then move the data over it.
        # Still race-free between writers, but an empty file shows for a moment.
        try:
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            message = f"{target} exists"
            raise OutputExists(message) from None
        os.replace(temp, target)


def remove(path: str) -> None:
    """Delete ``path`` if it is there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError:
        pass  # a leftover hidden temporary file is not worth failing a batch for


def sweep(targets: Iterable[str], run_id: str) -> None:
    """Remove run ``run_id``'s temporary files for ``targets`` (after killed workers)."""
    for target in targets:
        temp = temp_path(target, run_id)
        if os.path.isdir(temp) and not os.path.islink(temp):
            remove_tree(temp)
        else:
            remove(temp)


def is_terminal(stream: object) -> bool:
    """True when ``stream`` is a terminal (where image bytes are never written)."""
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def reason(error: OSError) -> str:
    """An OSError as a short lower-case phrase: 'permission denied'."""
    text = error.strerror or str(error) or type(error).__name__
    return text[:1].lower() + text[1:]
