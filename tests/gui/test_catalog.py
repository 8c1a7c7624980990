"""The catalog browser over the 2,000-model demo cache: search, facets, sort, model
page, compare, palette, table models, and screenshots in light and dark."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.domain.health import HealthStatus, KnownStatus
from app.domain.models import Deployment
from app.services.browse import BrowseRequest, BrowseService, CatalogIndex
from app.services.context import AppContext
from app.store import health as health_store
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.pages.catalog.compare import CompareModel, compare_fields
from app.ui.pages.catalog.facets import FacetModel
from app.ui.pages.catalog.model_page import VersionsModel
from app.ui.pages.catalog.page import CatalogPage
from app.ui.pages.catalog.table_model import HEALTH_ROLE, NAME_COL

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, demo_context: AppContext) -> Iterator[MainWindow]:
    w = MainWindow(demo_context)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    qtbot.waitUntil(w.catalog_page.is_loaded, timeout=10_000)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    yield w
    w.shutdown()


def _shown(w: MainWindow) -> set[tuple[str, str]]:
    m = w.catalog_page.model
    return {m.key_at(r) for r in range(m.rowCount())}


def _sql(ctx: AppContext, where: str, *args: object) -> set[tuple[str, str]]:
    con = sqlite3.connect(ctx.cache.path)
    try:
        return {
            (r[0], r[1]) for r in con.execute(f"SELECT source, name FROM models m {where}", args)
        }
    finally:
        con.close()


def test_typing_narrows_to_exactly_the_fts_matches(qtbot, window: MainWindow, demo_context) -> None:
    page = window.catalog_page
    qtbot.keyClicks(page.search, "fraud char")
    want = _sql(
        demo_context,
        "WHERE id IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ?)",
        '"fraud"* "char"*',
    )
    qtbot.waitUntil(lambda: _shown(window) == want, timeout=5000)
    assert 0 < len(want) < 2000
    assert page.last_result is not None
    assert page.last_result.terms == ("fraud", "char")


def test_field_syntax_matches_the_cache(qtbot, window: MainWindow, demo_context) -> None:
    page = window.catalog_page
    page.search.setText("tag:team=nlp alias:champion flavor:onnx")
    want = {
        (m.source, m.name)
        for m in demo_context.catalog.search("tag:team=nlp alias:champion flavor:onnx")
    }
    qtbot.waitUntil(lambda: _shown(window) == want, timeout=5000)
    assert want


def test_facets_combine_with_search_and_counts_are_right(
    qtbot, window: MainWindow, demo_context
) -> None:
    page = window.catalog_page
    facets = page.facet_panel.facets
    # the counts follow the table by one event-loop turn
    with qtbot.waitSignal(page.sig_counts_updated, timeout=5000):
        page.search.setText("fraud")
    fraud = {(m.source, m.name) for m in demo_context.catalog.search("fraud")}
    owners = _sql(demo_context, "WHERE owner = ?", "ana.silva")
    # the count shown for a value is what clicking it will show
    assert facets.count_of("owner", "ana.silva") == len(fraud & owners)
    facets.toggle("owner", "ana.silva")
    qtbot.waitUntil(lambda: _shown(window) == fraud & owners, timeout=5000)
    # values of one facet OR, facets AND
    with qtbot.waitSignal(page.sig_counts_updated, timeout=5000):
        facets.toggle("owner", "bo.chen")
    both = owners | _sql(demo_context, "WHERE owner = ?", "bo.chen")
    assert _shown(window) == fraud & both
    deployed = _sql(
        demo_context,
        "WHERE EXISTS (SELECT 1 FROM deployments d WHERE d.model_name = m.name "
        "AND (d.model_source IS NULL OR d.model_source = m.source))",
    )
    assert facets.count_of("deployed", "yes") == len(fraud & both & deployed)
    facets.toggle("deployed", "yes")
    qtbot.waitUntil(lambda: _shown(window) == fraud & both & deployed, timeout=5000)
    page.clear_filters.click()
    qtbot.waitUntil(lambda: _shown(window) == fraud, timeout=5000)


def _remember(ctx: AppContext, statuses: list[tuple[Deployment, HealthStatus]]) -> None:
    """Statuses as a health poll leaves them in the cache (``known_statuses``)."""
    with ctx.cache.write() as con:
        health_store.save_statuses(
            con, [KnownStatus(d.target, d.app, s, "", 0.0) for d, s in statuses]
        )


def _health(page: CatalogPage, source: str | None, name: str) -> object:
    assert source is not None
    row = page.model.row_of(source, name)
    assert row is not None
    return page.model.index(row, NAME_COL).data(HEALTH_ROLE)


def test_health_dots_show_known_statuses_then_each_poll(qtbot, demo_context: AppContext) -> None:
    failing, healthy, unknown = demo_context.catalog.deployments()[:3]
    _remember(demo_context, [(failing, HealthStatus.FAILING), (healthy, HealthStatus.HEALTHY)])
    w = MainWindow(demo_context)
    qtbot.addWidget(w)
    page = w.catalog_page
    qtbot.waitUntil(page.is_loaded, timeout=10_000)
    # the last statuses in the cache, read on a worker after the load
    qtbot.waitUntil(
        lambda: _health(page, failing.model_source, failing.model_name) == HealthStatus.FAILING,
        timeout=5000,
    )
    assert _health(page, healthy.model_source, healthy.model_name) == HealthStatus.HEALTHY
    # a deployed model whose status nobody knows, and a model that is not deployed: no dot
    assert _health(page, unknown.model_source, unknown.model_name) is None
    index = page._index
    assert index is not None
    idle = index.deployed_on.index("")
    assert _health(page, index.source[idle], index.name[idle]) is None
    # the health page's poll replaces them (the demo has no metrics source: unknown)
    health = w.page("health")
    qtbot.waitUntil(lambda: health.controller.last is not None, timeout=10_000)  # type: ignore[attr-defined]
    qtbot.waitUntil(
        lambda: _health(page, failing.model_source, failing.model_name) == HealthStatus.UNKNOWN,
        timeout=5000,
    )
    assert _health(page, unknown.model_source, unknown.model_name) == HealthStatus.UNKNOWN
    assert _health(page, index.source[idle], index.name[idle]) is None
    w.shutdown()


@pytest.mark.parametrize(
    ("column", "descending"), [("name", False), ("owner", False), ("updated", True)]
)
def test_sort_order_matches_the_cache(
    qtbot, window: MainWindow, demo_context, column, descending
) -> None:
    page = window.catalog_page
    page.sort_by(column, descending)
    want = [
        (m.source, m.name)
        for m in demo_context.catalog.search("", sort=column, descending=descending)
    ]
    m = page.model
    qtbot.waitUntil(lambda: [m.key_at(r) for r in range(m.rowCount())] == want, timeout=5000)


def test_sort_is_remembered(qtbot, demo_context: AppContext) -> None:
    first = MainWindow(demo_context)
    qtbot.addWidget(first)
    qtbot.waitUntil(first.catalog_page.is_loaded, timeout=10_000)
    first.catalog_page.sort_by("owner", False)
    first.catalog_page.set_column_visible(5, False)
    first.close()
    first.shutdown()
    second = MainWindow(demo_context)
    qtbot.addWidget(second)
    assert second.catalog_page._sort == ("owner", False)
    assert second.catalog_page.table.isColumnHidden(5)
    second.shutdown()


def test_model_page_shows_every_version_and_compare_tints_differences(
    qtbot, window: MainWindow, demo_context
) -> None:
    page = window.catalog_page
    page.search.setText("fraud")
    qtbot.waitUntil(
        lambda: page.last_result is not None and page.last_result.query.text == "fraud",
        timeout=5000,
    )
    source, name = page.model.key_at(0)
    model_page = page.open_model(source, name)
    qtbot.waitUntil(lambda: model_page.detail is not None, timeout=5000)
    detail = demo_context.catalog.show(name, source)
    assert model_page.versions.rowCount() == len(detail.versions)
    assert [model_page.versions.row_at(r).version for r in range(len(detail.versions))] == [
        v.version for v in detail.versions
    ]
    assert model_page.title.text() == name
    assert model_page.deploy.isEnabled()
    assert model_page.deploy.toolTip()
    if len(detail.versions) >= 2:
        model_page.versions_table.selectAll()
        assert model_page.compare_button.isEnabled()
        view = model_page.compare(detail.versions[:2])
        assert view.model.columnCount() == 2
        assert view.model.differs("Run")  # every version has its own run
        assert not view.model.differs("Flavor")


def test_model_page_words_its_counts(qtbot, window: MainWindow, demo_context) -> None:
    """'1 version', not '1 versions'; Deploy's tooltip says what it does (it used to say
    deploying had not arrived yet) and counts the apps the model runs as."""
    page = window.catalog_page
    one = min(_sql(demo_context, "WHERE version_count = 1"))
    model_page = page.open_model(*one)
    qtbot.waitUntil(lambda: model_page.detail is not None, timeout=5000)
    assert "  ·  1 version  ·  " in model_page.meta.text()
    deployed = min(
        _sql(
            demo_context,
            "WHERE EXISTS (SELECT 1 FROM deployments d"
            " WHERE d.model_source = m.source AND d.model_name = m.name)",
        )
    )
    model_page = page.open_model(*deployed)
    qtbot.waitUntil(
        lambda: model_page.detail is not None and model_page.detail.model.name == deployed[1],
        timeout=5000,
    )
    assert model_page.detail is not None
    n = len(model_page.detail.deployments)
    assert model_page.deploy.toolTip() == (
        "Deploy a version of this model to a serving cluster; it runs as "
        f"{n} app{'s' if n != 1 else ''} now"
    )


def test_compare_marks_differing_fields() -> None:
    from app.domain.models import ModelVersion

    a = ModelVersion("s", "m", "1", run_id="r1", tags={"val_score": "0.9", "dataset": "x"})
    b = ModelVersion("s", "m", "2", run_id="r2", tags={"val_score": "0.95", "dataset": "x"})
    model = CompareModel(theme.LIGHT)
    model.set_rows([a, b], compare_fields([a, b], {"r1": ({"lr": "0.1"}, {"auc": 0.8})}))
    assert model.differs("tag · val_score")
    assert not model.differs("tag · dataset")
    assert model.differs("Run data")  # one fetched, one not
    assert model.numeric_fields() == ["tag · val_score", "metric · auc"]


def test_keyboard_list_to_page_and_back(qtbot, window: MainWindow) -> None:
    page = window.catalog_page
    page.focus_search()
    qtbot.keyClick(page.search, Qt.Key.Key_Down)
    assert page.table.hasFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: page.model_page is not None and page.model_page.detail is not None, timeout=5000
    )
    assert page.model_page is not None
    assert page.model_page.versions_table.hasFocus()
    qtbot.keyClick(page.model_page.versions_table, Qt.Key.Key_Escape)
    assert page.table.hasFocus()


def test_palette_runs_actions_and_goes_to_models(qtbot, window: MainWindow) -> None:
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    palette = window.palette
    assert palette is not None
    assert palette.isVisible()
    qtbot.keyClicks(palette.input, "gdep")
    assert palette.titles()[0] == "Go to Deploy"
    palette.input.setText("churn-pred")
    assert any(t.startswith("Go to model growth-") for t in palette.titles())
    qtbot.keyClick(palette.input, Qt.Key.Key_Return)
    page = window.catalog_page
    qtbot.waitUntil(
        lambda: page.model_page is not None and page.model_page.detail is not None, timeout=5000
    )
    assert page.model_page is not None
    assert "churn-pred" in page.model_page.title.text()


def test_table_models_pass_the_model_tester(qtmodeltester, demo_context: AppContext) -> None:
    browse = BrowseService(demo_context.cache.path)
    index = browse.load()
    facets = FacetModel()
    result = browse.search(index, BrowseRequest("fraud"))
    facets.set_facets({"owner": "Owner", "tag": "Tag"}, index.values, index.global_counts)
    facets.set_counts(result.counts)
    qtmodeltester.check(facets, force_py=True)
    detail = demo_context.catalog.show(index.name[result.rows[0]], index.source[result.rows[0]])
    versions = VersionsModel()
    versions.set_rows(detail.versions)
    qtmodeltester.check(versions, force_py=True)
    compare = CompareModel(theme.LIGHT)
    compare.set_rows(detail.versions[:3], compare_fields(detail.versions[:3], {}))
    qtmodeltester.check(compare, force_py=True)
    browse.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(
    qtbot, demo_context: AppContext, artifacts_dir: Path, monkeypatch, scheme: str
) -> None:
    monkeypatch.setenv("MODELDECK_THEME", scheme)
    theme.apply(cast(QApplication, QApplication.instance()))
    # a fleet as a poll leaves it: mostly healthy, some degraded or unknown, a few
    # failing — and among the models on the screenshot, one of each
    browse = BrowseService(demo_context.cache.path)
    index = browse.load()
    shown = browse.search(index, BrowseRequest("fraud eu", {"alias": frozenset({"champion"})}))
    on_screen = {(index.source[i], index.name[i]) for i in shown.rows[:20]}
    browse.close()
    mix = [HealthStatus.HEALTHY] * 5 + [HealthStatus.DEGRADED, HealthStatus.UNKNOWN]
    mix += [HealthStatus.HEALTHY] * 3 + [HealthStatus.FAILING]
    deployments = demo_context.catalog.deployments()
    first = [d for d in deployments if (d.model_source, d.model_name) in on_screen]
    assert len(first) >= 2
    rest = [d for d in deployments if d not in first]
    worst = [HealthStatus.FAILING, HealthStatus.DEGRADED]
    _remember(demo_context, [(d, (worst + mix)[i]) for i, d in enumerate(first)])
    _remember(demo_context, [(d, mix[i % len(mix)]) for i, d in enumerate(rest)])
    try:
        w = MainWindow(demo_context)
        qtbot.addWidget(w)
        w.resize(1440, 900)
        w.show()
        page = w.catalog_page
        qtbot.waitUntil(page.is_loaded, timeout=10_000)
        page.set_layout_mode("split")
        page.search.setText("fraud eu")
        with qtbot.waitSignal(page.sig_counts_updated, timeout=5000):
            page.facet_panel.facets.toggle("alias", "champion")
        assert page.last_result is not None
        assert page.last_result.query.text == "fraud eu"
        sub = page.header.subtitle
        qtbot.waitUntil(lambda: sub.width() >= sub.sizeHint().width(), timeout=2000)
        m = page.model
        dots = lambda: [m.index(r, NAME_COL).data(HEALTH_ROLE) for r in range(m.rowCount())]  # noqa: E731
        qtbot.waitUntil(lambda: HealthStatus.FAILING in dots(), timeout=5000)
        assert w.grab().save(str(artifacts_dir / f"catalog-search-{scheme}.png"))
        source, name = page.model.key_at(0)
        model_page = page.open_model(source, name)
        qtbot.waitUntil(lambda: model_page.detail is not None, timeout=5000)
        model_page.tabs.setCurrentIndex(1)
        assert w.grab().save(str(artifacts_dir / f"model-page-{scheme}.png"))
        page.set_layout_mode("full")
        assert model_page.detail is not None
        view = model_page.compare(model_page.detail.versions[:4])
        qtbot.waitUntil(lambda: view.plot is not None, timeout=10_000)
        qtbot.waitUntil(lambda: view.plot.isVisible() and view.plot.height() >= 140, timeout=5000)
        assert w.grab().save(str(artifacts_dir / f"compare-{scheme}.png"))
        w.shutdown()
    finally:
        monkeypatch.setenv("MODELDECK_THEME", "light")
        theme.apply(cast(QApplication, QApplication.instance()))


def test_keys_typed_while_the_catalog_is_still_indexing_apply_when_it_is_done(
    qtbot, demo_context: AppContext, monkeypatch
) -> None:
    """The first screen paints before the full index is built; what the user types
    meanwhile is kept, the header says why nothing narrows yet, and the results
    are exactly the matches once the index is ready."""
    import threading

    release = threading.Event()
    real_load = BrowseService.load

    def slow_load(self: BrowseService) -> CatalogIndex:
        release.wait(10)
        return real_load(self)

    monkeypatch.setattr(BrowseService, "load", slow_load)
    w = MainWindow(demo_context)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    page = w.catalog_page
    try:
        qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)  # first screen
        assert not page.is_loaded()
        qtbot.keyClicks(page.search, "fraud char")
        qtbot.waitUntil(lambda: "Indexing" in page.header.subtitle.text(), timeout=2000)
        assert page.search.text() == "fraud char"
        release.set()
        qtbot.waitUntil(page.is_loaded, timeout=10_000)
        expected = _sql(
            demo_context,
            "WHERE id IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ?)",
            '"fraud"* "char"*',
        )
        assert expected
        assert _shown(w) == expected
        assert page.header.subtitle.text().startswith(f"{len(expected):,} of ")
    finally:
        release.set()
        w.shutdown()
