"""GUI tests run offscreen with a fixed theme and font, so screenshots are comparable."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MODELDECK_THEME", "light")


@pytest.fixture(scope="session")
def qapp_cls():  # pytest-qt: build our QApplication (theme, icon, app id)
    from PySide6.QtWidgets import QApplication

    class ModeldeckApp(QApplication):
        def __init__(self, argv: list[str]) -> None:
            super().__init__(argv)
            from app.ui import theme

            theme.apply(self)

    return ModeldeckApp
