"""The demo generator: realistic, deterministic, and the same path a sync uses."""

from __future__ import annotations

from pathlib import Path

from app.domain.models import CatalogQuery
from app.services.catalog import CatalogService
from app.services.demo import generate
from app.store import queries
from app.store.db import Cache
from tests.conftest import DEMO_NOW


def _dump(path: Path) -> list[tuple]:
    c = Cache.open(path)
    with c.read() as con:
        rows = con.exec_driver_sql(
            "SELECT m.source, m.name, m.description, m.tags_json, m.aliases_json, m.owner, "
            "m.updated_at, v.version, v.status, v.tags_json FROM models m "
            "JOIN versions v ON v.model_id = m.id ORDER BY m.source, m.name, v.version_num"
        ).all()
    c.close()
    return [tuple(r) for r in rows]


def test_same_seed_same_catalog(tmp_path: Path) -> None:
    for name in ("a.sqlite", "b.sqlite"):
        c = Cache.open(tmp_path / name)
        generate(c, 300, seed=11, now=DEMO_NOW)
        c.close()
    assert _dump(tmp_path / "a.sqlite") == _dump(tmp_path / "b.sqlite")


def test_demo_catalog_is_realistic(demo_cache_file: Path) -> None:
    catalog = CatalogService(Cache.open(demo_cache_file))
    info = catalog.info()
    assert info.models == 2000
    assert 8_000 <= info.versions <= 12_000
    assert info.deployments > 20
    assert {s.name for s in info.sources} == {"mlflow-prod", "mlflow-research"}
    assert catalog.count("alias:champion") > 1500
    assert catalog.count("alias:challenger") > 100
    teams = {m.tags["team"] for m in catalog.search(CatalogQuery(), limit=2000)}
    assert len(teams) >= 8
    with catalog.cache.read() as con:
        statuses = {d.status for d in queries.list_deployments(con)}
    assert len(statuses) >= 3  # running, and some that need attention
    catalog.cache.close()
