"""Window parameters, checked: (h, w) pairs, their limits, and output lengths.

Plain Python, without NumPy, so that settings can be checked (and a command line
refused) before the engine loads.
"""

from __future__ import annotations

import operator
from typing import Any

from ..errors import ParameterError


def pair(name: str, value: object) -> tuple[int, int]:
    """``value`` as an (h, w) pair of ints; an int means the same on both axes."""
    # a 1-D NumPy array counts as a sequence
    sequence = isinstance(value, (tuple, list)) or getattr(value, "ndim", None) == 1
    items: list[Any] = list(value) if sequence else [value, value]  # type: ignore[call-overload]
    if len(items) != 2:
        message = f"{name} must be an int or an (h, w) pair of ints, got {value!r}"
        raise ParameterError(message)
    try:
        if any(isinstance(v, bool) for v in items):  # NumPy's bools refuse index() already
            raise TypeError
        h, w = (operator.index(v) for v in items)
    except TypeError:
        message = f"{name} must be an int or an (h, w) pair of ints, got {value!r}"
        raise ParameterError(message) from None
    return h, w


def check_window_parameters(
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
) -> None:
    """Raise :class:`ParameterError` for parameters no input could satisfy."""
    for name, values in (("kernel", kernel), ("stride", stride), ("dilation", dilation)):
        if min(values) < 1:
            message = f"{name} must be at least 1, got {_show(values)}"
            raise ParameterError(message)
    for k, p in zip(kernel, padding, strict=True):
        if p < 0 or p > k // 2:
            message = (
                f"padding must be between 0 and half the kernel (kernel {_show(kernel)} "
                f"allows at most {_show(tuple(k // 2 for k in kernel))}), got {_show(padding)}"
            )
            raise ParameterError(message)


def output_length(
    n: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """PyTorch's pooled length of an axis of ``n`` pixels (may be < 1: no window fits).

    ``floor_or_ceil((n + 2p - d(k-1) - 1) / s) + 1``; in ceil mode the last window is
    dropped when it would start at or past ``n + p``.
    """
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    if ceil_mode:
        out = -(-span // stride) + 1
        if (out - 1) * stride >= n + padding:
            out -= 1
    else:
        out = span // stride + 1
    return out


def _show(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else str(values)
