"""Where each input's output goes, and in which format.

- ``-`` (stdout): one input, and ``format`` must name the format.
- a directory (an existing one, a name ending in ``/``, or any run given several
  inputs, a folder with ``-r`` or a ``--files-from`` list): each output mirrors its
  input's relative path under it. A new folder named like a file (``two.jpg``) is
  refused as a likely mistake; ``two.jpg/`` insists.
- a file: one input to that file, in the format its extension names; ``format``
  naming another format is refused (JPEG bytes never go into a ``.png`` name).
- none: stdin goes to stdout; files go to :data:`DEFAULT_DIRECTORY` in the
  current directory, mirroring the inputs. That never overwrites an input, names
  the same files on every run, and discovery never reads it back.

The output format is the one asked for, else the one the output file's extension
names, else the one the input's extension names when poolcli can write it, else
PNG. An output keeps its input's name and extension unless the format changes,
when the extension becomes the format's own (format png: ``a.jpg`` -> ``a.png``).
Formats and their extensions are the format table's
(:mod:`poolcli.images.formats`).

Everything here is checked before any file is read or written: two inputs that
would write one output are refused as bad usage, and so is one output that is its
input itself (any spelling, a hard link). In a folder of outputs, an input that
would be its own output (``-r photos -o photos --format png`` finds PNGs) is
refused alone (:func:`written_over`): the others are pooled.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import OutputError, ParameterError
from ..images.formats import record_of, writable_named
from .discovery import Input, is_zarr_name

#: Where outputs go without ``-o``: a folder in the current directory.
DEFAULT_DIRECTORY = "pooled"
#: The output (and ``Job.target``) that means standard output.
STDOUT = "-"


class PlanError(ParameterError):
    """Inputs and an output that cannot go together: bad usage, found before any work."""


@dataclass(frozen=True)
class Target:
    """The output planned for one input: a path (or ``-``) and a format name."""

    path: str
    format: str


def is_directory_output(output: str | None, inputs: Sequence[Input], walked: bool) -> bool:
    """True when ``-o`` names a directory to mirror into (see the module docstring)."""
    if output is None:
        return not (len(inputs) == 1 and inputs[0].is_stdin)
    if output == STDOUT:
        return False
    if is_zarr_name(output) and not output.endswith(("/", os.sep)):
        return False  # a Zarr store: one output, though it is a folder on disk
    return output.endswith(("/", os.sep)) or os.path.isdir(output) or walked or len(inputs) > 1


def plan_targets(
    inputs: Sequence[Input],
    output: str | None,
    requested_format: str | None,
    *,
    walked: bool = False,
) -> tuple[list[Target], dict[int, str]]:
    """One :class:`Target` per input, in order, and the inputs refused alone: their
    positions, each with why (an input that would be its own output, in a folder of
    outputs); :class:`PlanError` for bad usage.

    ``walked`` says some inputs came from a directory walk (so ``-o`` is a directory
    even when only one file was found).
    """
    targets = name_targets(inputs, output, requested_format, walked=walked)
    check_distinct(inputs, [target.path for target in targets])
    over = written_over(inputs, targets)
    if over and not is_directory_output(output, inputs, walked):
        raise PlanError(next(iter(over.values())))
    return targets, over


def name_targets(
    inputs: Sequence[Input],
    output: str | None,
    requested_format: str | None,
    *,
    walked: bool = False,
) -> list[Target]:
    """The targets of :func:`plan_targets`, before the checks that no two collide and
    that none is an input."""
    requested = _requested(requested_format)
    stdin = [i for i in inputs if i.is_stdin]
    if stdin and len(inputs) > 1:
        message = "'-' (stdin) must be the only input"
        raise PlanError(message)
    if output == STDOUT or (output is None and stdin):
        if len(inputs) != 1:
            message = (
                f"`output=-` (stdout) takes one input, got {len(inputs)}; "
                "use `output=DIR` for a batch"
            )
            raise PlanError(message)
        if requested is None:
            message = (
                "writing to stdout needs `format` (png, jpg, webp, npy, ...): "
                "there is no file name to tell it"
            )
            raise PlanError(message)
        return [Target(STDOUT, requested)]
    if is_directory_output(output, inputs, walked):
        if stdin:
            message = (
                f"stdin has no name to mirror under {output}/: use `output=FILE` or `output=-`"
            )
            raise PlanError(message)
        if output is not None and os.path.exists(output) and not os.path.isdir(output):
            message = f"`output` {output} is a file, but {len(inputs)} inputs need a directory"
            raise PlanError(message)
        directory = DEFAULT_DIRECTORY if output is None else output
        _check_folder_name(directory, len(inputs))
        targets = [_mirror(directory, i.relative, requested) for i in inputs]
    else:
        assert output is not None
        if len(inputs) != 1:
            message = (
                f"`output` {output} is one Zarr store, but {len(inputs)} inputs need a "
                "directory: use `output=DIR/` (each input gets its own store with `format=zarr`)"
            )
            raise PlanError(message)
        (single,) = inputs
        try:
            named = _format_of_file(output)
            fmt = requested or named or default_format(single.path)
        except OutputError as error:
            raise PlanError(str(error)) from None
        if requested is not None and named is not None and named != requested:
            extension = os.path.splitext(output)[1]
            message = (
                f"`output` {output} names {named} by its {extension}, but `format` asks for "
                f"{requested}: make them agree (or drop `format`)"
            )
            raise PlanError(message)
        targets = [Target(output, fmt)]
    return targets


def _requested(requested_format: str | None) -> str | None:
    if not requested_format:
        return None
    record = writable_named(requested_format)
    if record is None:
        message = (
            f"`format` {requested_format!r} is not a format poolcli can write; "
            "try png, jpg, webp, gif, tif, npy or npz"
        )
        raise PlanError(message)
    return record.name


def _mirror(directory: str, relative: str, requested: str | None) -> Target:
    stem, suffix = os.path.splitext(relative)
    named = _format_of_name(relative)
    fmt = requested or default_format(relative)
    if named != fmt:
        suffix = record_of(fmt).extension
    return Target(os.path.join(directory, *f"{stem}{suffix}".split("/")), fmt)


def default_format(name: str) -> str:
    """The format an input named ``name`` is written in unless told otherwise: the one
    its extension names when poolcli can write it, else PNG."""
    return _format_of_name(name) or "PNG"


def _format_of_name(path: str) -> str | None:
    """The writable format a file name's extension names, or None."""
    suffix = os.path.splitext(path)[1]
    record = writable_named(suffix) if suffix else None
    return None if record is None else record.name


