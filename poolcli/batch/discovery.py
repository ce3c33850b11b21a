"""Finding the inputs: named files, directory trees, stdin and ``--files-from`` lists.

The rules (``poolcli pool --help`` repeats them):

- A file named on the command line or in a list is always attempted, whatever its
  name: an unreadable one fails and is reported.
- A directory is walked only when ``recursive``; otherwise it is reported as a
  problem. In a directory a file is taken when its extension is one Pillow can read,
  or ``.npy``/``.npz`` (any case), so a README.txt among photos is skipped silently.
  A Zarr store (a directory named ``*.zarr``) is one input, named or met in a walk,
  never walked into.
  ``include`` globs replace that test; ``exclude`` globs drop files and prune
  directories. A glob without ``/`` matches the name, with ``/`` the path under the
  walked directory.
- Hidden files and directories (a leading ``.``) are skipped; so are the directories
  in ``skip`` (the output directory: never read back as input).
- Directory symlinks are not followed unless ``follow_symlinks``; then each real
  directory is walked once, so a symlink loop ends. File symlinks are files.
- Order: arguments as given; in a directory, its files by name, then its
  subdirectories by name. The same on every run.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ..errors import ParameterError
from ..images.formats import CORE_EXTENSIONS, readable_extensions

#: The argument that means standard input.
STDIN = "-"


@dataclass(frozen=True)
class Input:
    """One input: where to read it, and the path its output mirrors.

    ``relative`` is the path under the directory it was found in (a named file: its
    name; a listed file: its relative path as listed). ``problem`` is set when the
    argument cannot be an input (a directory without ``-r``, an unreadable folder).
    """

    path: str
    relative: str
    problem: str | None = None

    @property
    def is_stdin(self) -> bool:
        return self.path == STDIN


@dataclass(frozen=True)
class Rules:
    """How directories are searched (see the module docstring)."""

    recursive: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False
    skip: tuple[str, ...] = ()


def discover(arguments: Iterable[str], rules: Rules, *, listed: bool = False) -> Iterator[Input]:
    """The inputs ``arguments`` name, in a stable order.

    ``listed`` marks arguments read from ``--files-from``: a listed relative file
    keeps its relative path for mirroring (as rsync does), where a file named on the
    command line keeps only its name (as cp does).
    """
    skip = _identities(rules.skip)
    seen: set[tuple[int, int]] = set()
    for argument in arguments:
        if argument == STDIN:
            yield Input(STDIN, STDIN)
        elif os.path.isdir(argument) and not is_zarr_name(argument):
            if not rules.recursive:
                yield Input(
                    argument, "", "is a directory; pass `recursive=true` to pool the files under it"
                )
            else:
                yield from _walk(argument, rules, skip, seen)
        else:
            yield Input(argument, _mirrored(argument) if listed else os.path.basename(argument))


def read_list(data: bytes, *, null: bool) -> list[str]:
    """File names from a ``--files-from`` list: one a line, or NUL-separated.

    Empty entries are ignored; lines lose a trailing ``\\r``. Names are decoded as the
    file system encodes them, so any byte sequence round-trips.
    """
    if null:
        entries = data.split(b"\0")
    elif b"\0" in data:
        message = (
            "the list of files holds NUL bytes (as `find -print0` writes): "
            "pass `null=true` to split it there"
        )
        raise ParameterError(message, parameter="null", value=False)
    else:
        entries = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    return [os.fsdecode(entry) for entry in entries if entry]


@lru_cache(maxsize=1)
def image_extensions() -> frozenset[str]:
    """Lower-case extensions taken from directories: what Pillow opens, plus arrays."""
    return readable_extensions()


def _walk(
    root: str,
    rules: Rules,
    skip: set[tuple[int, int]],
    seen: set[tuple[int, int]],
) -> Iterator[Input]:
    """Depth first, without recursion (deep trees), each real directory once."""
    stack = [(root, "")]
    while stack:
        directory, relative = stack.pop()
        try:
            identity = _identity(directory)
            if identity in seen:
                continue
            seen.add(identity)
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            yield Input(directory, relative, f"cannot read the directory: {_reason(error)}")
            continue
        subdirectories = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = f"{relative}/{entry.name}" if relative else entry.name
            try:
                is_directory = entry.is_dir(follow_symlinks=rules.follow_symlinks)
                is_file = not is_directory and entry.is_file()
            except OSError:
                continue
            if is_directory and is_zarr_name(entry.name):
                if _wanted(rules, entry.name, path):  # a Zarr store is one input
                    yield Input(entry.path, path)
            elif is_directory:
                if not _matches(rules.exclude, entry.name, path) and not _skipped(entry.path, skip):
                    subdirectories.append((entry.path, path))
            elif is_file and _wanted(rules, entry.name, path):
                yield Input(entry.path, path)
        stack.extend(reversed(subdirectories))


def _skipped(directory: str, skip: set[tuple[int, int]]) -> bool:
    """True for a directory in ``skip``. One that cannot be looked at (gone, a path
    past PATH_MAX) is walked, and the walk reports why it cannot be read."""
    try:
        return _identity(directory) in skip
    except OSError:
        return False


def _wanted(rules: Rules, name: str, path: str) -> bool:
    if _matches(rules.exclude, name, path):
        return False
    if rules.include:
        return _matches(rules.include, name, path)
    return is_image_name(name)


def is_image_name(name: str) -> bool:
    """True when a directory walk takes a file of this name (by its extension).

    The core formats' extensions are known without loading every Pillow plugin
    (``Image.init()``, about 40 ms at start-up); any other is looked up in Pillow.
    """
    extension = os.path.splitext(name)[1].lower()
    return extension in CORE_EXTENSIONS or extension in image_extensions()


def is_zarr_name(path: str) -> bool:
    """True for a Zarr store's name (``x.zarr``, ``x.ome.zarr``): an input, not a folder."""
    return os.path.basename(path.rstrip("/" + os.sep)).lower().endswith(".zarr")


def _matches(globs: tuple[str, ...], name: str, path: str) -> bool:
    """Whether a glob matches the name (or the path, for a glob with a /), ignoring case
    as discovery's extensions do: ``*.jpg`` takes a camera's ``IMG_0001.JPG``."""
    return any(
        fnmatch.fnmatchcase((path if "/" in glob else name).lower(), glob.lower()) for glob in globs
    )


def _mirrored(listed: str) -> str:
    """A listed path's place under ``-o DIR``: itself when relative and inside, else its name."""
    normal = os.path.normpath(listed)
    if os.path.isabs(normal) or normal == ".." or normal.startswith(".." + os.sep):
        return os.path.basename(normal)
    return normal.replace(os.sep, "/")


def _identities(paths: Iterable[str]) -> set[tuple[int, int]]:
    found = set()
    for path in paths:
        try:
            found.add(_identity(path))
        except OSError:
            pass  # not there yet: it cannot be inside an input tree either
    return found


def _identity(path: str) -> tuple[int, int]:
    status = os.stat(path)
    return status.st_dev, status.st_ino


def _reason(error: OSError) -> str:
    reason = error.strerror or str(error)
    return reason[:1].lower() + reason[1:]
