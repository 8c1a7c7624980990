"""The model page's governed registry writes against the session's REAL MLflow, driven
through the real widgets: an alias moved through the promotion dialog's policy gate
(refused without approvals, with the ✗ row and the reason on the disabled button;
allowed once another person approved; an override with a required reason), the
approvals panel (approve with a note, your approval shown with Revoke), a Conflict when
the alias moved upstream after the dialog opened, and tags and Markdown descriptions
round-tripping. What moved is read back through MLflow's own REST API; the pills
follow from the cache without a sync. Screenshots (light and dark) go to artifacts/."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QApplication, QFrame, QMenu, QToolButton

from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.ui import theme
from app.ui.main_window import MainWindow
from app.ui.pages.catalog.editors import fill_menu
from app.ui.pages.catalog.model_page import ModelPage
from app.ui.pages.catalog.promotion_dialog import PromotionDialog
from app.ui.pages.catalog.write_dialog import WriteDialog
from app.ui.pages.catalog.writes import CHECKING
from tests.integration.mlflow_support import Rest

pytestmark = [pytest.mark.integration, pytest.mark.gui]

POLICY = """
[[alias]]
name = "champion"
approvals = 1
four_eyes = true
require = ["description", "ready"]
override = "with-reason"
"""
ME = "ana.silva"


@dataclass
class Gui:
    w: MainWindow
    page: ModelPage
    rest: Rest
    model: str
    ctx: AppContext


def aliases(rest: Rest, model: str) -> dict[str, str]:
    got = rest.get("/registered-models/get", name=model)["registered_model"]
    return {a["alias"]: a["version"] for a in got.get("aliases", [])}


def model_tags(rest: Rest, model: str) -> dict[str, str]:
    got = rest.get("/registered-models/get", name=model)["registered_model"]
    return {t["key"]: t["value"] for t in got.get("tags", [])}


def version_of(rest: Rest, model: str, version: str) -> dict[str, Any]:
    got: dict[str, Any] = rest.get("/model-versions/get", name=model, version=version)[
        "model_version"
    ]
    return got


def approve_upstream(rest: Rest, model: str, version: str, who: str, note: str) -> None:
    """Another person's approval, written as their desktop would (a version tag)."""
    value = {"by": who, "at": "2026-11-01T09:30:00Z", "note": note, "verified_by": None}
    rest.post(
        "/model-versions/set-tag",
        {
            "name": model,
            "version": version,
            "key": f"modeldeck.approval.champion.{who}",
            "value": json.dumps(value),
        },
    )


def wait_planned(qtbot, dialog: Any) -> None:
    qtbot.waitUntil(lambda: dialog.planned is not None or dialog.error is not None, timeout=30_000)
    assert dialog.error is None, dialog.error


def wait_written(qtbot, dialog: Any) -> None:
    qtbot.waitUntil(lambda: dialog.outcome is not None or dialog.error is not None, timeout=30_000)
    assert dialog.error is None, dialog.error


def chip_texts(page: ModelPage) -> list[str]:
    return [b.text() for b in page.chips.widgets() if isinstance(b, QToolButton)]


def editing(card: Any) -> bool:
    return bool(card.editing)


def pill_texts(page: ModelPage) -> list[str]:
    return [
        " ".join(b.text().replace("▾", "").split())
        for b in page.chips.widgets()
        if isinstance(b, QToolButton) and b.objectName().startswith("aliasPill")
    ]


def menu_entry(entries: list[Any], text: str) -> Any:
    found = [e for e in entries if e is not None and e[0] == text]
    assert found, [e[0] for e in entries if e is not None]
    return found[0]


