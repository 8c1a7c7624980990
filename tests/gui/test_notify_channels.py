"""Notification channels and alert history on the Backends page, offscreen, over the real
NotifyService in a temp workspace, the real OS keyring (gnome-keyring under
tests/run.sh) and a real HTTP receiver on 127.0.0.1. Saves screenshots (light, dark)."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QLineEdit, QWidget

from app.adapters.secrets import KeyringSecrets
from app.domain.health import HealthStatus
from app.domain.models import Backend, BackendKind
from app.domain.notify import SIGNATURE_HEADER, ChannelKind, EventKind, NotifyEvent, verify
from app.services.context import AppContext
from app.services.notify import SECRET_SERVICE, Delivery
from app.services.workspace import Workspace
from app.ui import theme
from app.ui.pages.backends.channel_dialog import ChannelDialog, SecretDialog
from app.ui.pages.backends.channels import NotifySection
from app.ui.pages.backends.page import BackendsPage
from app.ui.tasks import TaskRunner

pytestmark = pytest.mark.gui

LOOPBACK = "127.0.0.1"


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records every POST and answers 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer._lock:
                    outer.requests.append(
                        {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
                    )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def received(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def keyring_session() -> None:
    if os.environ.get("MODELDECK_KEYRING_READY") != "1":
        pytest.skip("no unlocked Secret Service (run the suite with: bash tests/run.sh)")


@pytest.fixture
def ctx(workspace: Workspace) -> Iterator[AppContext]:
    c = AppContext.build(workspace)
    yield c
    c.close()


def _page(qtbot, context: AppContext, tokens: theme.Tokens | None = None) -> BackendsPage:
    runner = TaskRunner()
    p = BackendsPage(context.backends, context.doctor, runner, tokens, notify=context.notify)
    p._test_runner = runner  # type: ignore[attr-defined]
    qtbot.addWidget(p)
    p.resize(1440, 900)
    p.show()
    section = p.notify_section
    assert section is not None
    qtbot.waitUntil(lambda: p.loaded and section.loaded)
    return p


def _section(page: BackendsPage) -> NotifySection:
    assert page.notify_section is not None
    return page.notify_section


def _texts(root: QWidget) -> str:
    """Every text the widget tree shows (labels, line edits that echo)."""
    out = [w.text() for w in root.findChildren(QLabel)]
    out += [
        e.text() for e in root.findChildren(QLineEdit) if e.echoMode() == QLineEdit.EchoMode.Normal
    ]
    return "\n".join(out)


def _fill_webhook(qtbot, name: str, url: str):
    """``ChannelDialog.exec``, replaced: types into the real fields, clicks the real
    checkbox and the real Add button."""

    def exec_(self: ChannelDialog) -> int:
        assert not self.ok_button.isEnabled()
        qtbot.keyClicks(self.name_edit, name)
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(ChannelKind.WEBHOOK.value))
        qtbot.keyClicks(self.url_edit, url)
        assert self.url_edit.echoMode() == QLineEdit.EchoMode.Password
        # defaults: failing + recovered + every deploy action; add degraded
        assert self.event_checks[EventKind.HEALTH_FAILING].isChecked()
        assert self.event_checks[EventKind.DEPLOY].isChecked()
        assert not self.event_checks[EventKind.HEALTH_DEGRADED].isChecked()
        self.event_checks[EventKind.HEALTH_DEGRADED].click()
        assert self.ok_button.isEnabled(), self.problems()
        qtbot.mouseClick(self.ok_button, Qt.MouseButton.LeftButton)
        return self.result()

    return exec_


def test_dialog_validates_and_never_echoes_the_url(qtbot) -> None:
    dialog = ChannelDialog(taken=["pager"])
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name_edit, "pager")
    assert "already exists" in dialog.error.text()
    dialog.name_edit.clear()
    qtbot.keyClicks(dialog.name_edit, "team-slack")
    qtbot.keyClicks(dialog.url_edit, "http://hooks.slack.example/services/T/B/sekrit")
    assert "https://" in dialog.error.text()
    assert "sekrit" not in dialog.error.text()
    assert not dialog.ok_button.isEnabled()
    dialog.url_edit.clear()
    qtbot.keyClicks(dialog.url_edit, "https://hooks.slack.example/services/T/B/sekrit")
    assert dialog.ok_button.isEnabled()
    for check in dialog.event_checks.values():
        if check.isChecked():
            check.click()
    assert "pick at least one" in dialog.error.text()
    assert not dialog.ok_button.isEnabled()
    dialog.event_checks[EventKind.ROLLBACK].click()
    draft = dialog.draft()
    assert draft.kind is ChannelKind.SLACK
    assert draft.events == ("rollback",)
    assert draft.min_status is HealthStatus.DEGRADED


def test_add_test_history_remove(
    qtbot, ctx: AppContext, receiver: Receiver, keyring_session: None, monkeypatch
) -> None:
    page = _page(qtbot, ctx)
    section = _section(page)
    assert section.empty.isVisibleTo(page)
    assert section.empty_add_button.isVisibleTo(page)
    assert not section.add_button.isVisibleTo(page)
    assert not section.history_table.rows

    url = receiver.url("/hooks/modeldeck")
    shown: dict[str, str] = {}

    def secret_exec(self: SecretDialog) -> int:
        shown["secret"] = self.secret_edit.text()
        shown["note"] = _texts(self)
        qtbot.mouseClick(self.copy_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(self.done_button, Qt.MouseButton.LeftButton)
        return self.result()

    monkeypatch.setattr(ChannelDialog, "exec", _fill_webhook(qtbot, "pager", url))
    monkeypatch.setattr(SecretDialog, "exec", secret_exec)
    qtbot.mouseClick(section.empty_add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "pager" in section.cards)
    qtbot.waitUntil(lambda: "secret" in shown)

    # the signing secret, shown once, is the keyring's; Copy put it on the clipboard
    keyring = KeyringSecrets(service=SECRET_SERVICE)
    cred = keyring.get("pager")
    assert cred is not None
    assert cred.token == url
    assert shown["secret"] == cred.password == ctx.notify.show_secret("pager")
    assert QGuiApplication.clipboard().text() == shown["secret"]
    assert "modeldeck notify show-secret pager" in shown["note"]
    channel = ctx.notify.channel("pager")
    assert channel.kind is ChannelKind.WEBHOOK
    assert EventKind.HEALTH_DEGRADED in channel.events
    # the URL is in the keyring only: not in the settings file, not on screen
    assert url not in ctx.workspace.settings_path.read_text(encoding="utf-8")
    assert "127.0.0.1" not in _texts(page)
    card = section.cards["pager"]
    assert card.pill.text() == "No deliveries yet"
    assert "health from degraded" in card.events_label.text()
    assert not section.empty.isVisibleTo(page)
    assert section.add_button.isVisibleTo(page)

    # Test: a signed request reaches the receiver; the card says delivered
    qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(receiver.received()) == 1)
    qtbot.waitUntil(card.test_button.isEnabled)
    request = receiver.received()[0]
    assert verify(request["body"], shown["secret"], request["headers"][SIGNATURE_HEADER.lower()])
    assert json.loads(request["body"])["event"] == "test"
    assert card.pill.text() == "Delivered"
    assert "Test delivered" in card.verdict_label.text()
    assert card.verdict_label.isVisibleTo(page)

    # the history lists the test delivery
    qtbot.waitUntil(lambda: bool(section.history_table.rows))
    first = section.history_table.rows[0]
    assert (first.channel, first.event.kind, first.state) == ("pager", EventKind.TEST, "delivered")
    table_text = _texts(section.history_table)
    assert "Test message" in table_text
    assert "Delivered" in table_text
    qtbot.mouseClick(section.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: section.history_loaded and section.refresh_button.isEnabled())
    assert section.history_table.rows[0].event.kind is EventKind.TEST

    # Remove (confirmed): gone from the page, the settings and the keyring
    asked: list[str] = []

    def confirm(name: str) -> bool:
        asked.append(name)
        return True

    monkeypatch.setattr(section, "confirm_remove", confirm)
    qtbot.mouseClick(card.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "pager" not in section.cards)
    assert asked == ["pager"]
    assert ctx.notify.channels() == []
    assert keyring.get("pager") is None
    assert section.empty.isVisibleTo(page)
    page._test_runner.shutdown()  # type: ignore[attr-defined]


def test_a_failing_test_is_shown_in_place(qtbot, ctx: AppContext, keyring_session: None) -> None:
    from tests.integration.servers import closed_port

    ctx.notify.add("dead", ChannelKind.WEBHOOK, f"http://127.0.0.1:{closed_port()}/x")
    page = _page(qtbot, ctx)
    section = _section(page)
    card = section.cards["dead"]
    qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(card.test_button.isEnabled, timeout=20_000)
    assert card.pill.text() == "Test failed"
    assert "Test not delivered" in card.verdict_label.text()
    assert "127.0.0.1" not in _texts(page)
    row = section.history_table.rows[0]
    assert row.state != "delivered"
    assert "Failed" in _texts(section.history_table)
    page._test_runner.shutdown()  # type: ignore[attr-defined]


def test_demo_workspace_shows_why_no_channel_can_be_added(qtbot, workspace: Workspace) -> None:
    demo_context = AppContext.build(workspace, demo=True)
    page = _page(qtbot, demo_context)
    section = _section(page)
    assert section.refused_label.isVisibleTo(page)
    assert "demo workspace sends no notifications" in section.refused_label.text()
    assert not section.add_button.isVisibleTo(page)
    assert not section.empty_add_button.isVisibleTo(page)
    page._test_runner.shutdown()  # type: ignore[attr-defined]
    demo_context.close()


def _seed_history(ctx: AppContext, now: float) -> None:
    """A realistic delivery state for the screenshots (what ``watch`` leaves behind)."""

    def ev(eid: str, kind: EventKind, ago: float, **kw: Any) -> NotifyEvent:
        from app.domain.notify import iso

        return NotifyEvent(id=eid, kind=kind, at=iso(now - ago), **kw)

    rows = [
        Delivery(
            "team-slack",
            ev(
                "health-a",
                EventKind.HEALTH_FAILING,
                240,
                target="prod-ray",
                app="fraud-scorer",
                model="fraud-model",
                version="7",
                status="failing",
            ),
            "delivered",
            1,
            done_at=now - 238,
        ),
        Delivery(
            "pager",
            ev(
                "health-a",
                EventKind.HEALTH_FAILING,
                240,
                target="prod-ray",
                app="fraud-scorer",
                model="fraud-model",
                version="7",
                status="failing",
            ),
            "pending",
            3,
            next_at=now + 16,
            last_error="HTTP 503 from pager (Service Unavailable)",
        ),
        Delivery(
            "team-slack",
            ev(
                "audit-41",
                EventKind.ROLLBACK,
                1800,
                target="prod-ray",
                app="churn-api",
                model="churn",
                version="12",
                status="ok",
            ),
            "delivered",
            1,
            done_at=now - 1799,
        ),
        Delivery(
            "pager",
            ev(
                "audit-38",
                EventKind.DEPLOY,
                3 * 3600,
                target="staging-ray",
                app="iris",
                model="iris",
                version="3",
                status="ok",
            ),
            "failed",
            12,
            last_error="cannot connect to pager: connection refused",
            done_at=now - 2 * 3600,
        ),
        Delivery(
            "team-slack",
            ev(
                "health-b",
                EventKind.HEALTH_RECOVERED,
                5 * 3600,
                target="prod-ray",
                app="recsys",
                model="recsys",
                version="4",
                status="healthy",
                previous_status="degraded",
            ),
            "delivered",
            2,
            done_at=now - 5 * 3600,
        ),
    ]
    state = {
        "version": 1,
        "audit_cursor": 41,
        "tracked": {},
        "told": {},
        "deliveries": {f"{d.channel}\x1f{d.event.id}": d.to_json() for d in rows},
    }
    ctx.notify.state_path.write_text(json.dumps(state), encoding="utf-8")


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_screenshots(  # noqa: PLR0917 - pytest fixtures
    qtbot,
    qapp,
    ctx: AppContext,
    receiver: Receiver,
    keyring_session: None,
    artifacts_dir: Path,
    mode: str,
) -> None:
    import time

    tokens = theme.DARK if mode == "dark" else theme.LIGHT
    theme.apply(qapp, tokens)
    try:
        ctx.backends.add(Backend("registry-prod", BackendKind.MLFLOW, receiver.url("")))
        ctx.notify.add(
            "team-slack", ChannelKind.SLACK, receiver.url("/slack"), events=["health", "deploys"]
        )
        ctx.notify.add(
            "pager",
            ChannelKind.WEBHOOK,
            receiver.url("/pager"),
            events=["health.failing", "health.recovered", "deploys", "governance"],
            min_status=HealthStatus.FAILING,
        )
        _seed_history(ctx, time.time())
        page = _page(qtbot, ctx, tokens)
        section = _section(page)
        assert len(section.history_table.rows) == 5
        card = section.cards["team-slack"]
        qtbot.mouseClick(card.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: card.test_button.isEnabled() and len(receiver.received()) == 1)
        texts = _texts(section.history_table)
        assert "Retrying (attempt 3)" in texts
        assert "Given up" in texts
        assert "HTTP 503" in texts
        assert "next try in" in texts
        table = section.history_table
        qtbot.waitUntil(lambda: table.grid_host is not None and table.grid_host.height() > 200)
        page.grab().save(str(artifacts_dir / f"notify-page-{mode}.png"))

        dialog = ChannelDialog(page, taken=list(section.cards), tokens=tokens)
        qtbot.addWidget(dialog)
        dialog.name_edit.setText("oncall-hook")
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("webhook"))
        dialog.url_edit.setText("https://alerts.example.com/modeldeck")
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.grab().save(str(artifacts_dir / f"notify-add-dialog-{mode}.png"))
        dialog.close()
        secret = SecretDialog("oncall-hook", "9f" * 32, page, tokens)
        qtbot.addWidget(secret)
        secret.show()
        qtbot.waitExposed(secret)
        secret.grab().save(str(artifacts_dir / f"notify-secret-{mode}.png"))
        secret.close()
        page._test_runner.shutdown()  # type: ignore[attr-defined]
    finally:
        theme.apply(qapp, theme.LIGHT)
        for name in ("team-slack", "pager"):
            KeyringSecrets(service=SECRET_SERVICE).delete(name)
