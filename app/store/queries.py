"""Query and write functions over the cache.

Each takes a ``Connection`` whose transaction the *caller* owns
(``with cache.write() as con:``) and returns domain objects, never rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Table,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.sqlite import insert

from app.domain.models import (
    CatalogQuery,
    Deployment,
    DeploymentStatus,
    ModelVersion,
    RegisteredModel,
    SourceState,
    VersionStatus,
    ms_from_utc,
    utc_from_ms,
)
from app.store import catalog_query
from app.store.schema import (
    DeploymentRow,
    ModelAliasRow,
    ModelRow,
    ModelTagRow,
    SourceRow,
    VersionRow,
)

# Declarative classes give FromClause-typed __table__; Core DML wants the Table.
models_t = cast(Table, ModelRow.__table__)
versions_t = cast(Table, VersionRow.__table__)
tags_t = cast(Table, ModelTagRow.__table__)
aliases_t = cast(Table, ModelAliasRow.__table__)
sources_t = cast(Table, SourceRow.__table__)
deployments_t = cast(Table, DeploymentRow.__table__)

#: every key ``search_models`` sorts by (the catalog browser's too)
SORT_KEYS = catalog_query.SORT_KEYS


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _hash(*parts: Any) -> str:
    return hashlib.blake2b(_dumps(parts).encode(), digest_size=12).hexdigest()


# ------------------------------------------------------------------ writes
@dataclass(frozen=True)
class UpsertResult:
    models_written: int  # inserted or changed
    versions_written: int
    versions_removed: int


def _model_values(m: RegisteredModel, versions: Sequence[ModelVersion] | None) -> dict[str, Any]:
    latest = m.latest_version
    count = m.version_count
    if versions is not None:
        count = len(versions)
        if versions:
            latest = max(versions, key=lambda v: (v.number, v.version)).version
    values = {
        "source": m.source,
        "name": m.name,
        "description": m.description or "",
        "owner": m.owner,
        "flavor": m.flavor,
        "created_at": ms_from_utc(m.created_at),
        "updated_at": ms_from_utc(m.updated_at),
        "latest_version": latest,
        "version_count": count,
        "tags_json": _dumps(dict(m.tags)),
        "aliases_json": _dumps(dict(m.aliases)),
        "web_url": m.web_url,
    }
    values["content_hash"] = _hash(values)
    return values


def _version_values(model_id: int, v: ModelVersion) -> dict[str, Any]:
    values = {
        "model_id": model_id,
        "version": v.version,
        "version_num": v.number,
        "status": str(v.status),
        "stage": v.stage,
        "source_uri": v.source_uri,
        "run_id": v.run_id,
        "run_link": v.run_link,
        "description": v.description or "",
        "tags_json": _dumps(dict(v.tags)),
        "aliases_json": _dumps(sorted(v.aliases)),
        "flavor": v.flavor,
        "created_at": ms_from_utc(v.created_at),
        "updated_at": ms_from_utc(v.updated_at),
    }
    values["content_hash"] = _hash(values)
    return values


def _changed(table: Any, stmt: Any) -> Any:
    return table.c.content_hash != stmt.excluded.content_hash


def upsert_models(
    con: Connection,
    models: Sequence[RegisteredModel],
    versions: Mapping[str, Sequence[ModelVersion]] | None = None,
) -> UpsertResult:
    """Insert or update ``models`` (all of one source) and, for each model named
    in ``versions``, make its cached versions exactly that list.

    Idempotent: rows whose content did not change are not written, so neither
    their FTS entries nor their timestamps move. The caller's transaction makes
    the whole batch atomic.
    """
    if not models:
        return UpsertResult(0, 0, 0)
    sources = {m.source for m in models}
    if len(sources) != 1:
        raise ValueError("upsert_models takes models of one source per call")
    (source,) = sources
    versions = versions or {}

    rows = [_model_values(m, versions.get(m.name)) for m in models]
    stmt = insert(models_t)
    updatable = {c: stmt.excluded[c] for c in rows[0] if c not in ("source", "name")}
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "name"], set_=updatable, where=_changed(models_t, stmt)
    )
    models_written = con.execute(stmt, rows).rowcount
    names = [m.name for m in models]
    ids = _model_ids(con, source, names)

    # tags and aliases side tables: rewrite for the models of this batch
    model_ids = [ids[n] for n in names]
    for chunk in _chunks(model_ids, 500):
        con.execute(delete(tags_t).where(tags_t.c.model_id.in_(chunk)))
        con.execute(delete(aliases_t).where(aliases_t.c.model_id.in_(chunk)))
    tag_rows = [
        {"model_id": ids[m.name], "key": k, "value": v} for m in models for k, v in m.tags.items()
    ]
    alias_rows = [
        {"model_id": ids[m.name], "alias": a, "version": v}
        for m in models
        for a, v in m.aliases.items()
    ]
    if tag_rows:
        con.execute(insert(tags_t), tag_rows)
    if alias_rows:
        con.execute(insert(aliases_t), alias_rows)

    versions_written = versions_removed = 0
    version_rows = [
        _version_values(ids[name], v) for name, vs in versions.items() if name in ids for v in vs
    ]
    if version_rows:
        vstmt = insert(versions_t)
        vset = {c: vstmt.excluded[c] for c in version_rows[0] if c not in ("model_id", "version")}
        vstmt = vstmt.on_conflict_do_update(
            index_elements=["model_id", "version"], set_=vset, where=_changed(versions_t, vstmt)
        )
        versions_written = con.execute(vstmt, version_rows).rowcount
    synced = [{"m": ids[name]} for name in versions if name in ids]
    if synced:
        versions_removed = _remove_versions_except(
            con,
            synced,
            [
                {"m": ids[name], "v": v.version}
                for name, vs in versions.items()
                if name in ids
                for v in vs
            ],
        )
    return UpsertResult(models_written, versions_written, versions_removed)


def _remove_versions_except(
    con: Connection, models: list[dict[str, int]], keep: list[dict[str, Any]]
) -> int:
    """Delete the versions of ``models`` not in ``keep``, in one statement: a DELETE
    per model compiled 10,000 statements for a page of 10,000 models (the
    bottleneck of a sync, bench/sync_mlflow.py)."""
    con.execute(text("CREATE TEMP TABLE IF NOT EXISTS _sync_models (m INTEGER PRIMARY KEY)"))
    con.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS _keep_versions (m INTEGER, v TEXT, PRIMARY KEY (m, v))"
        )
    )
    con.execute(text("DELETE FROM _sync_models"))
    con.execute(text("DELETE FROM _keep_versions"))
    con.execute(text("INSERT OR IGNORE INTO _sync_models (m) VALUES (:m)"), models)
    if keep:
        con.execute(text("INSERT OR IGNORE INTO _keep_versions (m, v) VALUES (:m, :v)"), keep)
    removed = con.execute(
        text(
            "DELETE FROM versions WHERE model_id IN (SELECT m FROM _sync_models) "
            "AND NOT EXISTS (SELECT 1 FROM _keep_versions k "
            "WHERE k.m = versions.model_id AND k.v = versions.version)"
        )
    ).rowcount
    con.execute(text("DELETE FROM _sync_models"))
    con.execute(text("DELETE FROM _keep_versions"))
    return int(removed)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _model_ids(con: Connection, source: str, names: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(names, 500):
        q = select(models_t.c.name, models_t.c.id).where(
            models_t.c.source == source, models_t.c.name.in_(chunk)
        )
        ids.update({row[0]: row[1] for row in con.execute(q)})
    return ids


def remove_models_except(con: Connection, source: str, keep: Iterable[str]) -> int:
    """Delete every cached model of ``source`` not named in ``keep`` (a full pass saw
    exactly ``keep`` upstream). Versions, tags and aliases go with them."""
    con.execute(text("CREATE TEMP TABLE IF NOT EXISTS _keep_names (name TEXT PRIMARY KEY)"))
    con.execute(text("DELETE FROM _keep_names"))
    names = [{"name": n} for n in set(keep)]
    if names:
        con.execute(text("INSERT INTO _keep_names (name) VALUES (:name)"), names)
    removed = con.execute(
        text(
            "DELETE FROM models WHERE source = :source "
            "AND name NOT IN (SELECT name FROM _keep_names)"
        ),
        {"source": source},
    ).rowcount
    con.execute(text("DELETE FROM _keep_names"))
    return int(removed)


def remove_models(con: Connection, source: str, names: Iterable[str]) -> int:
    removed = 0
    for chunk in _chunks(list(names), 500):
        removed += con.execute(
            delete(models_t).where(models_t.c.source == source, models_t.c.name.in_(chunk))
        ).rowcount
    return removed


def save_source(con: Connection, state: SourceState) -> None:
    values = {
        "name": state.name,
        "kind": state.kind,
        "url": state.url,
        "cursor": state.cursor,
        "last_sync_at": ms_from_utc(state.last_sync_at),
        "last_full_sync_at": ms_from_utc(state.last_full_sync_at),
        "last_error": state.last_error,
    }
    stmt = insert(sources_t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"], set_={k: stmt.excluded[k] for k in values if k != "name"}
    )
    con.execute(stmt, values)


def get_source(con: Connection, name: str) -> SourceState | None:
    for state in list_sources(con):
        if state.name == name:
            return state
    return None


def list_sources(con: Connection) -> list[SourceState]:
    grouped = select(models_t.c.source, func.count()).group_by(models_t.c.source)
    counts: dict[str, int] = {row[0]: row[1] for row in con.execute(grouped)}
    out = [
        SourceState(
            name=r.name,
            kind=r.kind,
            url=r.url,
            cursor=r.cursor,
            last_sync_at=utc_from_ms(r.last_sync_at),
            last_full_sync_at=utc_from_ms(r.last_full_sync_at),
            last_error=r.last_error,
            models=counts.pop(r.name, 0),
        )
        for r in con.execute(select(sources_t).order_by(sources_t.c.name))
    ]
    # models of a source with no sync record (should not happen, but never hide data)
    out.extend(SourceState(name=n, kind="unknown", models=c) for n, c in counts.items())
    return out


def replace_deployments(con: Connection, target: str, deployments: Sequence[Deployment]) -> None:
    """Make the cached apps of ``target`` exactly ``deployments``."""
    con.execute(delete(deployments_t).where(deployments_t.c.target == target))
    if deployments:
        con.execute(insert(deployments_t), [_deployment_values(d) for d in deployments])


def _deployment_values(d: Deployment) -> dict[str, Any]:
    return {
        "target": d.target,
        "app": d.app,
        "model_source": d.model_source,
        "model_name": d.model_name,
        "traffic_json": _dumps(dict(d.traffic)),
        "replicas": d.replicas,
        "status": str(d.status),
        "message": d.message,
        "route": d.route,
        "updated_at": ms_from_utc(d.updated_at),
    }


# ------------------------------------------------------------------ reads
class _Driver:
    """``app.store.catalog_query``'s reader over this SQLAlchemy connection."""

    def __init__(self, con: Connection) -> None:
        self._con = con

    def execute(self, sql: str, parameters: Sequence[Any], /) -> Any:
        return self._con.exec_driver_sql(sql, tuple(parameters))