@contextmanager
def opened(qtbot, workspace: Workspace, mlflow_server: str, monkeypatch) -> Iterator[Gui]:
    """A model made in the real MLflow (v1-v3, champion at v1, a card), the policy
    installed, the window synced and the model page open with its write access read."""
    monkeypatch.setenv("LOGNAME", ME)  # the OS login the writes are made as (unverified)
    monkeypatch.setenv("USER", ME)
    rest = Rest(mlflow_server)
    model = f"gov-gui-{uuid.uuid4().hex[:6]}"
    rest.post("/registered-models/create", {"name": model, "description": "# Scorer\nScores."})
    for i in range(3):
        rest.post("/model-versions/create", {"name": model, "source": f"s3://b/{model}/{i}"})
    rest.patch(
        "/model-versions/update", {"name": model, "version": "2", "description": "retrained"}
    )
    rest.post("/registered-models/alias", {"name": model, "alias": "champion", "version": "1"})
    ctx = AppContext.build(workspace)
    ctx.backends.add(Backend("reg", BackendKind.MLFLOW, mlflow_server))
    policy = workspace.root / "policy-src.toml"
    policy.write_text(POLICY)
    ctx.governance.install_policy(policy)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    with qtbot.waitSignal(w.sync.sig_finished, timeout=120_000):
        assert w.sync.sync_now()
    qtbot.waitUntil(w.catalog_page.is_loaded, timeout=20_000)
    page = w.catalog_page.open_model("reg", model)
    qtbot.waitUntil(lambda: page.detail is not None, timeout=10_000)
    qtbot.waitUntil(
        lambda: page.writes.access.source == "reg" and page.writes.access.blocked != CHECKING,
        timeout=20_000,
    )
    assert page.writes.access.blocked == "", page.writes.access.blocked
    try:
        yield Gui(w, page, rest, model, ctx)
    finally:
        w.shutdown()
        ctx.close()
        rest.close()


@pytest.fixture
def gui(qtbot, workspace: Workspace, mlflow_server: str, monkeypatch) -> Iterator[Gui]:
    with opened(qtbot, workspace, mlflow_server, monkeypatch) as g:
        yield g


def version_row(page: ModelPage, version: str) -> int:
    return next(
        r for r in range(page.versions.rowCount()) if page.versions.row_at(r).version == version
    )


def open_move(qtbot, g: Gui, alias: str, version: str) -> PromotionDialog:
    row = g.page.versions.row_at(version_row(g.page, version))
    current = g.page.detail.model.aliases[alias] if g.page.detail else "?"
    entry = menu_entry(
        g.page.writes.version_menu(row), f"Move {alias} here (v{current} → v{version})…"
    )
    assert entry[2] == ""  # enabled
    entry[1]()
    dialog = g.page.writes.dialog
    assert isinstance(dialog, PromotionDialog)
    wait_planned(qtbot, dialog)
    return dialog


# ------------------------------------------------------------------ the gate
def test_an_alias_moves_through_the_gate_once_someone_else_approved(
    qtbot, gui: Gui, artifacts_dir: Path
) -> None:
    g, page = gui, gui.page
    assert pill_texts(page) == ["champion v1"]

    # gated, no approval: the ✗ row, a disabled confirm button naming the rule
    dialog = open_move(qtbot, g, "champion", "2")
    rows = {i.name: i for i in dialog.checklist.items}
    assert set(rows) == {"approvals", "description", "ready"}
    assert rows["approvals"].ok is False
    assert "no approval for champion — needs 1" in rows["approvals"].detail
    assert rows["description"].ok
    assert rows["ready"].ok
    assert not dialog.confirm.isEnabled()
    assert dialog.confirm.text() == "Move champion to v2"
    assert "policy rule 'champion'" in dialog.confirm.toolTip()
    assert "approvals" in dialog.confirm.toolTip()
    assert "Refused by the policy rule 'champion'" in dialog.status.text()
    assert dialog.override_button.isVisible()  # override = "with-reason"
    dialog.close()

    # approve it myself in the approvals panel (with a note)
    page.tabs.setCurrentIndex(1)
    page.versions_table.selectRow(version_row(page, "2"))
    panel = page.version_panel.approvals
    assert "champion" in panel.approve_buttons
    panel.approve_buttons["champion"].click()
    approve = page.writes.dialog
    assert isinstance(approve, WriteDialog)
    approve.fields["note"].setText("offline eval ok")
    qtbot.waitUntil(
        lambda: approve.planned is not None and approve.confirm.isEnabled(), timeout=30_000
    )
    assert approve.confirm.text() == "Approve v2 for champion"
    approve.confirm.click()
    wait_written(qtbot, approve)
    tags = {t["key"]: t["value"] for t in version_of(g.rest, g.model, "2").get("tags", [])}
    mine = json.loads(tags[f"modeldeck.approval.champion.{ME}"])
    assert (mine["by"], mine["note"], mine["verified_by"]) == (ME, "offline eval ok", None)
    qtbot.waitUntil(
        lambda: "champion" in page.version_panel.approvals.revoke_buttons, timeout=10_000
    )
    assert [a.actor for a in page.version_panel.approvals.rows] == [ME]
    approve.close()

    # four eyes: my own approval does not open the gate
    dialog = open_move(qtbot, g, "champion", "2")
    rows = {i.name: i for i in dialog.checklist.items}
    assert rows["approvals"].ok is False
    assert f"{ME}'s own does not count (four eyes)" in rows["approvals"].detail
    dialog.close()

    # someone else approves on their desktop; the dialog reads the registry itself
    approve_upstream(g.rest, g.model, "2", "bo.chen", "looks good")
    dialog = open_move(qtbot, g, "champion", "2")
    assert all(i.ok for i in dialog.checklist.items), dialog.checklist.text()
    assert "bo.chen" in {i.name: i for i in dialog.checklist.items}["approvals"].detail
    assert dialog.confirm.isEnabled()
    assert dialog.confirm.text() == "Move champion to v2"
    dialog.confirm.click()
    wait_written(qtbot, dialog)
    assert dialog.status.text().startswith("✓ champion: v1 → v2")
    assert dialog.cancel_button.text() == "Close"
    # the pills move from the cache, no sync
    qtbot.waitUntil(lambda: pill_texts(page) == ["champion v2"], timeout=10_000)
    assert aliases(g.rest, g.model) == {"champion": "2"}
    last = g.ctx.audit.list()[-1]
    assert (last.action, last.result, last.app) == ("alias-set", "ok", g.model)
    assert json.loads(last.detail)["evidence"]["ok"] is True  # the gate table, kept
    dialog.close()


