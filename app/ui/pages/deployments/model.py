"""The Deployments table: one row per app on a target, worst state first per target."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject

from app.domain.models import Deployment, DeploymentStatus
from app.ui.kit.status import deployment_label
from app.ui.kit.table_model import ROW_ROLE, Column, RowTableModel
from app.ui.kit.widgets import exact_time, relative_time

#: the row's ``Deployment`` (the delegates and the row menu read it)
DEPLOYMENT_ROLE = ROW_ROLE
STATUS_COL, TRAFFIC_COL = 0, 4
_ORDER = [DeploymentStatus.DEPLOY_FAILED, DeploymentStatus.UNHEALTHY, DeploymentStatus.DEPLOYING]

COLUMNS: tuple[Column[Deployment], ...] = (
    Column("Status", display=lambda d: deployment_label(d.status)),
    Column("Target", display=lambda d: d.target),
    Column("App", display=lambda d: d.app),
    Column("Model", display=lambda d: d.model_name),
    Column("Traffic", display=lambda d: "  ".join(f"v{v} {p}%" for v, p in d.traffic.items())),
    Column("Replicas", display=lambda d: str(d.replicas)),
    Column(
        "Changed",
        display=lambda d: relative_time(d.updated_at),
        tooltip=lambda d: exact_time(d.updated_at),
    ),
    Column("Message", display=lambda d: d.message, tooltip=lambda d: d.message or None),
)
HEADERS = tuple(c.title for c in COLUMNS)


class DeploymentsModel(RowTableModel[Deployment]):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(COLUMNS, parent)

    def set_deployments(self, rows: Sequence[Deployment]) -> None:
        self.set_rows(
            sorted(
                rows,
                key=lambda d: (
                    d.target,
                    _ORDER.index(d.status) if d.status in _ORDER else 9,
                    d.app,
                ),
            )
        )
