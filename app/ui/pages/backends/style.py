"""How backends are shown: kind icons and labels, verdict words and tones, the URL font."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QHBoxLayout, QLabel

from app.domain.doctor import Health, VerdictCode
from app.domain.kinds import KINDS
from app.domain.models import BackendKind
from app.domain.notify import ChannelKind, EventKind
from app.ui.theme import Tokens

#: kind → (icon, label, role), from the one declaration of each kind
KIND_STYLE: dict[BackendKind, tuple[str, str, str]] = {
    kind: (spec.icon, spec.label, spec.role_label) for kind, spec in KINDS.items()
}
#: kind → the URL field's example
URL_HINT: dict[BackendKind, str] = {kind: spec.url_hint for kind, spec in KINDS.items()}
HEALTH_STYLE = {
    Health.HEALTHY: ("check-circle", "healthy", "Connected"),
    Health.FAILING: ("close-circle", "failing", "Failing"),
    Health.UNKNOWN: ("help-circle", "unknown", "Not probed"),
}


#: short pill words per verdict (the card's text says the rest)
CODE_WORD = {
    VerdictCode.DNS: "DNS failure",
    VerdictCode.REFUSED: "Refused",
    VerdictCode.TIMEOUT: "Timed out",
    VerdictCode.TLS_UNTRUSTED: "Untrusted TLS",
    VerdictCode.TLS_HOSTNAME: "TLS host mismatch",
    VerdictCode.TLS: "TLS error",
    VerdictCode.UNREACHABLE: "Unreachable",
    VerdictCode.UNAUTHORIZED: "Unauthorized",
    VerdictCode.FORBIDDEN: "Forbidden",
    VerdictCode.WRONG_KIND: "Wrong kind",
    VerdictCode.HTTP_ERROR: "HTTP error",
    VerdictCode.BAD_CONFIG: "Config error",
    VerdictCode.NOT_PROBED: "Not probed",
}


def mono_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSizeF(9.5)
    return font


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


#: channel kind → (badge glyph, label, what it is); a glyph, as the icon set has no
#: Slack or webhook mark
CHANNEL_KIND_STYLE: dict[ChannelKind, tuple[str, str, str]] = {
    ChannelKind.SLACK: ("#", "Slack", "incoming webhook"),
    ChannelKind.WEBHOOK: ("{ }", "Webhook", "signed JSON POST"),
}
#: the event checkboxes' columns (group title, kinds), and each kind's words
EVENT_COLUMNS: tuple[tuple[str, tuple[EventKind, ...]], ...] = (
    (
        "Health",
        (
            EventKind.HEALTH_FAILING,
            EventKind.HEALTH_DEGRADED,
            EventKind.HEALTH_UNKNOWN,
            EventKind.HEALTH_RECOVERED,
        ),
    ),
    (
        "Deploys",
        (
            EventKind.DEPLOY,
            EventKind.SCALE,
            EventKind.CANARY,
            EventKind.PROMOTE,
            EventKind.ROLLBACK,
            EventKind.UNDEPLOY,
        ),
    ),
    ("Governance", (EventKind.ALIAS, EventKind.APPROVAL, EventKind.REFUSAL)),
)
EVENT_LABEL: dict[EventKind, str] = {
    EventKind.HEALTH_FAILING: "Failing",
    EventKind.HEALTH_DEGRADED: "Degraded",
    EventKind.HEALTH_UNKNOWN: "Unknown",
    EventKind.HEALTH_RECOVERED: "Recovered",
    EventKind.DEPLOY: "Deploy",
    EventKind.SCALE: "Scale",
    EventKind.CANARY: "Canary",
    EventKind.PROMOTE: "Promote",
    EventKind.ROLLBACK: "Rollback",
    EventKind.UNDEPLOY: "Undeploy",
    EventKind.ALIAS: "Alias moves",
    EventKind.APPROVAL: "Approvals",
    EventKind.REFUSAL: "Policy refusals",
    EventKind.TEST: "Test",
}


def events_summary(kinds: frozenset[EventKind]) -> str:
    """``health failing, recovered · all deploys``: a channel's subscription in a line."""
    parts = []
    for title, group in EVENT_COLUMNS:
        chosen = [k for k in group if k in kinds]
        if not chosen:
            continue
        if len(chosen) == len(group):
            parts.append(f"all {title.lower()}")
        else:
            words = ", ".join(EVENT_LABEL[k].lower() for k in chosen)
            parts.append(f"{title.lower()}: {words}")
    return " · ".join(parts) or "no events"


def title_row(name: str, chip_text: str, t: Tokens) -> tuple[QHBoxLayout, QLabel]:
    """A card's first line: the name in semibold and a muted outlined chip saying what
    it is ("MLflow · Registry", "Webhook · signed JSON POST"). Returns the row and the
    name label; the caller adds flags, a stretch and its status pill."""
    top = QHBoxLayout()
    top.setSpacing(8)
    name_label = QLabel(name)
    name_label.setStyleSheet("font-weight: 600; font-size: 11pt;")
    top.addWidget(name_label)
    chip = QLabel(chip_text)
    chip.setStyleSheet(
        f"color: {t.muted}; border: 1px solid {t.border}; border-radius: 8px;"
        " padding: 0px 7px; font-size: 8.5pt;"
    )
    top.addWidget(chip)
    return top, name_label
