"""The real main window, offscreen, over a copy of the demo cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import Qt

from app.services.browse import BrowseRequest, BrowseService
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui.main_window import MainWindow
from app.ui.pages.catalog.table_model import CatalogTableModel
from app.ui.pages.deployments.model import DeploymentsModel

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, demo_context: AppContext) -> Iterator[MainWindow]:
    w = MainWindow(demo_context)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    # the first screen paints at once; every model is in memory once the page is loaded
    qtbot.waitUntil(w.catalog_page.is_loaded, timeout=10_000)
    w.activateWindow()  # shortcuts reach only the active window
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    yield w
    w.shutdown()


def _shown(w: MainWindow) -> list[tuple[str, str]]:
    m = w.catalog_page.model
    return [(m.model_at(r).source, m.model_at(r).name) for r in range(m.rowCount())]


def test_window_opens_on_the_demo_catalog(window: MainWindow, demo_context: AppContext) -> None:
    assert window.windowTitle() == "Modeldeck"
    assert not window.windowIcon().isNull()
    assert window.catalog_page.model.rowCount() == demo_context.catalog.count() == 2000
    assert window.current_page == "catalog"
    assert window.catalog_page.header.subtitle.text() == "2,000 models"


def test_status_bar_says_how_fresh_the_cache_is(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: "mlflow-prod synced" in window.freshness.text(), timeout=5000)
    assert "2,000 models" in window.freshness.text()
    assert "mlflow-research synced" in window.freshness.text()


def test_typing_narrows_to_exactly_the_matching_models(
    qtbot, window: MainWindow, demo_context: AppContext
) -> None:
    page = window.catalog_page
    qtbot.keyClicks(page.search, "fraud tag:region=eu-west")
    expected = demo_context.catalog.search(
        "fraud tag:region=eu-west", sort="updated", descending=True
    )
    want = [(m.source, m.name) for m in expected]
    qtbot.waitUntil(lambda: _shown(window) == want, timeout=5000)
    assert 0 < len(want) < 2000
    assert page.header.subtitle.text() == f"{len(want):,} of 2,000 models match"


def test_no_match_says_so(qtbot, window: MainWindow) -> None:
    page = window.catalog_page
    page.search.setText("zzzz-no-such-thing")
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.no_match, timeout=5000)
    assert "zzzz-no-such-thing" in page.header.subtitle.text()


def test_sorting_by_a_column_header(qtbot, window: MainWindow) -> None:
    page = window.catalog_page
    header = page.table.horizontalHeader()
    header.sectionClicked.emit(0)  # Name
    qtbot.waitUntil(lambda: page._sort[0] == "name", timeout=2000)
    qtbot.waitUntil(
        lambda: (
            [n for _s, n in _shown(window)][:50] == sorted(n for _s, n in _shown(window))[:50]
            or [n for _s, n in _shown(window)][:50]
            == sorted((n for _s, n in _shown(window)), reverse=True)[:50]
        ),
        timeout=5000,
    )


def test_rail_and_shortcuts_switch_pages(qtbot, window: MainWindow) -> None:
    qtbot.mouseClick(window.rail_buttons["deployments"], Qt.MouseButton.LeftButton)
    assert window.current_page == "deployments"
    qtbot.waitUntil(lambda: window.deployments_page.model.rowCount() > 0, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "catalog"
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "activity"


def test_ctrl_f_focuses_search(qtbot, window: MainWindow) -> None:
    window.show_page("health")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "catalog"
    qtbot.waitUntil(window.catalog_page.search.hasFocus, timeout=2000)


def test_geometry_and_page_are_remembered(qtbot, demo_context: AppContext) -> None:
    first = MainWindow(demo_context)
    qtbot.addWidget(first)
    first.resize(1111, 777)
    first.show()
    first.show_page("deployments")
    first.close()
    first.shutdown()
    second = MainWindow(demo_context)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (1111, 777)
    assert second.current_page == "deployments"
    second.shutdown()


def test_catalog_loads_fully_even_when_the_window_opens_on_another_page(
    qtbot, demo_context: AppContext
) -> None:
    """The full load waits for the catalog's first paint; a window that opens on
    another page never paints the catalog, and must still load every model
    (the command palette's "Go to model" searches them)."""
    first = MainWindow(demo_context)
    qtbot.addWidget(first)
    first.show_page("activity")
    first.close()
    first.shutdown()
    second = MainWindow(demo_context)
    qtbot.addWidget(second)
    second.show()
    assert second.current_page == "activity"
    qtbot.waitUntil(second.catalog_page.is_loaded, timeout=10_000)
    assert not second.catalog_page.table.isVisible()
    assert second.catalog_page.total == demo_context.catalog.info().models
    second.shutdown()


def test_empty_cache_offers_demo_and_registry(qtbot, workspace: Workspace, monkeypatch) -> None:
    from app.ui.pages.backends.dialog import BackendDialog

    asked: list[object] = []
    monkeypatch.setattr(BackendDialog, "ask", classmethod(lambda cls, *a, **k: asked.append(k)))
    ctx = AppContext.build(workspace)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    page = w.catalog_page
    qtbot.waitUntil(lambda: page.stack.currentWidget() is page.empty, timeout=5000)
    labels = [b.text() for b in page.empty.buttons]
    assert labels == ["Open demo workspace", "Add a registry"]
    with qtbot.waitSignal(w.sig_demo_requested, timeout=1000):
        page.empty.buttons[0].click()
    page.empty.buttons[1].click()
    assert w.current_page == "backends"
    assert len(asked) == 1  # the add-backend dialog opened
    w.shutdown()
    ctx.close()


def test_set_aside_cache_is_announced_in_a_banner(qtbot, workspace: Workspace) -> None:
    workspace.cache_path.write_bytes(b"not sqlite" * 100)
    ctx = AppContext.build(workspace)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    assert w.banner.isVisible()
    assert "could not be used" in w.banner_text.text()
    w.shutdown()
    ctx.close()


def test_table_models_pass_the_model_tester(qtmodeltester, demo_context: AppContext) -> None:
    browse = BrowseService(demo_context.cache.path)
    index = browse.load()
    catalog = CatalogTableModel()
    catalog.set_view(index, browse.search(index, BrowseRequest()).rows[:200])
    qtmodeltester.check(catalog, force_py=True)
    browse.close()
    deployments = DeploymentsModel()
    deployments.set_deployments(demo_context.catalog.deployments())
    qtmodeltester.check(deployments, force_py=True)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_of_the_main_window(
    qtbot, demo_context: AppContext, artifacts_dir: Path, monkeypatch, scheme: str
) -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui import theme

    monkeypatch.setenv("MODELDECK_THEME", scheme)
    tokens = theme.apply(cast(QApplication, QApplication.instance()))
    try:
        w = MainWindow(demo_context)
        qtbot.addWidget(w)
        w.resize(1440, 900)
        w.show()
        w.show_page("catalog")
        qtbot.waitUntil(lambda: w.catalog_page.model.rowCount() == 2000, timeout=10_000)
        qtbot.waitUntil(w.catalog_page.is_loaded, timeout=10_000)
        qtbot.waitUntil(lambda: "synced" in w.freshness.text(), timeout=5000)
        shot = w.grab()
        path = artifacts_dir / f"main-window-{scheme}.png"
        assert shot.save(str(path))
        img = shot.toImage()
        # the page background really is the theme's, not a default grey
        assert img.pixelColor(700, 20).name() == tokens.window
        w.shutdown()
    finally:
        monkeypatch.setenv("MODELDECK_THEME", "light")
        theme.apply(cast(QApplication, QApplication.instance()))


def test_void_qt_calls_do_not_crash_the_interpreter(qtbot) -> None:
    """Guards the PySide6 6.12.0 none_dealloc crash on Python 3.11 (docs/performance.md):
    100,000 calls of void Qt methods in one process must not kill it."""
    from PySide6.QtWidgets import QLabel

    label = QLabel("x")
    qtbot.addWidget(label)
    for i in range(100_000):
        label.setToolTip("a" if i % 2 else "b")
        label.update()
    assert label.toolTip() == "a"
