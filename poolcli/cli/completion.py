"""What shells complete: file and folder names for paths, format names for --format.

Bash, zsh and fish get these through click's completion scripts
(``eval "$(_POOLCLI_COMPLETE=bash_source poolcli)"``): a ``click.Path`` value is
completed by the shell's own file-name completion, a callback's names as given.
"""

from __future__ import annotations

import click

#: Files and folders, or - (stdin, stdout): what shells complete file names for.
PATHS = click.Path(allow_dash=True)


def complete_formats(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """The --format names a shell completes: the core formats' extensions."""
    from ..images.formats import FORMATS

    names = {ext.lstrip(".") for f in FORMATS.values() if f.core for ext in f.extensions}
    return sorted(name for name in names if name.startswith(incomplete.lower()))