_MODEL_SELECT = ", ".join(f"models.{c.name}" for c in models_t.c)


def search_models(
    con: Connection,
    query: CatalogQuery,
    *,
    limit: int | None = None,
    offset: int = 0,
    sort: str = "name",
    descending: bool = False,
) -> list[RegisteredModel]:
    """Models matching ``query`` in ``sort`` order, as the catalog browser shows them:
    both evaluate queries and sort keys through ``app.store.catalog_query``."""
    rows = catalog_query.ordered_rows(
        _Driver(con),
        query,
        columns=_MODEL_SELECT,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )
    return [_model(r) for r in rows]


def count_models(con: Connection, query: CatalogQuery | None = None) -> int:
    return catalog_query.count(_Driver(con), query or CatalogQuery())


def count_versions(con: Connection) -> int:
    return int(con.execute(select(func.count()).select_from(versions_t)).scalar_one())


def count_deployments(con: Connection) -> int:
    return int(con.execute(select(func.count()).select_from(deployments_t)).scalar_one())


def find_models(con: Connection, name: str, source: str | None = None) -> list[RegisteredModel]:
    q = select(models_t).where(models_t.c.name == name)
    if source is not None:
        q = q.where(models_t.c.source == source)
    return [_model(r) for r in con.execute(q.order_by(models_t.c.source))]


