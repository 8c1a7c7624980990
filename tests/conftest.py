"""Shared fixtures. Qt runs offscreen; every test gets its own MODELDECK_HOME."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("MODELDECK_THEME", "light")
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    # Offscreen Qt with a 1920x1200 virtual screen at 96 dpi (the default is 800x800),
    # so 1440x900 windows and restored geometry are not clamped.
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

from app.services.context import AppContext
from app.services.demo import generate
from app.services.workspace import Workspace
from app.store.db import Cache

DEMO_NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh MODELDECK_HOME for one test (config, cache, logs all under it)."""
    root = tmp_path / "home"
    monkeypatch.setenv("MODELDECK_HOME", str(root))
    return root


@pytest.fixture
def workspace(home: Path) -> Workspace:
    return Workspace.resolve(home).ensure()


@pytest.fixture(scope="session")
def demo_cache_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2,000-model demo cache, generated once per session; copy it, don't write to it."""
    path = tmp_path_factory.mktemp("demo") / "cache.sqlite"
    cache = Cache.open(path)
    generate(cache, 2000, now=DEMO_NOW)
    cache.close()  # the last connection's close checkpoints the WAL into the file
    return path


@pytest.fixture
def demo_workspace(workspace: Workspace, demo_cache_file: Path) -> Workspace:
    """A workspace whose cache is a private copy of the session's demo cache."""
    shutil.copy(demo_cache_file, workspace.cache_path)
    return workspace


@pytest.fixture
def demo_context(demo_workspace: Workspace) -> Iterator[AppContext]:
    ctx = AppContext.build(demo_workspace)
    yield ctx
    ctx.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots and other test artifacts go (kept after the run)."""
    path = Path(os.environ.get("MODELDECK_ARTIFACTS", "artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def qapp_cls():  # pytest-qt: our QApplication (theme applied), for every test that uses Qt
    from PySide6.QtWidgets import QApplication

    class ModeldeckApp(QApplication):
        def __init__(self, argv: list[str]) -> None:
            super().__init__(argv)
            from app.ui import theme

            theme.apply(self)

    return ModeldeckApp