def test_a_conflict_shows_one_line_and_writes_nothing(qtbot, gui: Gui) -> None:
    g = gui
    approve_upstream(g.rest, g.model, "3", "bo.chen", "ok")
    dialog = open_move(qtbot, g, "champion", "3")
    assert dialog.confirm.isEnabled(), dialog.checklist.text()
    # meanwhile, someone moves champion upstream
    g.rest.post("/registered-models/alias", {"name": g.model, "alias": "champion", "version": "2"})
    dialog.confirm.click()
    qtbot.waitUntil(lambda: dialog.error is not None, timeout=30_000)
    line = dialog.status.text()
    assert (
        line == "✗ reg: champion moved upstream from v1 to v2 since the plan; nothing was written"
    )
    assert aliases(g.rest, g.model) == {"champion": "2"}  # untouched
    assert dialog.outcome is None
    # offer to read again: the new plan starts from v2
    assert dialog.confirm.text() == "Read the registry again"
    dialog.error = None
    dialog.confirm.click()
    wait_planned(qtbot, dialog)
    assert dialog.summary.text() == "champion: v2 → v3"
    dialog.close()


def test_an_override_needs_a_reason_and_is_audited(qtbot, gui: Gui) -> None:
    g = gui
    dialog = open_move(qtbot, g, "champion", "3")
    assert not dialog.confirm.isEnabled()
    dialog.override_button.click()
    assert dialog.override_box.isVisible()
    assert dialog.confirm.text() == "Override the gate and move champion to v3"
    assert not dialog.confirm.isEnabled()
    assert dialog.confirm.toolTip() == "An override needs a reason"
    qtbot.keyClicks(dialog.reason, "hotfix for incident 4711")
    assert dialog.confirm.isEnabled()
    dialog.confirm.click()
    wait_written(qtbot, dialog)
    assert aliases(g.rest, g.model) == {"champion": "3"}
    qtbot.waitUntil(lambda: pill_texts(g.page) == ["champion v3"], timeout=10_000)
    last = g.ctx.audit.list()[-1]
    assert (last.action, last.result) == ("alias-override", "ok")
    assert "hotfix for incident 4711" in last.detail
    dialog.close()


