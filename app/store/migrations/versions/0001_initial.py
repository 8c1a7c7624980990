"""Initial cache schema: sources, models, versions, tags, aliases, deployments, FTS5.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FTS = (
    """
    CREATE VIRTUAL TABLE models_fts USING fts5(
        name, description, tags_json, aliases_json,
        content='models', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
        INSERT INTO models_fts(rowid, name, description, tags_json, aliases_json)
        VALUES (new.id, new.name, new.description, new.tags_json, new.aliases_json);
    END
    """,
    """
    CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN
        INSERT INTO models_fts(models_fts, rowid, name, description, tags_json, aliases_json)
        VALUES ('delete', old.id, old.name, old.description, old.tags_json, old.aliases_json);
    END
    """,
    """
    CREATE TRIGGER models_fts_au AFTER UPDATE OF name, description, tags_json, aliases_json
    ON models BEGIN
        INSERT INTO models_fts(models_fts, rowid, name, description, tags_json, aliases_json)
        VALUES ('delete', old.id, old.name, old.description, old.tags_json, old.aliases_json);
        INSERT INTO models_fts(rowid, name, description, tags_json, aliases_json)
        VALUES (new.id, new.name, new.description, new.tags_json, new.aliases_json);
    END
    """,
)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("url", sa.String, nullable=False, server_default=""),
        sa.Column("cursor", sa.String),
        sa.Column("last_sync_at", sa.Integer),
        sa.Column("last_full_sync_at", sa.Integer),
        sa.Column("last_error", sa.Text),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("owner", sa.String),
        sa.Column("flavor", sa.String),
        sa.Column("created_at", sa.Integer),
        sa.Column("updated_at", sa.Integer),
        sa.Column("latest_version", sa.String),
        sa.Column("version_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("tags_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("aliases_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("web_url", sa.String),
        sa.Column("content_hash", sa.String, nullable=False),
        sa.UniqueConstraint("source", "name", name="uq_models_source_name"),
    )
    op.create_index("ix_models_name", "models", ["name"])
    op.create_index("ix_models_updated_at", "models", ["updated_at"])
    op.create_index("ix_models_owner", "models", ["owner"])
    op.create_index("ix_models_flavor", "models", ["flavor"])
    op.create_table(
        "versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "model_id", sa.Integer, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("version", sa.String, nullable=False),
        sa.Column("version_num", sa.Integer, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("stage", sa.String),
        sa.Column("source_uri", sa.Text),
        sa.Column("run_id", sa.String),
        sa.Column("run_link", sa.Text),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("tags_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("aliases_json", sa.Text, nullable=False, server_default="[]"),
        sa.Column("flavor", sa.String),
        sa.Column("created_at", sa.Integer),
        sa.Column("updated_at", sa.Integer),
        sa.Column("content_hash", sa.String, nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_versions_model_version"),
    )
    op.create_table(
        "model_tags",
        sa.Column(
            "model_id",
            sa.Integer,
            sa.ForeignKey("models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.String, nullable=False),
    )
    op.create_index("ix_model_tags_kv", "model_tags", ["key", "value"])
    op.create_table(
        "model_aliases",
        sa.Column(
            "model_id",
            sa.Integer,
            sa.ForeignKey("models.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("alias", sa.String, primary_key=True),
        sa.Column("version", sa.String, nullable=False),
    )
    op.create_index("ix_model_aliases_alias", "model_aliases", ["alias"])
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("app", sa.String, nullable=False),
        sa.Column("model_source", sa.String),
        sa.Column("model_name", sa.String, nullable=False),
        sa.Column("traffic_json", sa.Text, nullable=False, server_default="{}"),
        sa.Column("replicas", sa.Integer, nullable=False, server_default="1"),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("route", sa.String),
        sa.Column("updated_at", sa.Integer),
        sa.UniqueConstraint("target", "app", name="uq_deployments_target_app"),
    )
    op.create_index("ix_deployments_model", "deployments", ["model_name"])
    for ddl in _FTS:
        op.execute(ddl)


def downgrade() -> None:
    for name in ("models_fts_au", "models_fts_ad", "models_fts_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS models_fts")
    for table in ("deployments", "model_aliases", "model_tags", "versions", "models", "sources"):
        op.drop_table(table)