def _check_folder_name(directory: str, count: int) -> None:
    """Refuse a folder to be made under a file's name (``-o two.jpg`` for a batch)."""
    if directory.endswith(("/", os.sep)) or os.path.isdir(directory) or is_zarr_name(directory):
        return
    fmt = _format_of_name(directory)
    if fmt is not None:
        message = (
            f"`output` {directory} is named like a {fmt} file, but {count} input(s) need a "
            f"folder: name a folder (or end it with / to make {directory}/ anyway)"
        )
        raise PlanError(message)


def _format_of_file(output: str) -> str | None:
    """The format ``-o FILE`` names by its extension; OutputError for an unknown one."""
    suffix = os.path.splitext(output)[1]
    if not suffix:
        return None
    fmt = _format_of_name(output)
    if fmt is None:
        message = (
            f"cannot tell an output format from '{suffix}' in `output` {output}; "
            "name it .png, .jpg, ... or pass `format`"
        )
        raise OutputError(message)
    return fmt


def check_distinct(inputs: Sequence[Input], paths: Sequence[str]) -> None:
    """A :class:`PlanError` when two inputs would be written to one of ``paths``
    (the inputs' outputs, in order), however the path is spelled."""
    claimed: dict[str, Input] = {}
    for item, path in zip(inputs, paths, strict=True):
        key = os.path.normcase(os.path.abspath(path))
        first = claimed.setdefault(key, item)
        if first is not item:
            message = (
                f"{first.path} and {item.path} would both be written to {path}; "
                "run them separately or rename one"
            )
            raise PlanError(message)


def written_over(inputs: Sequence[Input], targets: Sequence[Target]) -> dict[int, str]:
    """The positions of the ``targets`` that are an input (same path, another spelling,
    or a hard link), each with the message that refuses it: poolcli never writes over
    an input."""
    identities = {}
    for item in inputs:
        if not item.is_stdin:
            try:
                status = os.stat(item.path)
            except OSError:
                continue  # reported when it is read
            identities[(status.st_dev, status.st_ino)] = item
    over = {}
    for position, target in enumerate(targets):
        if target.path == STDOUT:
            continue
        try:
            status = os.stat(target.path)
        except OSError:
            continue  # not there: it cannot be an input
        same = identities.get((status.st_dev, status.st_ino))
        if same is not None:
            over[position] = (
                f"the output {target.path} is the input {same.path} itself; "
                "poolcli never writes over an input: choose another `output` or `format`"
            )
    return over
