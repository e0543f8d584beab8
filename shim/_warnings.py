"""Warnings shown once per message, like Lightning's WarningCache."""

from __future__ import annotations

import warnings

_seen: set[str] = set()


def warn_once(message: str, category: type[Warning] = UserWarning) -> None:
    if message not in _seen:
        _seen.add(message)
        warnings.warn(message, category, stacklevel=3)
