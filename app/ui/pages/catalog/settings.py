"""Where the catalog keeps its sort, columns and layout."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSettings


class CatalogSettings:
    """QSettings when the window gives one, else a dict (tests of the bare page)."""

    def __init__(self, settings: QSettings | None) -> None:
        self._s = settings
        self._d: dict[str, Any] = {}

    def get(self, key: str, default: Any) -> Any:
        if self._s is None:
            return self._d.get(key, default)
        value = self._s.value(f"catalog/{key}", default)
        if isinstance(default, bool):
            return value in (True, "true", "1", 1)
        if isinstance(default, list):
            if value in (None, ""):
                return []
            return [value] if isinstance(value, str) else list(value)  # type: ignore[call-overload]
        return value

    def set(self, key: str, value: Any) -> None:
        if self._s is None:
            self._d[key] = value
        else:
            self._s.setValue(f"catalog/{key}", value)