def model_versions(con: Connection, source: str, name: str) -> list[ModelVersion]:
    q = (
        select(versions_t)
        .join(models_t, models_t.c.id == versions_t.c.model_id)
        .where(models_t.c.source == source, models_t.c.name == name)
        .order_by(versions_t.c.version_num.desc(), versions_t.c.version.desc())
    )
    return [_version(source, name, r) for r in con.execute(q)]


def deployments_of(con: Connection, name: str, source: str | None = None) -> list[Deployment]:
    q = select(deployments_t).where(deployments_t.c.model_name == name)
    if source is not None:
        q = q.where(
            deployments_t.c.model_source.is_(None) | (deployments_t.c.model_source == source)
        )
    return [_deployment(r) for r in con.execute(q.order_by(deployments_t.c.target))]


def list_deployments(con: Connection, target: str | None = None) -> list[Deployment]:
    q = select(deployments_t)
    if target is not None:
        q = q.where(deployments_t.c.target == target)
    q = q.order_by(deployments_t.c.target, deployments_t.c.app)
    return [_deployment(r) for r in con.execute(q)]


def _model(r: Any) -> RegisteredModel:
    return RegisteredModel(
        source=r.source,
        name=r.name,
        description=r.description,
        tags=json.loads(r.tags_json),
        aliases=json.loads(r.aliases_json),
        owner=r.owner,
        flavor=r.flavor,
        created_at=utc_from_ms(r.created_at),
        updated_at=utc_from_ms(r.updated_at),
        latest_version=r.latest_version,
        version_count=r.version_count,
        web_url=r.web_url,
    )


def _version(source: str, name: str, r: Any) -> ModelVersion:
    return ModelVersion(
        source=source,
        model_name=name,
        version=r.version,
        status=VersionStatus.parse(r.status),
        stage=r.stage,
        source_uri=r.source_uri,
        run_id=r.run_id,
        run_link=r.run_link,
        description=r.description,
        tags=json.loads(r.tags_json),
        aliases=tuple(json.loads(r.aliases_json)),
        created_at=utc_from_ms(r.created_at),
        updated_at=utc_from_ms(r.updated_at),
        flavor=r.flavor,
    )


def _deployment(r: Any) -> Deployment:
    return Deployment(
        target=r.target,
        app=r.app,
        model_name=r.model_name,
        model_source=r.model_source,
        traffic=json.loads(r.traffic_json),
        replicas=r.replicas,
        status=DeploymentStatus.parse(r.status),
        message=r.message,
        route=r.route,
        updated_at=utc_from_ms(r.updated_at),
    )
