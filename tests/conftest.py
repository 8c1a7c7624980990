"""Shared fixtures. Qt runs offscreen; every test gets its own MODELDECK_HOME."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

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
