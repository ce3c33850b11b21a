"""``StrEnum``: enum members that are their values, as strings. Every choice poolcli
offers is one, so it goes straight into messages, JSON and command lines."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["StrEnum"]
