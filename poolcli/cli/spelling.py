"""How the command line says the library's parameters: ``divisor`` -> ``--divisor``.

Library messages name parameters in backticks (see :mod:`poolcli.errors`); the
command line renders them with :func:`flag` so that every message names the
option to type. A test checks that every flag named here is a real option.
"""

from __future__ import annotations

#: Names (or ``name=value`` pairs) whose flag is not ``--name-with-dashes``.
FLAGS = {
    "output": "-o",
    "workers": "-j",
    "recursive": "-r",
    "null": "-0",
    "count_include_pad": "--exclude-pad",
    "count_include_pad=false": "--exclude-pad",
    "save_options": "-O",
    "existing": "--overwrite or --skip-existing",
    "existing=overwrite": "--overwrite",
    "existing=skip": "--skip-existing",
}
#: Values that mean "this flag is on": the flag alone says it.
_ON = {"true"}


def flag(name: str, value: str | None) -> str:
    """``max_pixels``, ``none`` -> ``--max-pixels none``; ``recursive``, ``true`` -> ``-r``."""
    if value is not None and f"{name}={value}" in FLAGS:
        return FLAGS[f"{name}={value}"]
    option = FLAGS.get(name, "--" + name.replace("_", "-"))
    if value is None or value in _ON:
        return option
    return f"{option} {value}"
