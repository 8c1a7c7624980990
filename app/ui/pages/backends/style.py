"""How backends are shown: kind icons and labels, verdict words and tones, the URL font."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase

from app.domain.doctor import Health, VerdictCode
from app.domain.kinds import KINDS
from app.domain.models import BackendKind

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
