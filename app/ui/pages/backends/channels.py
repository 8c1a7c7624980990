"""Notification channels and alert history, under the backends on the Backends page.

A card per channel (kind, name, subscribed events, min status, last delivery) with
"Test" (a test notification sent on a worker, the verdict shown inline) and "Remove";
"Add channel…" opens ``ChannelDialog``; a webhook's signing secret is shown once after
adding. Below, the recent deliveries (``NotifyService.history``) with their status.

``NotifyService.test`` records nothing in the delivery state (the CLI's ``notify test``
neither), so the tests sent from this window are kept here and listed with the history.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.domain.errors import ModeldeckError
from app.domain.notify import HEALTH_KINDS, Channel, EventKind, NotifyEvent
from app.domain.text import duration
from app.services.notify import Delivery
from app.ui import icons
from app.ui.kit.pills import Pill
from app.ui.kit.styles import rgba
from app.ui.kit.widgets import exact_time, named, relative_time
from app.ui.pages.backends.channel_dialog import ChannelDialog, ChannelDraft, SecretDialog
from app.ui.pages.backends.protocols import NotifyApi, TasksApi
from app.ui.pages.backends.style import (
    CHANNEL_KIND_STYLE,
    EVENT_LABEL,
    esc,
    events_summary,
    title_row,
)
from app.ui.theme import Tokens

HISTORY_LIMIT = 50


def delivery_state(d: Delivery) -> tuple[str, str, str]:
    """(icon, tone, words) of a delivery: delivered / retrying (attempt n) / given up."""
    if d.state == "delivered":
        return "check-circle", "healthy", "Delivered"
    if d.event.kind is EventKind.TEST:  # a test is sent once, never retried
        return "close-circle", "failing", "Failed"
    if d.state == "failed":
        return "close-circle", "failing", "Given up"
    if d.attempts:
        return "progress-clock", "degraded", f"Retrying (attempt {d.attempts})"
    return "progress-clock", "unknown", "Queued"


def event_time(event: NotifyEvent) -> datetime | None:
    try:
        return datetime.fromisoformat(event.at.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def event_words(event: NotifyEvent) -> str:
    if event.kind is EventKind.TEST:
        return "Test message"
    if event.kind in HEALTH_KINDS:
        return f"Health {EVENT_LABEL[event.kind].lower()}"
    return (
        f"{EVENT_LABEL[event.kind]} · {event.status}" if event.status else EVENT_LABEL[event.kind]
    )


def event_where(event: NotifyEvent) -> tuple[str, str]:
    """(deployment, model) of an event, for the history's columns."""
    if event.kind is EventKind.TEST:
        return "—", ""
    where = f"{event.app} on {event.target}" if event.app else event.target
    model = f"{event.model} v{event.version}" if event.model and event.version else event.model
    return where or "—", model


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, ModeldeckError) else f"{type(exc).__name__}: {exc}"
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