# ------------------------------------------------------------------ tags, descriptions
def test_tags_and_descriptions_round_trip(qtbot, gui: Gui) -> None:
    g, page = gui, gui.page
    assert page.add_tag is not None
    assert page.add_tag.isEnabled()
    page.add_tag.click()
    d = page.writes.dialog
    assert isinstance(d, WriteDialog)
    qtbot.keyClicks(d.fields["key"], "team")
    qtbot.keyClicks(d.fields["value"], "nlp")
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    assert d.summary.text() == "tag team: (none) → nlp (model)"
    assert d.confirm.text() == "Set team = nlp on the model"
    d.confirm.click()
    wait_written(qtbot, d)
    assert model_tags(g.rest, g.model) == {"team": "nlp"}
    qtbot.waitUntil(lambda: "team = nlp" in chip_texts(page), timeout=10_000)
    d.close()

    # edit its value from the chip's menu
    menu_entry(page.writes.tag_menu("team", "nlp", None), "Edit value…")[1]()
    d = page.writes.dialog
    assert d.fields["key"].isReadOnly()
    d.fields["value"].setText("vision")
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    assert d.summary.text() == "tag team: nlp → vision (model)"
    d.confirm.click()
    wait_written(qtbot, d)
    assert model_tags(g.rest, g.model) == {"team": "vision"}
    d.close()

    # a version tag from the version panel
    page.tabs.setCurrentIndex(1)
    page.versions_table.selectRow(version_row(page, "2"))
    add = page.version_panel.tags.widgets()[-1]
    assert isinstance(add, QToolButton)
    assert add.isEnabled()
    add.click()
    d = page.writes.dialog
    d.fields["key"].setText("validated")
    d.fields["value"].setText("yes ✓")
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    d.confirm.click()
    wait_written(qtbot, d)
    v2 = version_of(g.rest, g.model, "2")
    assert {t["key"]: t["value"] for t in v2.get("tags", [])} == {"validated": "yes ✓"}
    d.close()

    # remove both
    menu_entry(page.writes.tag_menu("team", "vision", None), "Remove team…")[1]()
    d = page.writes.dialog
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    assert d.confirm.text() == "Remove team from the model"
    d.confirm.click()
    wait_written(qtbot, d)
    assert model_tags(g.rest, g.model) == {}
    d.close()
    menu_entry(page.writes.tag_menu("validated", "yes ✓", "2"), "Remove validated…")[1]()
    d = page.writes.dialog
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    d.confirm.click()
    wait_written(qtbot, d)
    assert version_of(g.rest, g.model, "2").get("tags", []) == []
    qtbot.waitUntil(lambda: "team = vision" not in chip_texts(page), timeout=10_000)
    d.close()

    # the model card: Edit → plain text → Save… → confirm
    page.tabs.setCurrentIndex(0)
    card = page.card_editor
    assert card.edit_button.isEnabled()
    card.edit_button.click()
    assert editing(card)
    assert card.editor_text() == "# Scorer\nScores."
    card.editor.setPlainText("# Scorer\n\nScores **transactions**.\n")
    card.save_button.click()
    d = page.writes.dialog
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    assert d.confirm.text() == "Save the model card"
    assert d.new_text.toPlainText() == "# Scorer\n\nScores **transactions**.\n"
    d.confirm.click()
    wait_written(qtbot, d)
    got = g.rest.get("/registered-models/get", name=g.model)["registered_model"]
    assert got["description"] == "# Scorer\n\nScores **transactions**.\n"
    assert not editing(card)
    qtbot.waitUntil(lambda: "transactions" in card.view.toPlainText(), timeout=10_000)
    d.close()

    # a version's description from the version panel
    page.tabs.setCurrentIndex(1)
    page.versions_table.selectRow(version_row(page, "3"))
    vcard = page.version_panel.description
    vcard.edit_button.click()
    vcard.editor.setPlainText("v3: *calibrated*")
    vcard.save_button.click()
    d = page.writes.dialog
    qtbot.waitUntil(lambda: d.planned is not None and d.confirm.isEnabled(), timeout=30_000)
    assert d.confirm.text() == "Save the description of v3"
    d.confirm.click()
    wait_written(qtbot, d)
    assert version_of(g.rest, g.model, "3")["description"] == "v3: *calibrated*"
    qtbot.waitUntil(lambda: "calibrated" in vcard.view.toPlainText(), timeout=10_000)
    d.close()


# ------------------------------------------------------------------ screenshots
def _grab_with_menu(w: MainWindow, menu: QMenu, at: QPoint, path: Path) -> None:
    menu.ensurePolished()
    menu.resize(menu.sizeHint())
    shot = w.grab()
    painter = QPainter(shot)
    painter.drawPixmap(w.mapFromGlobal(at), menu.grab())
    painter.end()
    assert shot.save(str(path))


@pytest.fixture(params=["light", "dark"])
def themed_gui(
    request: pytest.FixtureRequest, qtbot, workspace: Workspace, mlflow_server: str, monkeypatch
) -> Iterator[tuple[Gui, str]]:
    scheme = str(request.param)
    monkeypatch.setenv("MODELDECK_THEME", scheme)  # the window reads its tokens when built
    theme.apply(cast(QApplication, QApplication.instance()))
    try:
        with opened(qtbot, workspace, mlflow_server, monkeypatch) as g:
            yield g, scheme
    finally:
        monkeypatch.setenv("MODELDECK_THEME", "light")
        theme.apply(cast(QApplication, QApplication.instance()))


