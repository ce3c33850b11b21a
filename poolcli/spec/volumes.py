"""The depth of a volume pooling, and how 3-value sizes (``WxHxD``) split into it.

An image pooling's settings are (h, w) pairs; a volume's add a :class:`Depth`: the
kernel, stride, padding and dilation along the depth axis (the pages of a TIFF, the
``d`` of a ``dhw`` array), and the depth of an adaptive ``size``. Plain Python, as
the rest of :mod:`poolcli.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError


@dataclass(frozen=True)
class Depth:
    """The window along a volume's depth axis (``stride`` None: the kernel)."""

    kernel: int = 1
    stride: int | None = None
    padding: int = 0
    dilation: int = 1
    #: Adaptive pooling's output depth (None: the depth is kept, or windows are used).
    size: int | None = None

    @property
    def effective_stride(self) -> int:
        return self.kernel if self.stride is None else self.stride


#: A depth that changes nothing: a volume pooled slice by slice.
FLAT = Depth()


def split_depth(values: dict[str, Any]) -> tuple[dict[str, Any], Depth | None]:
    """Window values as parsed (``(h, w)`` pairs or ``(d, h, w)`` triples; ``size`` as
    ``(w, h)`` or ``(w, h, d)``) -> the (h, w) pairs and the :class:`Depth`, None when
    no value has three sides.

    With a triple anywhere, a pair must be one number on both sides (``2``, which
    then means every axis): ``3x2`` says nothing of depth.
    """
    triples = [name for name, value in values.items() if value is not None and len(value) == 3]
    if not triples:
        return values, None
    pairs: dict[str, Any] = {}
    depth: dict[str, int | None] = {}
    for name, value in values.items():
        if value is None:
            pairs[name] = None
            continue
        if name == "size":
            if len(value) == 3:
                pairs[name], depth[name] = value[:2], value[2]
            else:
                pairs[name], depth[name] = value, None
            continue
        if len(value) == 3:
            pairs[name], depth[name] = value[1:], value[0]
        elif value[0] == value[1]:
            pairs[name], depth[name] = value, value[0]
        else:
            message = (
                f"`{name}` is WxH while `{triples[0]}` is WxHxD (a volume): give `{name}` as "
                "N (every axis) or WxHxD"
            )
            raise ParameterError(message, parameter=name, value=value)
    return pairs, Depth(
        kernel=depth.get("kernel") or 1,
        stride=depth.get("stride"),
        padding=depth.get("padding") or 0,
        dilation=depth.get("dilation") or 1,
        size=depth.get("size"),
    )
