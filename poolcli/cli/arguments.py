"""What click parsed, as typed values, and the library requests they make.

Each command's callback receives its options by name and turns them into one of
these at once; from there on everything is an attribute, checked by mypy, never a
string lookup. A test checks that the annotated names match the commands' options
one for one. (Plain annotated classes, not dataclasses: making a dataclass of forty
fields costs milliseconds at every start.)
"""

from __future__ import annotations

from typing import Any

import click

from ..batch.choices import Executor, Existing
from ..batch.request import BatchRequest
from ..batch.sharding import Shard
from ..images.requests import ReadOptions
from ..spec.modes import PoolMode
from ..spec.parameters import check_given
from ..spec.settings import PoolSettings
from ..spec.volumes import split_depth


class PoolingArguments:
    """The pool options both commands take."""

    inputs: tuple[str, ...]
    mode: str
    kernel: tuple[int, ...]
    stride: tuple[int, ...] | None
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool
    exclude_pad: bool
    divisor: int | None
    p: float
    size: tuple[int | None, ...] | None
    repeat: int
    alpha: str
    linear: bool
    nodata: int | float | str | None
    min_valid: float
    layout: str | None
    max_pixels: int | None
    recursive: bool
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    follow_symlinks: bool
    as_json: bool
    show_traceback: bool

    def __init__(self, given: frozenset[str] = frozenset(), **options: Any) -> None:
        """The options click parsed, by name: exactly the names annotated here.
        ``given``: the names typed on the command line (not left at their defaults)."""
        differ = set(options) ^ self.names()
        if differ:
            message = f"the command's options and {type(self).__name__} differ: {sorted(differ)}"
            raise TypeError(message)
        vars(self).update(options)
        self.given = given

    @classmethod
    def names(cls) -> set[str]:
        """The option names, as annotated on this class and the ones it extends."""
        return {name for klass in cls.__mro__ for name in vars(klass).get("__annotations__", {})}

    def settings(self) -> PoolSettings:
        """The pooling settings; ParameterError for values no image could satisfy, or
        for options given that would change nothing (``-k`` with ``--size``)."""
        named = {"count_include_pad" if name == "exclude_pad" else name for name in self.given}
        window: dict[str, Any] = dict(  # Any: pairs once a depth is split off
            kernel=self.kernel, stride=self.stride, padding=self.padding,
            dilation=self.dilation, size=self.size,
        )  # fmt: skip
        window, depth = split_depth(window)  # WxHxD sizes: a volume
        check_given(PoolMode.parse(self.mode), window["size"], window["padding"], named)
        return PoolSettings.make(
            window["kernel"],
            stride=window["stride"],
            padding=window["padding"],
            dilation=window["dilation"],
            depth=depth,
            mode=self.mode,
            ceil_mode=self.ceil_mode,
            count_include_pad=not self.exclude_pad,
            divisor=self.divisor,
            p=self.p,
            size=window["size"],
            repeat=self.repeat,
            alpha=self.alpha,
            linear=self.linear,
            nodata=self.nodata,
            min_valid=self.min_valid,
        )


class InfoArguments(PoolingArguments):
    """``poolcli info``'s options."""


class PoolArguments(PoolingArguments):
    """``poolcli pool``'s options."""

    output: str | None
    frame: int | None
    memory: int
    format_name: str | None
    save_options: tuple[tuple[str, object], ...]
    dtype: str | None
    overwrite: bool
    skip_existing: bool
    dry_run: bool
    files_from: str | None
    null: bool
    jobs: int | None
    fail_fast: bool
    shard: Shard | None
    executor: str
    scheduler: str | None
    scheduler_timeout: float
    quiet: bool
    verbose: bool

    def request(self) -> BatchRequest:
        """The batch these options ask for. Combinations only the command line has are
        usage errors here. DASK_SCHEDULER_ADDRESS alone never moves a run off this
        machine: ``--scheduler`` must be given, or ``--executor dask``."""
        if self.overwrite and self.skip_existing:
            _usage("--overwrite and --skip-existing exclude each other: pick one")
        if self.verbose and self.quiet:
            _usage("-v and -q exclude each other")
        existing = Existing.REFUSE
        if self.overwrite or self.skip_existing:
            existing = Existing.OVERWRITE if self.overwrite else Existing.SKIP
        executor = Executor(self.executor)
        scheduler_named = "scheduler" in self.given
        scheduler = self.scheduler if scheduler_named or executor is Executor.DASK else None
        return BatchRequest(
            self.inputs,
            output=self.output,
            settings=self.settings(),
            read=ReadOptions(
                max_pixels=self.max_pixels,
                frame=self.frame,
                layout=self.layout,
                memory=self.memory,
            ),  # fmt: skip
            format=self.format_name,
            save_options=dict(self.save_options),
            dtype=self.dtype,
            existing=existing,
            recursive=self.recursive,
            include=self.include,
            exclude=self.exclude,
            follow_symlinks=self.follow_symlinks,
            files_from=self.files_from,
            null=self.null,
            workers=self.jobs,
            executor=executor,
            scheduler=scheduler,
            scheduler_timeout=self.scheduler_timeout,
            shard=self.shard,
            dry_run=self.dry_run,
            fail_fast=self.fail_fast,
        )


def _usage(message: str) -> None:
    raise click.UsageError(message)
