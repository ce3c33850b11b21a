"""The plan of a batch: every input found, its output, and the checks that come first."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import FailureKind, OutputError, PoolcliError
from .discovery import STDIN, Input, Rules, discover
from .jobs import Job, Result, Status
from .naming import DEFAULT_DIRECTORY, STDOUT, name_targets, plan_targets
from .writing import reason


@dataclass(frozen=True)
class Plan:
    """Every input found, in order: a :class:`Job` for each, or a problem :class:`Result`."""

    jobs: list[Job]
    problems: list[Result]
    #: Input and output (None when there is none) of each index, for reports.
    sources: list[str]
    targets: dict[int, str]
    #: Each index's shard key (see :mod:`.sharding`): its path relative to its root.
    keys: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.sources)


def plan(
    arguments: Sequence[str],
    rules: Rules,
    *,
    listed: Sequence[str] = (),
    output: str | None = None,
    requested_format: str | None = None,
    skip_existing: bool = False,
) -> Plan:
    """Find the inputs, name their outputs, and check the whole plan before any work.

    ``listed`` are the names read from a ``files_from`` list. Raises :class:`PlanError`
    for bad usage (two inputs to one output, the one output that is the input, stdout
    for several inputs, ...); an input that would be its own output in a folder of
    outputs is a problem of its own (kind ``exists``; skipped with ``skip_existing``),
    the others are planned. The output directory, and ./pooled (the default
    one), are never searched for inputs, unless named as an input themselves.
    """
    # the output directory, and poolcli's default one, are never searched for inputs
    skip = tuple(sorted({DEFAULT_DIRECTORY, output or DEFAULT_DIRECTORY} - {STDOUT}))
    rules = Rules(rules.recursive, rules.include, rules.exclude, rules.follow_symlinks, skip)
    inputs = [*discover(arguments, rules), *discover(listed, rules, listed=True)]
    walked = rules.recursive and any(
        arg != STDIN and _is_directory(arg) for arg in [*arguments, *listed]
    )
    # several inputs named, a list or a folder: -o is a folder, however many files remain
    into_folder = walked or bool(listed) or len(arguments) > 1
    inputs = _distinct(inputs)
    if walked:
        named = {os.path.normpath(path) for path in [*arguments, *listed]}
        inputs = _without_own_outputs(inputs, named, output, requested_format)
    good = [(index, item) for index, item in enumerate(inputs) if item.problem is None]
    targets, over = (
        plan_targets([item for _, item in good], output, requested_format, walked=into_folder)
        if good
        else ([], {})
    )
    jobs = [
        Job(index, item.path, target.path, target.format)
        for position, ((index, item), target) in enumerate(zip(good, targets, strict=True))
        if position not in over
    ]
    problems = [
        Result.failing(index, FailureKind.INPUT, item.problem)
        for index, item in enumerate(inputs)
        if item.problem is not None
    ]
    # an input that would be its own output: refused alone (the output exists, and it
    # is never replaced), so --skip-existing skips it
    problems += [
        Result(good[position][0], Status.SKIPPED)
        if skip_existing
        else Result.failing(good[position][0], FailureKind.EXISTS, message)
        for position, message in over.items()
    ]
    problems.sort(key=lambda result: result.index)
    return Plan(
        jobs,
        problems,
        [item.path for item in inputs],
        {index: target.path for (index, _), target in zip(good, targets, strict=True)},
        [item.relative or item.path for item in inputs],
    )


def _distinct(inputs: list[Input]) -> list[Input]:
    """The inputs with each file once: ``a.jpg ./a.jpg``, or a folder and a file in it,
    name one file twice, and it is pooled once. A link is a name of its own (it has
    an output of its own), so only the folders on the way are resolved."""
    seen: set[str] = set()
    kept = []
    for item in inputs:
        if item.problem is None and not item.is_stdin:
            folder, name = os.path.split(os.path.abspath(item.path))
            place = os.path.join(os.path.realpath(folder), name)
            if place in seen:
                continue
            seen.add(place)
        kept.append(item)
    return kept


def _without_own_outputs(
    inputs: list[Input], named: set[str], output: str | None, requested: str | None
) -> list[Input]:
    """Drop files found in folders that another input of this batch writes: a batch
    into its own folder (``-r photos -o photos --format png``) finds its earlier
    outputs there, which are outputs, not inputs (so ``--skip-existing`` resumes it)."""
    items = [item for item in inputs if item.problem is None]
    try:
        targets = name_targets(items, output, requested, walked=True)
    except PoolcliError:
        return inputs  # plan_targets says what is wrong
    writers: dict[str, set[int]] = {}
    for item, target in zip(items, targets, strict=True):
        if target.path != STDOUT:
            writers.setdefault(os.path.realpath(target.path), set()).add(id(item))
    kept = []
    for item in inputs:
        others = writers.get(os.path.realpath(item.path), set()) - {id(item)}
        if item.problem is None and others and os.path.normpath(item.path) not in named:
            continue
        kept.append(item)
    return kept


def check_writable(folder: str) -> None:
    """Raise :class:`OutputError` once, before any work, when ``folder`` (the one the
    outputs go under) cannot be written: read-only, a file in the way, no permission;
    rather than one failure per input. Tried for real: a temporary folder is made and
    removed in the nearest folder that exists, so root, ACLs and read-only mounts all
    count."""
    existing = folder
    while not os.path.isdir(existing):
        if os.path.lexists(existing):
            message = f"cannot write under {folder}: {existing} is a file, not a folder"
            raise OutputError(message)
        existing = os.path.dirname(existing) or "."
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".poolcli-probe-", dir=existing))
    except OSError as error:
        where = "" if existing == folder else f" (in {existing})"
        message = f"cannot write under {folder}: {reason(error)}{where}"
        raise OutputError(message) from None


def _is_directory(path: str) -> bool:
    return os.path.isdir(path)
