"""``pool``, ``adaptive_pool`` and ``output_shape``: the public face of the engine.

Each call checks its arguments (window, mode and thread parameters through
:mod:`poolcli.spec.parameters`, the one check every layer shares; the array, its
axes and its dtype here), places the windows along the two spatial axes
(:mod:`.geometry`) and hands the rest to the band scheduler (:mod:`.bands`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import InputError, ParameterError
from ..spec.bands import RowBand
from ..spec.modes import PoolMode
from ..spec.parameters import check_threads, pair, window
from . import volumes
from .bands import run
from .geometry import adaptive_windows, banded, regular_windows
from .nodata import check_nodata, pool_valid
from .reduction import Reduction
from .volumes import check_kernel_count, spatial_count


def pool(
    x: np.ndarray,
    kernel: int | tuple[int, ...],
    *,
    stride: int | tuple[int, ...] | None = None,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
    mode: str | PoolMode = "max",
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor: int | None = None,
    p: float = 2.0,
    axes: tuple[int, ...] = (0, 1),
    channel_axis: int | None = None,
    threads: int | None = None,
    band: RowBand | None = None,
    nodata: object = None,
    min_valid: float = 0.0,
    _ignore: object = None,
) -> np.ndarray:
    """Pool the spatial ``axes`` of ``x`` (two by default) with windows of size ``kernel``.

    Semantics follow PyTorch's ``MaxPool2d`` / ``AvgPool2d`` / ``LPPool2d`` (and their
    1-d and 3-d kin for one or three ``axes``); every other axis (channels, frames,
    batch) is pooled independently.

    Parameters
    ----------
    x : (..., H, ..., W, ...) array_like
        Any dtype in :data:`poolcli.pooling.numeric.SUPPORTED`, two or more dims.
        Never modified.
    kernel, stride, padding, dilation : int or tuple of one int per axis in ``axes``
        Window size, step (default: the kernel), zero padding on each side (at most
        half the kernel) and spacing between taps: ``(h, w)`` for images, ``(w,)``
        for signals, ``(d, h, w)`` for volumes.
    mode : {'max', 'min', 'avg', 'sum', 'lp', 'rms', 'median', 'mode'}
        How a window is reduced (see :class:`PoolMode`).
    ceil_mode : bool
        Keep a last, partial window (PyTorch's ``ceil_mode``).
    count_include_pad : bool
        ``avg``/``rms``: divide by the window area including padding (default, as
        PyTorch), or by the number of real pixels only.
    divisor : int, optional
        ``avg`` only: divide every window sum by this instead.
    p : float
        ``lp`` only: the power; ``(sum of x**p) ** (1/p)``.
    axes : (int, int), (int,) or (int, int, int)
        The spatial axes, outermost first: (height, width) by default; one axis pools
        a signal, three a volume (depth, height, width).
    channel_axis : int, optional
        ``mode`` only: the axis holding a pixel's channels, so that whole pixels vote
        and the result holds only colours that occur in the window.
    threads : int, optional
        Worker threads; default: all cores. Results are identical for any count.
    band : RowBand, optional
        Compute only output rows ``band.start:band.stop`` of an input ``band.length``
        rows tall; ``x`` then holds just the input rows they read
        (:func:`poolcli.pooling.streaming.band_input` says which). The rows equal
        the same rows of the whole result, byte for byte: this is how inputs larger
        than memory are pooled a band at a time. With three ``axes`` the rows are
        depth slices (slabs of a volume).
    nodata : number, optional
        Pixels of this value (``float('nan')``: NaN pixels) count in no window, nor in
        any divisor; a window with none valid (or, with ``min_valid``, fewer than
        that fraction of its real pixels) gives ``nodata``, and a valid window whose
        value lands on it moves one step away. See :mod:`poolcli.pooling.nodata`.
    min_valid : float
        With ``nodata``: the fraction of a window's real pixels that must be valid.
        Volumes (three ``axes``) leave nodata voxels out the same way (see
        :mod:`poolcli.pooling.volume_valid`).

    Returns
    -------
    ndarray
        A new C-contiguous array: the spatial axes shrunk to
        :func:`output_shape`, the dtype kept except ``sum`` (integers widen to
        int64/uint64). Integer means are exact and rounded half up; NaN wins
        ``max``/``min``; padding never does.

    Raises
    ------
    ParameterError
        Parameters no input could satisfy (kernel < 1, padding over half the kernel...).
    InputError
        An input they do not fit (kernel larger than the image, unsupported dtype).

    Examples
    --------
    >>> import numpy as np
    >>> pool(np.arange(16).reshape(4, 4), 2)
    array([[ 5,  7],
           [13, 15]])
    >>> pool(np.array([[1, 2], [3, 5]], np.uint8), 2, mode="avg")  # 11/4 = 2.75
    array([[3]], dtype=uint8)
    >>> pool(np.arange(8).reshape(2, 2, 2), 2, axes=(0, 1, 2), mode="sum")  # a volume
    array([[[28]]])
    """
    if spatial_count(axes) != 2:
        return volumes.pool(
            x, kernel, axes=axes, planes=pool, stride=stride, padding=padding,
            dilation=dilation, mode=mode, ceil_mode=ceil_mode,
            count_include_pad=count_include_pad, divisor=divisor, p=p,
            channel_axis=channel_axis, threads=threads, band=band, nodata=nodata,
            min_valid=min_valid, _ignore=_ignore,
        )  # fmt: skip
    if type(kernel) is not int:
        check_kernel_count(kernel, axes)
    mode = PoolMode.parse(mode)
    k, s, pad, d = window(kernel, stride, padding, dilation)
    # _ignore (median, mode): values that count in no window; the image layer's, for
    # invisible pixels (not public: nodata for every mode is a feature of its own)
    reduction = Reduction.make(mode, count_include_pad, divisor, p, pad, _ignore)
    threads = check_threads(threads)
    x, axes, channel_axis = _prepare(x, axes, channel_axis)
    height = x.shape[axes[0]] if band is None else band.length
    gh = regular_windows(height, k[0], s[0], pad[0], d[0], ceil_mode, axis=axes[0])
    gw = regular_windows(x.shape[axes[1]], k[1], s[1], pad[1], d[1], ceil_mode, axis=axes[1])
    gh = banded(gh, band, x.shape[axes[0]])
    if nodata is not None:
        value, fraction = check_nodata(nodata, min_valid, x.dtype)
        return pool_valid(x, axes, channel_axis, gh, gw, reduction, threads, value, fraction)
    return run(x, axes, channel_axis, gh, gw, reduction, threads)


def adaptive_pool(
    x: np.ndarray,
    output_size: int | tuple[int | None, ...],
    *,
    mode: str | PoolMode = "avg",
    p: float = 2.0,
    axes: tuple[int, ...] = (0, 1),
    channel_axis: int | None = None,
    threads: int | None = None,
    band: RowBand | None = None,
    nodata: object = None,
    min_valid: float = 0.0,
    _ignore: object = None,
) -> np.ndarray:
    """Pool ``x`` down to exactly ``output_size`` (h, w), as PyTorch's adaptive pooling;
    None on a side keeps that axis's length, as PyTorch's ``(None, 7)`` does. With one
    or three ``axes`` (a signal, a volume), ``output_size`` has one or three sides.

    Output ``i`` of an axis of ``n`` pixels covers ``floor(i*n/out)`` up to
    ``ceil((i+1)*n/out)``; windows may overlap by one pixel and differ in size by
    one. Every mode of :func:`pool` is available, and ``nodata``/``min_valid`` as
    there; means divide by each window's own pixel count. ``band`` computes some
    output rows only, as in :func:`pool`.

    Raises
    ------
    InputError
        When an output side is larger than the input's (poolcli only downsamples).

    Examples
    --------
    >>> import numpy as np
    >>> adaptive_pool(np.arange(15.0).reshape(3, 5), (1, 2))  # columns 0-2 and 2-4
    array([[6., 8.]])
    >>> adaptive_pool(np.arange(5.0), 2, axes=(0,))  # a signal: 0-2 and 2-4
    array([1., 3.])
    """
    if spatial_count(axes) != 2:
        return volumes.adaptive_pool(
            x, output_size, axes=axes, planes=adaptive_pool, mode=mode, p=p,
            channel_axis=channel_axis, threads=threads, band=band, nodata=nodata,
            min_valid=min_valid, _ignore=_ignore,
        )  # fmt: skip
    mode = PoolMode.parse(mode)
    out_h, out_w = _output_size(output_size)
    reduction = Reduction.make(mode, True, None, p, (0, 0), _ignore)
    threads = check_threads(threads)
    x, axes, channel_axis = _prepare(x, axes, channel_axis)
    height = x.shape[axes[0]] if band is None else band.length
    out_h = height if out_h is None else out_h
    out_w = x.shape[axes[1]] if out_w is None else out_w
    gh = adaptive_windows(height, out_h, axis=axes[0])
    gw = adaptive_windows(x.shape[axes[1]], out_w, axis=axes[1])
    gh = banded(gh, band, x.shape[axes[0]])
    if nodata is not None:  # as in pool()
        value, fraction = check_nodata(nodata, min_valid, x.dtype)
        return pool_valid(x, axes, channel_axis, gh, gw, reduction, threads, value, fraction)
    return run(x, axes, channel_axis, gh, gw, reduction, threads)


def output_shape(
    shape: Sequence[int],
    kernel: int | tuple[int, ...],
    *,
    stride: int | tuple[int, ...] | None = None,
    padding: int | tuple[int, ...] = 0,
    dilation: int | tuple[int, ...] = 1,
    ceil_mode: bool = False,
    axes: tuple[int, ...] = (0, 1),
) -> tuple[int, ...]:
    """The shape :func:`pool` returns for an input of ``shape``, without pooling.

    >>> output_shape((480, 640, 3), 2)
    (240, 320, 3)
    >>> output_shape((7, 7), 2, ceil_mode=True)
    (4, 4)
    >>> output_shape((64, 512, 512), (1, 2, 2), axes=(0, 1, 2))
    (64, 256, 256)
    """
    if spatial_count(axes) != 2:
        return volumes.output_shape(
            shape, kernel, axes=axes, stride=stride, padding=padding, dilation=dilation,
            ceil_mode=ceil_mode,
        )  # fmt: skip
    if type(kernel) is not int:
        check_kernel_count(kernel, axes)
    k, s, pad, d = window(kernel, stride, padding, dilation)
    shape = tuple(int(n) for n in shape)
    axes = _normalise_axes(axes, len(shape))
    result = list(shape)
    for i, axis in enumerate(axes):
        windows = regular_windows(shape[axis], k[i], s[i], pad[i], d[i], ceil_mode, axis=axis)
        result[axis] = windows.out
    return tuple(result)


def _output_size(output_size: object) -> tuple[int | None, int | None]:
    """``output_size`` as (h, w); None on a side keeps that axis, as in PyTorch."""
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2 and None in output_size:
        sides = [1 if side is None else side for side in output_size]
        h, w = pair("output_size", sides)
        return (None if output_size[0] is None else h), (None if output_size[1] is None else w)
    return pair("output_size", output_size)


def _normalise_axes(axes: Sequence[int], ndim: int) -> tuple[int, int]:
    """The two spatial ``axes`` of an ``ndim``-d array as axis numbers from 0."""
    if ndim < 2:
        message = f"pooling needs an array of 2 or more dimensions, got {ndim}"
        raise InputError(message)
    try:
        a, b = (int(v) for v in axes)
    except (TypeError, ValueError):
        message = (
            "`axes` must be two distinct axis numbers (one or three for signals and "
            f"volumes), got {axes!r}"
        )
        raise ParameterError(message, parameter="axes", value=axes) from None
    if not (-ndim <= a < ndim and -ndim <= b < ndim) or a % ndim == b % ndim:
        message = f"`axes` must be two distinct axes of a {ndim}-d array, got {axes!r}"
        raise ParameterError(message, parameter="axes", value=axes)
    return a % ndim, b % ndim


def _prepare(
    x: np.ndarray, axes: Sequence[int], channel_axis: int | None
) -> tuple[np.ndarray, tuple[int, int], int | None]:
    """``x`` as the bands read it, its two spatial axes and channel axis as axis numbers."""
    x, spatial, channel_axis = volumes.prepare(x, axes, channel_axis, _normalise_axes)
    return x, (spatial[0], spatial[1]), channel_axis
