"""The command line: click only. :mod:`.app` holds the commands, :mod:`.options` the
options they share, :mod:`.arguments` what they parse into, :mod:`.console` how
they print, :mod:`.spelling` how they name the library's parameters.

``poolcli.launch`` (outside this package) is the console script: it starts before
click loads.
"""

from __future__ import annotations

from .app import cli, main

__all__ = ["cli", "main"]
