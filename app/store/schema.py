"""Typed schema of the local cache.

The tables are declared once here (typed ``Mapped[]`` classes); migrations in
``migrations/versions`` create them, and bulk writes use Core statements on
``Class.__table__`` (ORM ``add_all`` is 6-10x slower, docs/performance.md).
Times are integer milliseconds since the epoch, UTC; mappings are JSON text.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.store.revisions import known_revisions

#: Every alembic revision this build knows, oldest first (from the migration files).
#: A cache whose revision is not listed was written by a newer Modeldeck.
SCHEMA_REVISIONS: tuple[str, ...] = known_revisions()
HEAD_REVISION = SCHEMA_REVISIONS[-1]


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """One catalog source (registry) and its sync cursor."""

    __tablename__ = "sources"
    name: Mapped[str] = mapped_column(String, primary_key=True)
    kind: Mapped[str] = mapped_column(String)
    url: Mapped[str] = mapped_column(String, default="")
    cursor: Mapped[str | None] = mapped_column(String, nullable=True)
    last_sync_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_full_sync_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (
        UniqueConstraint("source", "name", name="uq_models_source_name"),
        Index("ix_models_name", "name"),
        Index("ix_models_updated_at", "updated_at"),
        Index("ix_models_owner", "owner"),
        Index("ix_models_flavor", "flavor"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str | None] = mapped_column(String, nullable=True)
    flavor: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latest_version: Mapped[str | None] = mapped_column(String, nullable=True)
    version_count: Mapped[int] = mapped_column(Integer, default=0)
    tags_json: Mapped[str] = mapped_column(Text, default="{}")
    aliases_json: Mapped[str] = mapped_column(Text, default="{}")
    web_url: Mapped[str | None] = mapped_column(String, nullable=True)
    #: hash of every cached field: an upsert of an unchanged model writes nothing
    content_hash: Mapped[str] = mapped_column(String)


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("model_id", "version", name="uq_versions_model_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String)
    version_num: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String)
    stage: Mapped[str | None] = mapped_column(String, nullable=True)
    source_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    run_id: Mapped[str | None] = mapped_column(String, nullable=True)
    run_link: Mapped[str | None] = mapped_column(Text, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags_json: Mapped[str] = mapped_column(Text, default="{}")
    aliases_json: Mapped[str] = mapped_column(Text, default="[]")
    flavor: Mapped[str | None] = mapped_column(String, nullable=True)
    created_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str] = mapped_column(String)


class ModelTagRow(Base):
    """Tags of a model, one row each, for exact filtering and facet counts."""

    __tablename__ = "model_tags"
    __table_args__ = (Index("ix_model_tags_kv", "key", "value"),)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(String)


class ModelAliasRow(Base):
    __tablename__ = "model_aliases"
    __table_args__ = (Index("ix_model_aliases_alias", "alias"),)
    model_id: Mapped[int] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[str] = mapped_column(String)


class DeploymentRow(Base):
    """Last known state of an app on a serving target (refreshed by the deploy service)."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("target", "app", name="uq_deployments_target_app"),
        Index("ix_deployments_model", "model_name"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[str] = mapped_column(String)
    app: Mapped[str] = mapped_column(String)
    model_source: Mapped[str | None] = mapped_column(String, nullable=True)
    model_name: Mapped[str] = mapped_column(String)
    traffic_json: Mapped[str] = mapped_column(Text, default="{}")
    replicas: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String)
    message: Mapped[str] = mapped_column(Text, default="")
    route: Mapped[str | None] = mapped_column(String, nullable=True)
    updated_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RunRow(Base):
    """Params and metrics of a training run, fetched on demand (migration 0002)."""

    __tablename__ = "runs"
    source: Mapped[str] = mapped_column(String, primary_key=True)
    run_id: Mapped[str] = mapped_column(String, primary_key=True)
    experiment_id: Mapped[str | None] = mapped_column(String, nullable=True)
    name: Mapped[str | None] = mapped_column(String, nullable=True)
    status: Mapped[str | None] = mapped_column(String, nullable=True)
    started_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ended_at: Mapped[int | None] = mapped_column(Integer, nullable=True)
    params_json: Mapped[str] = mapped_column(Text, default="{}")
    metrics_json: Mapped[str] = mapped_column(Text, default="{}")
    tags_json: Mapped[str] = mapped_column(Text, default="{}")
    link: Mapped[str | None] = mapped_column(Text, nullable=True)
    fetched_at: Mapped[int] = mapped_column(Integer)


#: The FTS5 table ``models_fts`` (external content over ``models``, kept in step
#: by triggers) is created by migration 0001; the ORM does not map it.
