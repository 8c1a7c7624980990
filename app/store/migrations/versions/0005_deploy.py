"""Deploy journal (every config applied to a target, for rollback) and the audit trail
(append-only, hash-chained).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deploy_journal",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("target", sa.String, nullable=False, index=True),
        sa.Column("applied_at", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("app", sa.String, nullable=False),
        sa.Column("fingerprint", sa.String, nullable=False),
        sa.Column("config_json", sa.Text, nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.String, nullable=False),
        sa.Column("user", sa.String, nullable=False),
        sa.Column("identity", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("app", sa.String, nullable=False),
        sa.Column("diff", sa.Text, nullable=False),
        sa.Column("result", sa.String, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String, nullable=False),
        sa.Column("hash", sa.String, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_log")
    op.drop_table("deploy_journal")