def test_screenshots(qtbot, themed_gui: tuple[Gui, str], artifacts_dir: Path) -> None:
    """The alias menu, the promotion dialog refused / overriding / passing / done, the
    approve dialog, the approvals panel and the description editor, light and dark."""
    g, scheme = themed_gui
    _screenshots(qtbot, g, scheme, artifacts_dir)


def _screenshots(qtbot, g: Gui, scheme: str, artifacts_dir: Path) -> None:
    page, w = g.page, g.w
    page.tabs.setCurrentIndex(1)
    page.versions_table.selectRow(version_row(page, "2"))
    qtbot.waitUntil(lambda: page.version_panel.version is not None, timeout=5000)
    # the alias pill's menu, over the page
    pill = next(b for b in page.chips.widgets() if b.objectName().startswith("aliasPill"))
    assert isinstance(pill, QToolButton)
    menu = QMenu(w)
    fill_menu(menu, page.writes.alias_menu("champion", "1"))
    at = pill.mapToGlobal(QPoint(0, pill.height() + 2))
    # drawn where it would pop up (the offscreen platform cannot grab a real popup)
    _grab_with_menu(w, menu, at, artifacts_dir / f"gov-alias-menu-{scheme}.png")

    dialog = open_move(qtbot, g, "champion", "2")
    assert not dialog.confirm.isEnabled()
    assert dialog.grab().save(str(artifacts_dir / f"gov-promotion-refused-{scheme}.png"))
    dialog.override_button.click()
    qtbot.keyClicks(dialog.reason, "hotfix for incident 4711")
    assert dialog.grab().save(str(artifacts_dir / f"gov-promotion-override-{scheme}.png"))
    dialog.close()

    page.version_panel.approvals.approve_buttons["champion"].click()
    approve = page.writes.dialog
    approve.fields["note"].setText("offline eval ok, shadow traffic clean")
    qtbot.waitUntil(approve.confirm.isEnabled, timeout=30_000)
    assert approve.grab().save(str(artifacts_dir / f"gov-approve-dialog-{scheme}.png"))
    approve.confirm.click()
    wait_written(qtbot, approve)
    approve.close()
    approve_upstream(g.rest, g.model, "2", "bo.chen", "looks good — p95 flat")
    with qtbot.waitSignal(w.sync.sig_finished, timeout=120_000):
        assert w.sync.sync_now()
    qtbot.waitUntil(lambda: len(page.version_panel.approvals.rows) == 2, timeout=20_000)
    qtbot.waitUntil(lambda: not page.writes.access.blocked, timeout=20_000)

    def laid_out() -> bool:
        # the panel is rebuilt by each re-read: every group as tall as it asks
        groups = page.version_panel.approvals.findChildren(QFrame, "section")
        return bool(groups) and all(gr.height() >= gr.sizeHint().height() for gr in groups)

    qtbot.waitUntil(laid_out, timeout=5000)
    assert w.grab().save(str(artifacts_dir / f"gov-approvals-{scheme}.png"))

    dialog = open_move(qtbot, g, "champion", "2")
    assert dialog.confirm.isEnabled()
    assert dialog.grab().save(str(artifacts_dir / f"gov-promotion-ok-{scheme}.png"))
    dialog.confirm.click()
    wait_written(qtbot, dialog)
    assert dialog.grab().save(str(artifacts_dir / f"gov-promotion-done-{scheme}.png"))
    dialog.close()

    page.tabs.setCurrentIndex(0)
    page.card_editor.edit_button.click()
    page.card_editor.editor.setPlainText(
        "# Scorer\n\nScores card transactions for fraud.\n\n## Training\n\n"
        "- data: events-2026q3\n- metric: AUC 0.94\n"
    )
    assert w.grab().save(str(artifacts_dir / f"gov-description-editor-{scheme}.png"))
    page.card_editor.save_button.click()
    d = page.writes.dialog
    qtbot.waitUntil(d.confirm.isEnabled, timeout=30_000)
    assert d.grab().save(str(artifacts_dir / f"gov-description-confirm-{scheme}.png"))
    d.close()
    page.card_editor.cancel_edit()
