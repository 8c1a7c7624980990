"""GUI tests run offscreen with a fixed theme and font, so screenshots are comparable."""

from __future__ import annotations

import json
import os
import tempfile

import pytest

os.environ.setdefault("MODELDECK_THEME", "light")
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    # A 1920x1200 virtual screen at 96 dpi (the offscreen default is 800x800), so
    # 1440x900 windows and restored geometry are not clamped.
    _screen = os.path.join(tempfile.gettempdir(), "modeldeck-test-screen.json")
    with open(_screen, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "windowFrameMargins": False,
                "screens": [
                    {
                        "name": "modeldeck-test",
                        "x": 0,
                        "y": 0,
                        "width": 1920,
                        "height": 1200,
                        "logicalDpiX": 96,
                        "logicalDpiY": 96,
                        "dpr": 1,
                    }
                ],
            },
            fh,
        )
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_screen}"


@pytest.fixture(scope="session")
def qapp_cls():  # pytest-qt: build our QApplication (theme, icon, app id)
    from PySide6.QtWidgets import QApplication

    class ModeldeckApp(QApplication):
        def __init__(self, argv: list[str]) -> None:
            super().__init__(argv)
            from app.ui import theme

            theme.apply(self)

    return ModeldeckApp
