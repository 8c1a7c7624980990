"""The GUI syncs real registries in the background and stays usable when they fail.

Real MLflow servers (session fixtures); a closed port and a port that accepts but
never answers stand for a dead and a hung registry (nothing else can play them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui.main_window import MainWindow
from tests.integration.mlflow_support import registry_counts, registry_db
from tests.integration.servers import ServerProcess, Silent, closed_port

pytestmark = [pytest.mark.integration, pytest.mark.gui]


def _window(qtbot, ctx: AppContext) -> MainWindow:
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    return w


def test_window_syncs_a_real_registry_on_start(
    qtbot, workspace: Workspace, mlflow_catalog: ServerProcess, artifacts_dir: Path
) -> None:
    models, _versions = registry_counts(registry_db("catalog"))  # the server reads a copy
    ctx = AppContext.build(workspace)
    ctx.backends.add(Backend("catalog", BackendKind.MLFLOW, mlflow_catalog.url))
    w = _window(qtbot, ctx)
    qtbot.waitUntil(
        lambda: w.catalog_page.stack.currentWidget() is w.catalog_page.empty, timeout=5000
    )
    with qtbot.waitSignal(w.sync.sig_finished, timeout=120_000) as finished:
        w.sync.start()
        qtbot.waitUntil(w.cancel_button.isVisible, timeout=10_000)
    (result,) = finished.args[0]
    assert result.ok, result.error
    assert result.models_added == models
    qtbot.waitUntil(lambda: w.catalog_page.model.rowCount() == models, timeout=10_000)
    assert w.sync_message.text().startswith(f"catalog: {models:,} added (full")
    assert not w.cancel_button.isVisible()
    qtbot.waitUntil(lambda: "catalog synced just now" in w.freshness.text(), timeout=5000)
    w.grab().save(str(artifacts_dir / "main-window-after-sync.png"))
    w.shutdown()
    ctx.close()


def test_dead_registry_says_why_and_keeps_the_cache(
    qtbot, workspace: Workspace, demo_cache_file: Path
) -> None:
    shutil.copy(demo_cache_file, workspace.cache_path)
    ctx = AppContext.build(workspace)
    port = closed_port()
    ctx.backends.add(
        Backend("mlflow-prod", BackendKind.MLFLOW, f"http://127.0.0.1:{port}", timeout_s=2)
    )
    w = _window(qtbot, ctx)
    with qtbot.waitSignal(w.sync.sig_finished, timeout=60_000) as finished:
        assert w.sync.sync_now()
    (result,) = finished.args[0]
    assert not result.ok
    assert result.error_kind == "Unreachable"
    assert "mlflow-prod: sync failed" in w.sync_message.text()
    assert "refused" in w.sync_message.toolTip()
    qtbot.waitUntil(w.offline_badge.isVisible, timeout=5000)
    assert w.offline_badge.text() == "Offline: mlflow-prod"
    assert w.catalog_page.model.rowCount() == 2000  # the last good state, still browsable
    assert ctx.catalog.count() == 2000
    w.shutdown()
    ctx.close()


def test_hung_registry_never_freezes_the_window(
    qtbot, workspace: Workspace, demo_cache_file: Path
) -> None:
    shutil.copy(demo_cache_file, workspace.cache_path)
    ctx = AppContext.build(workspace)
    with Silent() as silent:
        ctx.backends.add(Backend("mlflow-prod", BackendKind.MLFLOW, silent.url, timeout_s=2))
        w = _window(qtbot, ctx)
        qtbot.waitUntil(lambda: w.catalog_page.model.rowCount() == 2000, timeout=10_000)
        assert w.sync.sync_now()
        # while the registry hangs, the catalog still answers every keystroke
        qtbot.keyClicks(w.catalog_page.search, "fraud")
        want = ctx.catalog.count("fraud")
        qtbot.waitUntil(lambda: w.catalog_page.model.rowCount() == want, timeout=5000)
        assert w.sync.running
        with qtbot.waitSignal(w.sync.sig_finished, timeout=90_000) as finished:
            w.cancel_button.click()
        (result,) = finished.args[0]
        assert not result.ok
        assert result.cancelled or result.error_kind == "Unreachable"
    w.shutdown()
    ctx.close()
