"""Run data (params, metrics) fetched on demand, kept for offline reading.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("source", sa.String, primary_key=True),
        sa.Column("run_id", sa.String, primary_key=True),
        sa.Column("experiment_id", sa.String),
        sa.Column("name", sa.String),
        sa.Column("status", sa.String),
        sa.Column("started_at", sa.Integer),
        sa.Column("ended_at", sa.Integer),
        sa.Column("params_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("metrics_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("tags_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("link", sa.Text),
        sa.Column("fetched_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("runs")
