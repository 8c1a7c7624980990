"""The model page's registry writes without a real registry: a read-only (demo)
registry shows every write action disabled with the reason, and a registry that cannot
be reached shows the plan's one-line error, then keeps its writes off with "Offline"
(nothing queued). The real-MLflow round trips are in
tests/integration/test_model_governance_gui.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QToolButton

from app.domain.models import Backend, BackendKind, ModelVersion, RegisteredModel, SourceState
from app.services import demo
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.store import queries
from app.ui.main_window import MainWindow
from app.ui.pages.catalog.model_page import ModelPage
from app.ui.pages.catalog.promotion_dialog import PromotionDialog
from app.ui.pages.catalog.writes import CHECKING
from tests.integration.servers import closed_port

pytestmark = pytest.mark.gui


def _open(qtbot, w: MainWindow, source: str, name: str) -> ModelPage:
    page = w.catalog_page.open_model(source, name)
    qtbot.waitUntil(lambda: page.detail is not None, timeout=10_000)
    qtbot.waitUntil(
        lambda: page.writes.access.source == source and page.writes.access.blocked != CHECKING,
        timeout=10_000,
    )
    return page


def _menu_texts(button: QToolButton) -> list[tuple[str, bool, str]]:
    menu = button.menu()
    assert menu is not None
    return [(a.text(), a.isEnabled(), a.toolTip()) for a in menu.actions() if a.text()]


# ------------------------------------------------------------------ read-only (demo)
@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.under(tmp_path_factory.mktemp("gov-demo"))
    demo.create(ws.demo, 300)
    return ws.demo


@pytest.fixture
def demo_window(qtbot, demo_ws: Workspace) -> Iterator[MainWindow]:
    ctx = AppContext.build(demo_ws)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    qtbot.waitUntil(w.catalog_page.is_loaded, timeout=20_000)
    yield w
    w.shutdown()
    ctx.close()


def test_a_read_only_registry_disables_every_write_with_the_reason(
    qtbot, demo_window: MainWindow, artifacts_dir: Path
) -> None:
    w = demo_window
    found = w.context.catalog.search("alias:champion")
    assert found
    m = found[0]
    page = _open(qtbot, w, m.source, m.name)
    access = page.writes.access
    assert access.capabilities == frozenset()
    assert not access.blocked
    reason = "this registry cannot"
    # model card, model tags, version description, version tags: disabled, saying why
    assert not page.card_editor.edit_button.isEnabled()
    assert reason in page.card_editor.edit_button.toolTip()
    assert "read-only" in page.card_editor.edit_button.toolTip()
    assert page.add_tag is not None
    assert not page.add_tag.isEnabled()
    assert "set or remove tags on a model" in page.add_tag.toolTip()
    pills = [b for b in page.chips.widgets() if b.objectName().startswith("aliasPill")]
    assert pills
    entries = _menu_texts(pills[0])  # type: ignore[arg-type]
    moves = [e for e in entries if e[0].startswith(("Move", "Remove"))]
    assert moves
    assert all(not enabled and reason in tip for _t, enabled, tip in moves)
    # the menu says why in a line of its own
    assert any(reason in text and not enabled for text, enabled, _tip in entries)
    page.tabs.setCurrentIndex(1)
    page.versions_table.selectRow(0)
    panel = page.version_panel
    assert panel.version is not None
    assert not panel.description.edit_button.isEnabled()
    assert "edit a version's description" in panel.description.edit_button.toolTip()
    add = panel.tags.widgets()[-1]
    assert not add.isEnabled()
    assert "set or remove tags on a version" in add.toolTip()
    w.grab().save(str(artifacts_dir / "gov-read-only-demo.png"))


# ------------------------------------------------------------------ unreachable
@pytest.fixture
def down_window(qtbot, workspace: Workspace) -> Iterator[MainWindow]:
    """A registry on a closed port, with one model cached from an earlier sync."""
    ctx = AppContext.build(workspace)
    ctx.backends.add(Backend("reg-down", BackendKind.MLFLOW, f"http://127.0.0.1:{closed_port()}"))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    model = RegisteredModel(
        "reg-down", "scorer", "# Scorer", {"team": "risk"}, {"champion": "1"}, updated_at=now
    )
    versions = [
        ModelVersion("reg-down", "scorer", v, aliases=("champion",) if v == "1" else ())
        for v in ("2", "1")
    ]
    with ctx.cache.write() as con:
        queries.upsert_models(con, [model], {"scorer": versions})
        queries.save_source(con, SourceState("reg-down", "mlflow", last_sync_at=now))
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    qtbot.waitUntil(w.catalog_page.is_loaded, timeout=20_000)
    yield w
    w.shutdown()
    ctx.close()


def test_an_unreachable_registry_says_so_in_place_and_turns_writes_off(
    qtbot, down_window: MainWindow
) -> None:
    w = down_window
    page = _open(qtbot, w, "reg-down", "scorer")
    assert page.add_tag is not None
    assert page.add_tag.isEnabled()  # the last sync reached it: try, and say what failed
    version = page.versions.row_at(0)
    assert version.version == "2"
    move = next(e for e in page.writes.version_menu(version) if e is not None)
    assert move[0] == "Move champion here (v1 → v2)…"
    move[1]()
    dialog = page.writes.dialog
    assert isinstance(dialog, PromotionDialog)
    qtbot.waitUntil(lambda: dialog.status.text().startswith("✗"), timeout=30_000)
    line = dialog.status.text()
    assert "reg-down" in line
    assert "\n" not in line
    assert not dialog.confirm.isEnabled()
    # nothing queued: every write action is off now, and says why
    qtbot.waitUntil(lambda: page.add_tag is not None and not page.add_tag.isEnabled(), timeout=5000)
    assert page.add_tag.toolTip().startswith("Offline: reg-down could not be reached")
    assert "never queued" in page.add_tag.toolTip()
    assert not page.card_editor.edit_button.isEnabled()
    dialog.close()


def test_a_failed_last_sync_marks_the_registry_offline_before_any_attempt(
    qtbot, down_window: MainWindow
) -> None:
    w = down_window
    with w.context.cache.write() as con:
        queries.save_source(
            con,
            SourceState(
                "reg-down",
                "mlflow",
                last_sync_at=datetime(2026, 11, 1, tzinfo=UTC),
                last_error="reg-down: cannot connect to 127.0.0.1 (connection refused)",
            ),
        )
    page = _open(qtbot, w, "reg-down", "scorer")
    assert page.add_tag is not None
    assert not page.add_tag.isEnabled()
    assert "Offline: reg-down could not be reached" in page.add_tag.toolTip()
    assert "connection refused" in page.add_tag.toolTip()
