"""Search index over tag VALUES and alias names (not JSON keys), with short-prefix indexes.

0001 indexed the raw JSON of tags and aliases, so every model matched the word
"framework" or "region" (a tag key), and a one-letter search returned all
100,000 rows (≈25 ms of FTS alone, bench/catalog_ui.py). Tag keys are searched
with ``tag:KEY`` instead. The index's content is now a view that exposes the
searchable text; ``prefix='1 2'`` makes one- and two-letter prefixes index
lookups.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TAGS = "(SELECT group_concat(value, ' ') FROM json_each({row}.tags_json))"
_ALIASES = "(SELECT group_concat(key, ' ') FROM json_each({row}.aliases_json))"


def _values(row: str) -> str:
    return (
        f"{row}.id, {row}.name, {row}.description, "
        f"{_TAGS.format(row=row)}, {_ALIASES.format(row=row)}"
    )


def upgrade() -> None:
    for name in ("models_fts_au", "models_fts_ad", "models_fts_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS models_fts")
    op.execute(
        f"""
        CREATE VIEW models_search (id, name, description, tags, aliases) AS
        SELECT {_values("models")} FROM models
        """
    )
    op.execute(
        """
        CREATE VIRTUAL TABLE models_fts USING fts5(
            name, description, tags, aliases,
            content='models_search', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2', prefix='1 2'
        )
        """
    )
    cols = "rowid, name, description, tags, aliases"
    op.execute(
        f"""
        CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
            INSERT INTO models_fts({cols}) VALUES ({_values("new")});
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN
            INSERT INTO models_fts(models_fts, {cols}) VALUES ('delete', {_values("old")});
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER models_fts_au AFTER UPDATE OF name, description, tags_json, aliases_json
        ON models BEGIN
            INSERT INTO models_fts(models_fts, {cols}) VALUES ('delete', {_values("old")});
            INSERT INTO models_fts({cols}) VALUES ({_values("new")});
        END
        """
    )
    # ('rebuild' cannot read a view: it selects the content's _rowid_, so fill it directly)
    op.execute(f"INSERT INTO models_fts({cols}) SELECT {_values('models')} FROM models")


def downgrade() -> None:
    for name in ("models_fts_au", "models_fts_ad", "models_fts_ai"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS models_fts")
    op.execute("DROP VIEW IF EXISTS models_search")
    op.execute(
        """
        CREATE VIRTUAL TABLE models_fts USING fts5(
            name, description, tags_json, aliases_json,
            content='models', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        )
        """
    )
    cols = "rowid, name, description, tags_json, aliases_json"
    op.execute(
        f"""
        CREATE TRIGGER models_fts_ai AFTER INSERT ON models BEGIN
            INSERT INTO models_fts({cols})
            VALUES (new.id, new.name, new.description, new.tags_json, new.aliases_json);
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER models_fts_ad AFTER DELETE ON models BEGIN
            INSERT INTO models_fts(models_fts, {cols})
            VALUES ('delete', old.id, old.name, old.description, old.tags_json, old.aliases_json);
        END
        """
    )
    op.execute(
        f"""
        CREATE TRIGGER models_fts_au AFTER UPDATE OF name, description, tags_json, aliases_json
        ON models BEGIN
            INSERT INTO models_fts(models_fts, {cols})
            VALUES ('delete', old.id, old.name, old.description, old.tags_json, old.aliases_json);
            INSERT INTO models_fts({cols})
            VALUES (new.id, new.name, new.description, new.tags_json, new.aliases_json);
        END
        """
    )
    op.execute("INSERT INTO models_fts(models_fts) VALUES ('rebuild')")
