"""Names a package exports, imported on first use.

``poolcli --help`` must answer without loading NumPy or Pillow, so packages export
their public names lazily: ``__getattr__, __dir__ = lazy_exports(__name__, homes)``
at the end of a package's ``__init__``, where ``homes`` maps each name to the
module (relative to the package) that defines it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose ``homes`` say where each
    exported name lives (``{"pool": ".engine"}``). A name is imported once, then kept
    in the package like any other attribute."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            message = f"module {package!r} has no attribute {name!r}"
            raise AttributeError(message)
        value = getattr(import_module(home, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*homes, *vars(sys.modules[package])})

    return __getattr__, __dir__
