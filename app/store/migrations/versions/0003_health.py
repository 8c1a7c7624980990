"""Health: the last fetched metric windows per deployment (offline charts) and last statuses.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health_series",
        sa.Column("target", sa.String, primary_key=True),
        sa.Column("app", sa.String, primary_key=True),
        sa.Column("window", sa.String, primary_key=True),
        sa.Column("signal", sa.String, primary_key=True),
        sa.Column("labels_json", sa.Text, primary_key=True),
        sa.Column("promql", sa.Text, nullable=False),
        sa.Column("step_s", sa.Integer, nullable=False),
        sa.Column("fetched_at", sa.Float, nullable=False),
        sa.Column("t", sa.LargeBinary, nullable=False),
        sa.Column("v", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "health_status",
        sa.Column("target", sa.String, primary_key=True),
        sa.Column("app", sa.String, primary_key=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("why", sa.Text, nullable=False, server_default=""),
        sa.Column("evaluated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("health_status")
    op.drop_table("health_series")
