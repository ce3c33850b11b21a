"""``StrEnum``: enum members that are their values, as strings (Python 3.11's
``enum.StrEnum``, for 3.10 too). Every choice poolcli offers is one."""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """An enum of strings whose members print as their values (``str(PoolMode.MAX)``
    is ``'max'``), so they go straight into messages, JSON and command lines."""

    def __str__(self) -> str:
        return self.value
