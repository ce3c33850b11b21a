"""The plan of a batch: every input found, its output, and the checks that come first."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import FailureKind
from .discovery import STDIN, Rules, discover
from .jobs import Job, Result
from .naming import DEFAULT_DIRECTORY, STDOUT, plan_targets


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
) -> Plan:
    """Find the inputs, name their outputs, and check the whole plan before any work.

    ``listed`` are the names read from a ``files_from`` list. Raises :class:`PlanError`
    for bad usage (two inputs to one output, an output that is an input, stdout
    for several inputs, ...). The output directory, and ./pooled (the default
    one), are never searched for inputs, unless named as an input themselves.
    """
    # the output directory, and poolcli's default one, are never searched for inputs
    skip = tuple(sorted({DEFAULT_DIRECTORY, output or DEFAULT_DIRECTORY} - {STDOUT}))
    rules = Rules(rules.recursive, rules.include, rules.exclude, rules.follow_symlinks, skip)
    inputs = [*discover(arguments, rules), *discover(listed, rules, listed=True)]
    walked = rules.recursive and any(
        arg != STDIN and _is_directory(arg) for arg in [*arguments, *listed]
    )
    good = [(index, item) for index, item in enumerate(inputs) if item.problem is None]
    targets = (
        plan_targets([item for _, item in good], output, requested_format, walked=walked)
        if good
        else []
    )
    jobs = [
        Job(index, item.path, target.path, target.format)
        for (index, item), target in zip(good, targets, strict=True)
    ]
    problems = [
        Result.failing(index, FailureKind.INPUT, item.problem)
        for index, item in enumerate(inputs)
        if item.problem is not None
    ]
    return Plan(
        jobs,
        problems,
        [item.path for item in inputs],
        {job.index: job.target for job in jobs},
        [item.relative or item.path for item in inputs],
    )


def _is_directory(path: str) -> bool:
    return os.path.isdir(path)
