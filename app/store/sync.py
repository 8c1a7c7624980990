"""Cache reads and writes the sync service needs beyond ``queries``: what is cached
per source (to count added vs. updated, and to compare a sweep's model headers),
and the run-data cache. The caller owns the transaction, as in ``queries``."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects.sqlite import insert

from app.domain.catalog import RunData
from app.domain.models import RegisteredModel, ms_from_utc, utc_from_ms
from app.store.schema import ModelRow, RunRow, VersionRow

models_t = cast(Table, ModelRow.__table__)
versions_t = cast(Table, VersionRow.__table__)
runs_t = cast(Table, RunRow.__table__)

#: the model fields a sweep compares (everything a header from the registry carries)
Header = tuple[Any, ...]


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def header_of(m: RegisteredModel) -> Header:
    """The fields of ``m`` a registry reports without its versions, in a comparable form."""
    return (
        m.description or "",
        _dumps(dict(m.tags)),
        _dumps(dict(m.aliases)),
        ms_from_utc(m.updated_at),
        m.owner,
        m.flavor,
        m.web_url,
    )


def cached_headers(con: Connection, source: str, names: Sequence[str]) -> dict[str, Header]:
    """name → header of the cached models of ``source`` among ``names``."""
    out: dict[str, Header] = {}
    cols = (
        models_t.c.name,
        models_t.c.description,
        models_t.c.tags_json,
        models_t.c.aliases_json,
        models_t.c.updated_at,
        models_t.c.owner,
        models_t.c.flavor,
        models_t.c.web_url,
    )
    for chunk in _chunks(list(names)):
        q = select(*cols).where(models_t.c.source == source, models_t.c.name.in_(chunk))
        for r in con.execute(q):
            out[r.name] = (
                r.description or "",
                _dumps(json.loads(r.tags_json)),
                _dumps(json.loads(r.aliases_json)),
                r.updated_at,
                r.owner,
                r.flavor,
                r.web_url,
            )
    return out


def cached_names(con: Connection, source: str) -> set[str]:
    q = select(models_t.c.name).where(models_t.c.source == source)
    return set(con.execute(q).scalars())


def cached_versions(con: Connection, source: str, names: Iterable[str]) -> set[tuple[str, str]]:
    """(model name, version) pairs cached for ``source`` among the models ``names``."""
    out: set[tuple[str, str]] = set()
    for chunk in _chunks(list(names)):
        q = (
            select(models_t.c.name, versions_t.c.version)
            .join(versions_t, versions_t.c.model_id == models_t.c.id)
            .where(models_t.c.source == source, models_t.c.name.in_(chunk))
        )
        out.update((r.name, r.version) for r in con.execute(q))
    return out


# ------------------------------------------------------------------ runs
def save_run(con: Connection, run: RunData) -> None:
    values = {
        "source": run.source,
        "run_id": run.run_id,
        "experiment_id": run.experiment_id,
        "name": run.name,
        "status": run.status,
        "started_at": ms_from_utc(run.started_at),
        "ended_at": ms_from_utc(run.ended_at),
        "params_json": _dumps(dict(run.params)),
        # JSON has no NaN/inf: keep them as strings and read them back as floats
        "metrics_json": _dumps(
            {k: (v if math.isfinite(v) else repr(v)) for k, v in run.metrics.items()}
        ),
        "tags_json": _dumps(dict(run.tags)),
        "link": run.link,
        "fetched_at": ms_from_utc(run.fetched_at),
    }
    stmt = insert(runs_t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "run_id"],
        set_={k: stmt.excluded[k] for k in values if k not in ("source", "run_id")},
    )
    con.execute(stmt, values)


def get_run(con: Connection, source: str, run_id: str) -> RunData | None:
    q = select(runs_t).where(runs_t.c.source == source, runs_t.c.run_id == run_id)
    r = con.execute(q).first()
    if r is None:
        return None
    return RunData(
        source=r.source,
        run_id=r.run_id,
        experiment_id=r.experiment_id,
        name=r.name,
        status=r.status,
        started_at=utc_from_ms(r.started_at),
        ended_at=utc_from_ms(r.ended_at),
        params=json.loads(r.params_json),
        metrics={k: float(v) for k, v in json.loads(r.metrics_json).items()},
        tags=json.loads(r.tags_json),
        link=r.link,
        fetched_at=utc_from_ms(r.fetched_at),
    )
