"""Status words, glyphs and colours: a status is always said in text (and a glyph), never
in colour alone. Colours are theme token names (``Tokens.healthy`` …)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.domain.health import HealthStatus
from app.domain.models import DeploymentStatus
from app.ui.theme import Tokens

#: a deployment's health (the Health page, the catalog's dots)
STATUS_LABEL = {
    HealthStatus.FAILING: "Failing",
    HealthStatus.DEGRADED: "Degraded",
    HealthStatus.UNKNOWN: "Unknown",
    HealthStatus.HEALTHY: "Healthy",
}
#: the glyph that says the status without colour
STATUS_GLYPH = {
    HealthStatus.FAILING: "✕",
    HealthStatus.DEGRADED: "!",
    HealthStatus.UNKNOWN: "?",
    HealthStatus.HEALTHY: "✓",
}
#: worst first, as the Health page's chips list them
STATUS_ORDER = (
    HealthStatus.FAILING,
    HealthStatus.DEGRADED,
    HealthStatus.UNKNOWN,
    HealthStatus.HEALTHY,
)

#: a deployment's state on its target → (label, token name)
DEPLOYMENT_STATUS_STYLE = {
    DeploymentStatus.RUNNING: ("Running", "healthy"),
    DeploymentStatus.DEPLOYING: ("Deploying", "degraded"),
    DeploymentStatus.UNHEALTHY: ("Unhealthy", "failing"),
    DeploymentStatus.DEPLOY_FAILED: ("Failed", "failing"),
    DeploymentStatus.DELETING: ("Deleting", "unknown"),
    DeploymentStatus.NOT_STARTED: ("Not started", "unknown"),
    DeploymentStatus.UNKNOWN: ("Unknown", "unknown"),
}

#: an audit entry's result → token name
AUDIT_RESULT_TONE = {
    "ok": "healthy",
    "failed": "failing",
    "refused": "degraded",
    "unknown": "unknown",
}


def tone_color(tokens: Tokens, tone: str) -> QColor:
    """The colour of a token name (``"healthy"``, ``"accent"`` …); unknown names read grey."""
    return QColor(getattr(tokens, tone, tokens.unknown))


def status_color(tokens: Tokens, status: HealthStatus) -> QColor:
    return QColor(getattr(tokens, status.value))


def deployment_label(status: DeploymentStatus) -> str:
    return DEPLOYMENT_STATUS_STYLE[status][0]


def deployment_color(tokens: Tokens, status: DeploymentStatus) -> QColor:
    return tone_color(tokens, DEPLOYMENT_STATUS_STYLE[status][1])