class ChannelCard(QFrame):
    """One channel; its buttons ask the section (by name)."""

    sig_test_requested = Signal(str)
    sig_remove_requested = Signal(str)

    def __init__(self, channel: Channel, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.channel = channel
        self.tokens = t = tokens
        self.setObjectName("card")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        glyph, label, what = CHANNEL_KIND_STYLE[channel.kind]
        lay = QHBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.setSpacing(14)

        badge = QLabel(glyph)
        badge.setFixedSize(40, 40)
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        badge.setAccessibleName(label)
        badge.setStyleSheet(
            f"background: {t.accent_soft}; color: {t.accent}; border-radius: 10px;"
            " font-weight: 700; font-size: 13pt;"
        )
        lay.addWidget(badge, 0, Qt.AlignmentFlag.AlignTop)

        body = QVBoxLayout()
        body.setSpacing(3)
        top, self.name_label = title_row(channel.name, f"{label} · {what}", t)
        top.addStretch(1)
        self.pill = Pill(tokens)
        top.addWidget(self.pill)
        body.addLayout(top)

        self.events_label = QLabel(
            f"{esc(events_summary(channel.events))}"
            f"  <span style='color:{t.muted}'>·  health from "
            f"{esc(channel.min_status.value)}</span>"
        )
        self.events_label.setToolTip(", ".join(sorted(k.value for k in channel.events)))
        self.events_label.setWordWrap(True)
        body.addWidget(self.events_label)
        self.last_label = QLabel()
        self.last_label.setStyleSheet(f"color: {t.muted}; font-size: 9pt;")
        body.addWidget(self.last_label)
        self.verdict_label = named(QLabel(), "channelVerdict")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict_label.hide()
        body.addWidget(self.verdict_label)
        lay.addLayout(body, 1)

        actions = QVBoxLayout()
        actions.setSpacing(6)
        self.test_button = QPushButton(icons.icon("lan-connect", color=t.text), " Test")
        self.test_button.setToolTip("Send a test notification now")
        self.test_button.setAccessibleName(f"Send a test notification to {channel.name}")
        self.test_button.clicked.connect(lambda: self.sig_test_requested.emit(channel.name))
        self.remove_button = QPushButton(icons.icon("delete-outline", color=t.failing), "")
        self.remove_button.setToolTip("Remove (also deletes its URL from the OS keyring)")
        self.remove_button.setAccessibleName(f"Remove channel {channel.name}")
        self.remove_button.clicked.connect(lambda: self.sig_remove_requested.emit(channel.name))
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.test_button)
        row.addWidget(self.remove_button)
        actions.addLayout(row)
        actions.addStretch(1)
        lay.addLayout(actions)
        self.show_last(None)

    def show_last(self, d: Delivery | None) -> None:
        """The channel's newest delivery (from the history, or a test just sent)."""
        if d is None:
            self.pill.show_state("help-circle", "unknown", "No deliveries yet")
            self.last_label.setText("Nothing sent yet — Test to check it")
            self.last_label.setToolTip("")
            return
        icon, tone, words = delivery_state(d)
        self.pill.show_state(icon, tone, words)
        when = event_time(d.event)
        self.last_label.setText(
            f"Last delivery {relative_time(when)} · {event_words(d.event).lower()}"
        )
        self.last_label.setToolTip(exact_time(when))

    def show_testing(self) -> None:
        self.test_button.setEnabled(False)
        self.pill.show_state("progress-clock", "unknown", "Sending…")
        self.verdict_label.hide()

    def show_test_result(self, d: Delivery) -> None:
        self.test_button.setEnabled(True)
        self.show_last(d)
        if d.state == "delivered":
            attempts = f" after {d.attempts} attempts" if d.attempts > 1 else ""
            self._verdict("healthy", f"<b>Test delivered</b>{attempts} — the receiver answered 2xx")
        else:
            self.pill.show_state("close-circle", "failing", "Test failed")
            self._verdict("failing", f"<b>Test not delivered</b> — {esc(d.last_error)}")

    def show_error(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self.pill.show_state("close-circle", "failing", "Error")
        self._verdict("failing", esc(message))

    def _verdict(self, tone: str, html: str) -> None:
        color = getattr(self.tokens, tone)
        self.verdict_label.setStyleSheet(
            f"QLabel#channelVerdict {{ background: {rgba(color, 0x14)};"
            f" border-left: 3px solid {color}; border-radius: 4px; padding: 5px 10px; }}"
        )
        self.verdict_label.setText(html)
        self.verdict_label.show()


class HistoryTable(QFrame):
    """Recent deliveries as aligned rows: time, event, deployment, channel, status."""

    COLUMNS = ("Time", "Event", "Deployment / model", "Channel", "Delivery")

    def __init__(self, tokens: Tokens, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokens = tokens
        self.setObjectName("card")
        self.rows: list[Delivery] = []
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(16, 10, 16, 10)
        self.outer.setSpacing(0)
        self.grid_host: QWidget | None = None
        self.empty_label = named(
            QLabel(
                "No deliveries yet. Alerts appear here while <code>modeldeck watch</code> "
                "runs; a Test from a channel above is listed too."
            ),
            "muted",
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setContentsMargins(0, 6, 0, 6)
        self.outer.addWidget(self.empty_label)

    def show_rows(self, rows: list[Delivery]) -> None:
        self.rows = rows
        if self.grid_host is not None:
            self.grid_host.setParent(None)
            self.grid_host.deleteLater()
            self.grid_host = None
        self.empty_label.setVisible(not rows)
        if not rows:
            return
        t = self.tokens
        host = QWidget()
        grid = QGridLayout(host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(0)
        for col, title in enumerate(self.COLUMNS):
            head = QLabel(title.upper())
            head.setStyleSheet(
                f"color: {t.muted}; font-size: 8.5pt; font-weight: 600; padding: 4px 0 6px 0;"
            )
            grid.addWidget(head, 0, col)
        r = 1
        for d in rows:
            line = QFrame()
            line.setFixedHeight(1)
            line.setStyleSheet(f"background: {t.border};")
            grid.addWidget(line, r, 0, 1, len(self.COLUMNS))
            r += 1
            when = event_time(d.event)
            time_label = QLabel(relative_time(when))
            time_label.setToolTip(exact_time(when))
            time_label.setStyleSheet(f"color: {t.muted};")
            where, model = event_where(d.event)
            where_label = QLabel(
                esc(where)
                + (f"  <span style='color:{t.muted}'>{esc(model)}</span>" if model else "")
            )
            icon, tone, words = delivery_state(d)
            pill = Pill(t)
            pill.show_state(icon, tone, words)
            status = QHBoxLayout()
            status.setContentsMargins(0, 0, 0, 0)
            status.addWidget(pill, 0, Qt.AlignmentFlag.AlignVCenter)
            status.addStretch(1)
            cells: list[QWidget] = [
                time_label,
                QLabel(esc(event_words(d.event))),
                where_label,
                QLabel(esc(d.channel)),
            ]
            for col, cell in enumerate(cells):
                cell.setMinimumHeight(32)
                grid.addWidget(cell, r, col)
            grid.addLayout(status, r, len(cells))
            r += 1
            if d.last_error and d.state != "delivered":
                line_text = d.last_error
                if d.state == "pending" and d.event.kind is not EventKind.TEST:
                    wait = d.next_at - time.time()
                    line_text += f" · next try in {duration(wait)}" if wait > 0 else " · due now"
                err = QLabel(esc(line_text))
                err.setWordWrap(True)
                err.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                err.setStyleSheet(
                    f"color: {getattr(t, tone)}; font-size: 9pt; padding-bottom: 6px;"
                )
                grid.addWidget(err, r, 1, 1, len(self.COLUMNS) - 1)
                r += 1
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 3)
        grid.setColumnStretch(3, 1)
        self.outer.addWidget(host)
        host.show()
        self.grid_host = host


class NotifySection(QWidget):
    """Channels (add, test, remove) and the alert history. All service calls go
    through ``tasks``."""

    sig_channels_changed = Signal()

    def __init__(
        self, notify: NotifyApi, tasks: TasksApi, tokens: Tokens, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.notify = notify
        self.tasks = tasks
        self.tokens = t = tokens
        self.cards: dict[str, ChannelCard] = {}
        self.channels: list[Channel] = []
        self.history: list[Delivery] = []
        #: tests sent from this window (the service records none)
        self.session_tests: list[Delivery] = []
        self.refused: str | None = None
        self.loaded = False
        self.history_loaded = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 14, 0, 0)
        lay.setSpacing(10)

        head = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(1)
        title = QLabel("Notification channels")
        title.setStyleSheet("font-size: 12.5pt; font-weight: 600;")
        self.subtitle = named(
            QLabel(
                "Slack and signed webhooks · alerts are sent while "
                "<code>modeldeck watch</code> runs"
            ),
            "muted",
        )
        titles.addWidget(title)
        titles.addWidget(self.subtitle)
        head.addLayout(titles)
        head.addStretch(1)
        self.add_button = QPushButton(icons.icon("plus", color=t.text), " Add channel…")
        self.add_button.setAccessibleName("Add notification channel")
        self.add_button.clicked.connect(self.add_channel)
        head.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignBottom)
        lay.addLayout(head)

        self.refused_label = named(QLabel(), "refused")
        self.refused_label.setWordWrap(True)
        self.refused_label.setStyleSheet(
            f"QLabel#refused {{ background: {rgba(t.accent, 0x14)}; color: {t.text};"
            f" border: 1px solid {rgba(t.accent, 0x55)}; border-radius: 8px; padding: 8px 12px; }}"
        )
        self.refused_label.hide()
        lay.addWidget(self.refused_label)

        self.error_label = named(QLabel(), "sectionError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {t.failing};")
        self.error_label.hide()
        lay.addWidget(self.error_label)

        self.empty = self._empty_card()
        lay.addWidget(self.empty)
        self.cards_layout = QVBoxLayout()
        self.cards_layout.setSpacing(10)
        lay.addLayout(self.cards_layout)

        hist_head = QHBoxLayout()
        hist_title = QLabel("Alert history")
        hist_title.setStyleSheet("font-size: 12.5pt; font-weight: 600;")
        self.history_note = named(QLabel(), "muted")
        hist_head.addWidget(hist_title)
        hist_head.addSpacing(8)
        hist_head.addWidget(self.history_note, 0, Qt.AlignmentFlag.AlignBottom)
        hist_head.addStretch(1)
        self.refresh_button = QPushButton(icons.icon("refresh", color=t.text), " Refresh")
        self.refresh_button.setAccessibleName("Refresh the alert history")
        self.refresh_button.clicked.connect(self.reload_history)
        hist_head.addWidget(self.refresh_button)
        lay.addSpacing(10)
        lay.addLayout(hist_head)
        self.history_table = HistoryTable(t)
        lay.addWidget(self.history_table)

    def _empty_card(self) -> QFrame:
        t = self.tokens
        box = named(QFrame(), "card")
        row = QHBoxLayout(box)
        row.setContentsMargins(18, 16, 18, 16)
        row.setSpacing(14)
        pic = QLabel()
        pic.setPixmap(icons.icon("information-outline", color=t.muted).pixmap(QSize(28, 28)))
        row.addWidget(pic, 0, Qt.AlignmentFlag.AlignTop)
        texts = QVBoxLayout()
        texts.setSpacing(3)
        head = QLabel("No notification channels yet")
        head.setStyleSheet("font-weight: 600;")
        body = named(
            QLabel(
                "A channel tells your team when a deployment starts failing or recovers, and "
                "when someone deploys, rolls back or moves an alias — in Slack, or as a signed "
                "JSON webhook to your own receiver. Alerts go out while "
                "<code>modeldeck watch</code> runs."
            ),
            "muted",
        )
        body.setWordWrap(True)
        texts.addWidget(head)
        texts.addWidget(body)
        row.addLayout(texts, 1)
        self.empty_add_button = named(QPushButton("Add channel…"), "primary")
        self.empty_add_button.setAccessibleName("Add the first notification channel")
        self.empty_add_button.clicked.connect(self.add_channel)
        row.addWidget(self.empty_add_button, 0, Qt.AlignmentFlag.AlignVCenter)
        box.hide()
        return box

    # ------------------------------------------------------------ loading
    def reload(self) -> None:
        """Channels, the demo's refusal and the history, read on a worker."""

        def load() -> tuple[list[Channel], str | None, list[Delivery]]:
            return (
                self.notify.channels(),
                self.notify.add_refused(),
                self.notify.history(HISTORY_LIMIT),
            )

        self.tasks.run(load, on_done=self._show, on_error=self._load_failed, name="channels")

    def reload_history(self) -> None:
        self.refresh_button.setEnabled(False)
        self.history_loaded = False

        def done(rows: list[Delivery]) -> None:
            self.refresh_button.setEnabled(True)
            self.history = rows
            self._show_history()

        def failed(exc: BaseException) -> None:
            self.refresh_button.setEnabled(True)
            self.show_error(f"Cannot read the alert history: {_one_line(exc)}")
            self.history_loaded = True

        self.tasks.run(
            self.notify.history, HISTORY_LIMIT, on_done=done, on_error=failed, name="alert history"
        )

    def _show(self, result: tuple[list[Channel], str | None, list[Delivery]]) -> None:
        channels, refused, history = result
        self.channels, self.refused, self.history = channels, refused, history
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards.clear()
        for c in channels:
            card = ChannelCard(c, self.tokens)
            card.sig_test_requested.connect(self.test_channel)
            card.sig_remove_requested.connect(self.remove_channel)
            self.cards_layout.addWidget(card)
            self.cards[c.name] = card
        self.add_button.setVisible(refused is None and bool(channels))
        self.empty_add_button.setVisible(refused is None)
        self.empty.setVisible(not channels and refused is None)
        if refused:
            why = re.sub(r"`([^`]+)`", r"<code>\1</code>", esc(refused))
            self.refused_label.setText(f"<b>Channels cannot be added here</b> — {why}")
        self.refused_label.setVisible(bool(refused))
        self._show_history()
        self.loaded = True

    def _load_failed(self, exc: BaseException) -> None:
        self.show_error(f"Cannot read the notification channels: {_one_line(exc)}")
        self.loaded = self.history_loaded = True

    def merged_history(self) -> list[Delivery]:
        rows = [*self.history, *self.session_tests]
        rows.sort(key=lambda d: d.event.at, reverse=True)
        return rows[:HISTORY_LIMIT]

    def _show_history(self) -> None:
        rows = self.merged_history()
        self.history_table.show_rows(rows)
        given_up = sum(1 for d in rows if d.state == "failed")
        retrying = sum(1 for d in rows if d.state == "pending" and d.attempts)
        bits = [f"{len(rows)} recent"] if rows else []
        if retrying:
            bits.append(f"{retrying} retrying")
        if given_up:
            bits.append(f"{given_up} given up")
        self.history_note.setText(" · ".join(bits))
        for name, card in self.cards.items():
            card.show_last(next((d for d in rows if d.channel == name), None))
        self.history_loaded = True

    # ------------------------------------------------------------ actions
    def show_error(self, line: str) -> None:
        self.error_label.setText(esc(line))
        self.error_label.setVisible(bool(line))

    def add_channel(self) -> None:
        if self.refused:
            self.show_error(self.refused)
            return
        draft = ChannelDialog.ask(self, taken=[c.name for c in self.channels], tokens=self.tokens)
        if draft is not None:
            self._save(draft)

    def _save(self, draft: ChannelDraft) -> None:
        self.show_error("")

        def save() -> tuple[Channel, str | None]:
            return self.notify.add(
                draft.name, draft.kind, draft.url, events=draft.events, min_status=draft.min_status
            )

        def done(result: tuple[Channel, str | None]) -> None:
            channel, secret = result
            self._changed()
            if secret:
                self.show_secret(channel.name, secret)

        self.tasks.run(
            save,
            on_done=done,
            on_error=lambda e: self.show_error(f"Could not add {draft.name}: {_one_line(e)}"),
            name="add channel",
        )

    def test_channel(self, name: str) -> None:
        card = self.cards.get(name)
        if card is None:
            return
        card.show_testing()

        def done(d: Delivery) -> None:
            self.session_tests.append(d)
            self._show_history()
            target = self.cards.get(name)
            if target is not None:
                target.show_test_result(d)

        def failed(exc: BaseException) -> None:
            target = self.cards.get(name)
            if target is not None:
                target.show_error(_one_line(exc))

        self.tasks.run(self.notify.test, name, on_done=done, on_error=failed, name=f"test {name}")

    def remove_channel(self, name: str) -> None:
        if not self.confirm_remove(name):
            return
        self.show_error("")
        self.tasks.run(
            self.notify.remove,
            name,
            on_done=lambda _ok: self._changed(),
            on_error=lambda e: self.show_error(f"Could not remove {name}: {_one_line(e)}"),
            name="remove channel",
        )

    def _changed(self) -> None:
        self.reload()
        self.sig_channels_changed.emit()

    # ------------------------------------------------------------ questions (tests replace)
    def confirm_remove(self, name: str) -> bool:
        answer = QMessageBox.question(
            self,
            "Remove channel",
            f"Remove the channel {name}? It is sent nothing more, and its URL (and signing "
            "secret) are deleted from the OS keyring.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def show_secret(self, name: str, secret: str) -> None:
        SecretDialog.ask(self, name, secret, self.tokens)
