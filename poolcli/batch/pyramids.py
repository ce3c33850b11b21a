"""Pyramid batches: inputs -> one pyramid each, written atomically, told one by one.

:func:`run_pyramids` takes a :class:`PyramidRequest` (what ``poolcli pyramid``'s
options say) and yields a :class:`PyramidOutcome` per input, in input order, as each
is done. Naming: one input named on the command line goes to ``output`` itself,
whose name gives the container (:func:`~poolcli.spec.pyramids.container_of`);
several inputs, or a folder walked with ``recursive``, go into the folder
``output``, each as ``STEM`` + the container's ending (``container``, OME-Zarr
unless told). Pyramids run one after another: each already uses the cores (the
writer's compression beside the pooling).

Every output is published whole or not at all: a TIFF through a hidden temporary
file, OME-Zarr stores and folders through a hidden temporary folder, a Deep Zoom
image as its tile folder and then its ``.dzi``; existing outputs are refused
unless ``existing`` says overwrite or skip.
"""

from __future__ import annotations

import os
import time
import traceback
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Failure, FailureKind, InputError, OutputExists, ParameterError, PoolcliError
from ..images.requests import ReadOptions
from ..spec.pyramids import Container, PyramidOptions, container_of, endings
from ..spec.settings import PoolSettings
from .choices import Existing, refused
from .discovery import Input, Rules, discover
from .naming import check_distinct
from .writing import write_atomically, write_directory_atomically


@dataclass(frozen=True)
class PyramidRequest:
    """A pyramid batch (see the module docstring)."""

    inputs: tuple[str, ...]
    output: str
    settings: PoolSettings = field(default_factory=lambda: PoolSettings.make(2))
    options: PyramidOptions = field(default_factory=PyramidOptions)
    container: Container | None = None
    read: ReadOptions = field(default_factory=ReadOptions)
    save_options: dict[str, object] = field(default_factory=dict)
    existing: Existing = Existing.REFUSE
    recursive: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    dry_run: bool = False
    fail_fast: bool = False


@dataclass(frozen=True)
class PyramidOutcome:
    """One input's pyramid: ``status`` ok, error, skipped or planned."""

    source: str
    target: str | None
    status: str
    failure: Failure | None = None
    in_size: tuple[int, ...] | None = None  # (w, h), or (w, h, d) for a volume
    levels: tuple[tuple[int, ...], ...] = ()
    container: Container | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    streamed: str | None = None
    traceback: str | None = None

    @property
    def failed(self) -> bool:
        return self.status == "error"


def plan_outputs(request: PyramidRequest) -> list[tuple[Input, str, Container]]:
    """Each input with its target and container (a problem input: None, None).
    ParameterError for a plan that cannot work."""
    rules = Rules(request.recursive, request.include, request.exclude, skip=(request.output,))
    found = list(discover(request.inputs, rules))
    named = container_of(request.output)
    single = len(request.inputs) == 1 and len(found) <= 1 and not request.recursive
    if request.options.image is not None:
        if not single:
            message = "`label` writes one label pyramid: give one input"
            raise ParameterError(message, parameter="label", value=request.options.label)
        target = os.path.join(request.options.image, "labels", str(request.options.label))
        return [(item, target, Container.OME_ZARR) for item in found]
    if single and (named is not None or request.container is not None):
        container = named or request.container
        assert container is not None
        if request.container is not None and named not in (None, request.container):
            message = f"`container` {request.container} and the output {request.output!r} differ"
            raise ParameterError(message, parameter="container", value=str(request.container))
        return [(item, request.output.rstrip("/\\") or request.output, container) for item in found]
    if single and named is None:
        message = f"the output {request.output!r} names no pyramid: end it with {endings()}"
        raise ParameterError(message, parameter="output", value=request.output)
    container = request.container or Container.OME_ZARR
    planned = []
    for item in found:
        stem = _stem(item.relative or os.path.basename(item.path))
        planned.append((item, os.path.join(request.output, stem + container.suffix), container))
    check_distinct(found, [target for _, target, _ in planned])  # a.tif and a.png: one a.dzi
    return planned


def _stem(relative: str) -> str:
    base = relative
    for ending in (".ome.zarr", ".ome.tiff", ".ome.tif"):
        if base.lower().endswith(ending):
            return base[: -len(ending)]
    stem, _ = os.path.splitext(base)
    return stem or base


def run_pyramids(request: PyramidRequest) -> Iterator[PyramidOutcome]:
    """Make every input's pyramid (see the module docstring)."""
    planned = plan_outputs(request)
    if request.settings.linear and request.options.is_volume(request.read.layout):
        message = "linear light is for colour images; a volume's samples are pooled as stored"
        raise ParameterError(message, parameter="linear", value=True)
    if request.container is not None:
        request.options.check_for(request.container)
    for _, _, container in planned:
        if container is not None:
            request.options.check_for(container)
    if request.save_options:
        from ..images.writing.options import check_save_options

        containers = {container for _, _, container in planned if container is not None}
        check_save_options(request.save_options, _written_formats(request, containers))
        if containers & {Container.TIFF, Container.OME_TIFF}:
            _check_tifffile_compression(request.save_options)
    run_id = uuid.uuid4().hex[:12]
    for item, target, container in planned:
        outcome = _one(item, target, container, request, run_id)
        yield outcome
        if outcome.failed and request.fail_fast:
            return


def _check_tifffile_compression(save_options: Mapping[str, object]) -> None:
    """A pyramid TIFF is written by tifffile, always: a compression only Pillow writes
    (Group 3/4, WebP) is bad usage, refused before any file is read."""
    from ..images.streams.writers import PILLOW_NAMES

    asked = save_options.get("compression")
    if asked is not None and str(asked) not in PILLOW_NAMES:
        message = (
            f"`save_options` compression={asked}: a pyramid TIFF (written by tifffile) "
            f"takes {', '.join(PILLOW_NAMES)}"
        )
        raise ParameterError(message, parameter="save_options", value="compression")


