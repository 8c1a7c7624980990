"""Read-only queries for the catalog browser, over the plain ``sqlite3`` driver.

The browser loads the display columns of every cached model once and then
answers each keystroke from memory plus one FTS5 lookup. Both paths are hot:
the first screen has to be on screen before SQLAlchemy is even imported
(docs/performance.md: 0.34 s vs 0.94 s), and an FTS lookup through the plain driver
costs a few milliseconds. So this module speaks ``sqlite3`` directly, opens
the file read-only (``mode=ro``: it can never write or migrate), and returns
plain tuples that :mod:`app.services.browse` turns into columns.

One connection per thread: the caller (the browse service) keeps them apart.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app.store import catalog_query

#: what the browser shows of each model, in this column order
MODEL_COLUMNS = (
    "id",
    "source",
    "name",
    "latest_version",
    "owner",
    "flavor",
    "updated_at",
    "version_count",
    "tags_json",
    "aliases_json",
    "created_at",
)
#: sort keys the first screen orders by; only indexed columns, so it stays a few ms
#: (the full index sorts by every key, as ``catalog_query`` defines them)
_FIRST_SCREEN_KEYS = ("name", "updated", "owner", "flavor")

ModelTuple = tuple[
    int, str, str, str | None, str | None, str | None, int | None, int, str, str, int | None
]


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection; raises ``sqlite3.OperationalError`` if the file is absent."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=True)
    con.execute("PRAGMA query_only=ON")
    return con


def has_models_table(con: sqlite3.Connection) -> bool:
    row = con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='models'").fetchone()
    return row is not None


def read_models(
    con: sqlite3.Connection,
    *,
    order: str | None = None,
    descending: bool = False,
    limit: int | None = None,
) -> list[ModelTuple]:
    """Display columns of cached models (all of them unless ``limit``)."""
    sql = f"SELECT {', '.join(MODEL_COLUMNS)} FROM models"
    if order is not None:
        key = order if order in _FIRST_SCREEN_KEYS else "updated"
        sql += " ORDER BY " + catalog_query.order_by(key, descending)
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return con.execute(sql).fetchall()


def count_models(con: sqlite3.Connection) -> int:
    return int(con.execute("SELECT count(*) FROM models").fetchone()[0])


def read_deployments(con: sqlite3.Connection) -> list[tuple[str | None, str, str, str, str]]:
    """``(model_source, model_name, target, app, status)`` of every cached deployment."""
    return con.execute(
        "SELECT model_source, model_name, target, app, status FROM deployments ORDER BY target, app"
    ).fetchall()


def read_model_deployments(con: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """``(model_id, target, app)`` of every deployment of a cached model (by the rule
    ``deployed:`` searches with, ``catalog_query.DEPLOYMENTS_OF_MODEL``)."""
    return con.execute(catalog_query.MODEL_DEPLOYMENTS_SQL).fetchall()


def read_stages(con: sqlite3.Connection) -> list[tuple[int, str]]:
    """``(model_id, stage)`` for every stage some version of a model is in."""
    return con.execute(catalog_query.MODEL_STAGES_SQL).fetchall()


def fts_ids(con: sqlite3.Connection, text: str) -> str:
    """Row ids, comma-separated, that free ``text`` matches as prefixes (FTS only)."""
    return (catalog_query.text_ids(con, text, fallback=False) or ("", False))[0]


def description_of(con: sqlite3.Connection, model_id: int) -> str:
    row = con.execute("SELECT description FROM models WHERE id = ?", (model_id,)).fetchone()
    return str(row[0]) if row else ""


def model_key(con: sqlite3.Connection, model_id: int) -> tuple[str, str] | None:
    row = con.execute("SELECT source, name FROM models WHERE id = ?", (model_id,)).fetchone()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True, slots=True)
class CachedRun:
    """Params and metrics of one run as the cache holds them (fetched earlier by a sync)."""

    run_id: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    fetched_at_ms: int | None = None
    link: str | None = None


def read_runs(con: sqlite3.Connection, source: str, run_ids: Iterable[str]) -> dict[str, CachedRun]:
    """Cached run data for ``run_ids`` of registry ``source``; runs never fetched are
    absent. A cache without the runs table (schema before 0002) has none."""
    ids = list(dict.fromkeys(run_ids))
    if not ids:
        return {}
    exists = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='runs'"
    ).fetchone()
    if exists is None:
        return {}
    out: dict[str, CachedRun] = {}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        rows = con.execute(
            "SELECT run_id, params_json, metrics_json, fetched_at, link FROM runs "
            f"WHERE source = ? AND run_id IN ({marks})",
            (source, *chunk),
        )
        for run_id, params, metrics, fetched_at, link in rows:
            out[run_id] = CachedRun(
                run_id=run_id,
                params={str(k): str(v) for k, v in json.loads(params or "{}").items()},
                metrics=_floats(json.loads(metrics or "{}")),
                fetched_at_ms=fetched_at,
                link=link,
            )
    return out


def _floats(values: dict[str, object]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in values.items():
        try:
            out[str(k)] = float(v) if isinstance(v, int | float | str) else math.nan
        except ValueError:
            out[str(k)] = math.nan
    return out


def _chunks(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
