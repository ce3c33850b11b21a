"""``python -m poolcli``: the same as the ``poolcli`` command."""

from .cli import main

if __name__ == "__main__":
    main()