def _written_formats(request: PyramidRequest, containers: set[Container]) -> set[str]:
    """The file formats the pyramids write, for checking ``-O`` keys: Zarr, TIFF, the
    Deep Zoom tiles' (JPEG or PNG unless ``--format``), a folder's levels'."""
    from ..images.formats import format_named

    asked = request.options.tile_format
    named = format_named(asked) if asked is not None else None
    tiles = {named.name} if named is not None else set()
    formats: set[str] = set()
    for container in containers:
        if container is Container.OME_ZARR:
            formats.add("ZARR")
        elif container in (Container.TIFF, Container.OME_TIFF):
            formats.add("TIFF")
        elif container is Container.DZI:
            formats |= tiles or {"JPEG", "PNG"}
        elif request.options.is_volume(request.read.layout):
            formats |= tiles or {"TIFF"}
        else:
            formats |= tiles or {"PNG"}
    return formats


def _one(item: Input, target: str | None, container: Container | None,
         request: PyramidRequest, run_id: str) -> PyramidOutcome:  # fmt: skip
    if item.problem is not None or target is None or container is None:
        failure = Failure(FailureKind.INPUT, item.problem or "not an input")
        return PyramidOutcome(item.path, None, "error", failure)
    started = time.perf_counter()
    try:
        if _exists(target, container) and request.existing is not Existing.OVERWRITE:
            if request.existing is Existing.SKIP:
                return PyramidOutcome(item.path, target, "skipped", container=container)
            raise OutputExists(refused(f"{target} exists"))
        if request.dry_run:
            return _planned(item, target, container, request)
        report = _write(item.path, target, container, request, run_id)
    except PoolcliError as error:
        return PyramidOutcome(item.path, target, "error", Failure.of(error), container=container)
    except OSError as error:
        failure = Failure(FailureKind.INPUT, f"cannot read it: {error.strerror or error}")
        return PyramidOutcome(item.path, target, "error", failure, container=container)
    except Exception as error:  # noqa: BLE001 - a bug: one line, the traceback on request
        message = f"internal error: {type(error).__name__}: {error}"
        return PyramidOutcome(item.path, target, "error", Failure(FailureKind.BUG, message),
                              container=container, traceback=traceback.format_exc())  # fmt: skip
    return PyramidOutcome(
        item.path, target, "ok", None, report[0], report[1], container,
        time.perf_counter() - started, report[2], report[3],
    )  # fmt: skip


def _exists(target: str, container: Container) -> bool:
    if container is Container.DZI:
        return os.path.lexists(target) or os.path.lexists(_tiles_folder(target))
    return os.path.lexists(target)


def _tiles_folder(target: str) -> str:
    return target[: -len(".dzi")] + "_files"


def _job(container: Container, request: PyramidRequest) -> Any:
    from ..images.pyramids.build import PyramidJob

    return PyramidJob(container, request.options, request.settings, request.read,
                      request.save_options)  # fmt: skip


def _input_format(path: str) -> str | None:
    from ..images.conversion import streamable_format

    return streamable_format(path)


def _write(path: str, target: str, container: Container, request: PyramidRequest,
           run_id: str) -> tuple:  # fmt: skip
    from ..images.pyramids.build import build_pyramid

    if not os.path.exists(path):
        message = "no such file"
        raise InputError(message)
    job, fmt = _job(container, request), _input_format(path)
    replace = request.existing is Existing.OVERWRITE
    if request.options.is_volume(request.read.layout):
        report = _write_volume(path, fmt, target, job, replace, run_id)
    elif container in (Container.TIFF, Container.OME_TIFF):
        report = write_atomically(target, lambda stream: build_pyramid(path, fmt, stream, job),
                                  replace=replace, run_id=run_id)  # fmt: skip
    elif container is Container.DZI:
        made: list = []

        def tiles(folder: str) -> None:
            made.append(build_pyramid(path, fmt, folder, job))

        write_directory_atomically(_tiles_folder(target), tiles, replace=replace, run_id=run_id)
        from ..images.pyramids.dzi import write_descriptor

        write_atomically(target, lambda stream: write_descriptor(stream, made[0].extra),
                         replace=True, run_id=run_id)  # fmt: skip
        report = made[0]
    else:
        report = write_directory_atomically(
            target, lambda folder: build_pyramid(path, fmt, folder, job), replace=replace,
            run_id=run_id,
        )  # fmt: skip
    if request.options.label is not None:
        from ..images.pyramids.zarr import write_label_metadata

        write_label_metadata(str(request.options.image), request.options.label, job.zarr_format)
    return report.in_size, report.levels, report.notes, report.streamed


def _write_volume(path: str, fmt: str | None, target: str, job: Any, replace: bool,
                  run_id: str) -> Any:  # fmt: skip
    from ..images.pyramids.volume import build_volume_pyramid

    return write_directory_atomically(
        target, lambda folder: build_volume_pyramid(path, fmt, folder, job), replace=replace,
        run_id=run_id,
    )  # fmt: skip


def _planned(item: Input, target: str, container: Container,
             request: PyramidRequest) -> PyramidOutcome:  # fmt: skip
    from ..images.pyramids.build import plan_sizes

    job, fmt = _job(container, request), _input_format(item.path)
    if request.options.is_volume(request.read.layout):
        from ..images.pyramids.volume import volume_sizes

        size, levels = volume_sizes(item.path, fmt, job)
    else:
        size, levels = plan_sizes(item.path, fmt, job)
    return PyramidOutcome(item.path, target, "planned", None, size, levels, container)
