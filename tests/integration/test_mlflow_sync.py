"""``modeldeck sync`` against real MLflow servers, through the real CLI.

Two servers: ``mlflow_catalog`` serves a private copy of the prebuilt 2,600-model
registry (odd names, empty models, many tags, aliases, runs) and is only read;
``mlflow_server`` is the session's small server, where tests make changes over
REST. Nothing here is mocked; the token test puts a real token-checking HTTP
gateway (``servers.Gateway``) in front of the real MLflow, because MLflow's own
auth app needs a separate auth database and admin set-up.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.integration.mlflow_support import (
    REPO,
    Rest,
    cache_dump,
    cli_json,
    gateway_to,
    modeldeck,
)
from tests.integration.servers import closed_port, require, wait_until

pytestmark = pytest.mark.integration


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    when = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return when.isoformat().replace("+00:00", "Z")


def add_registry(home: Path, name: str, url: str, token: str | None = None) -> None:
    args = ["backends", "add", name, "--kind", "mlflow", "--url", url]
    if token is not None:
        args.append("--token-stdin")
    proc = modeldeck(home, *args, stdin=token)
    assert proc.returncode == 0, proc.stderr


def sync(home: Path, *args: str) -> tuple[int, Any, str]:
    proc = modeldeck(home, "sync", *args, "--json")
    import json

    body = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, body, proc.stderr


def expected_versions(rest: Rest) -> dict[str, list[dict[str, Any]]]:
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in rest.all_versions():
        by_model[v["name"]].append(v)
    return by_model


def check_model(
    url: str, source: str, got: dict[str, Any], exp: dict[str, Any], versions: list[dict[str, Any]]
) -> None:
    name = exp["name"]
    tags = {t["key"]: t["value"] for t in exp.get("tags", [])}
    assert got["name"] == name
    assert got["source"] == source
    assert got["description"] == (exp.get("description") or ""), name
    assert got["tags"] == tags, name
    assert got["aliases"] == {a["alias"]: a["version"] for a in exp.get("aliases", [])}, name
    assert got["created_at"] == iso(exp.get("creation_timestamp")), name
    assert got["updated_at"] == iso(exp.get("last_updated_timestamp")), name
    assert got["version_count"] == len(versions), name
    latest = str(max(int(v["version"]) for v in versions)) if versions else None
    assert got["latest_version"] == latest, name
    assert got["web_url"] == f"{url}/#/models/{quote(name, safe='')}"
    assert got["owner"] == (tags.get("owner") or exp.get("user_id") or None), name


def check_versions(
    url: str,
    source: str,
    aliases: dict[str, str],
    got: list[dict[str, Any]],
    exp: list[dict[str, Any]],
) -> None:
    assert [v["version"] for v in got] == sorted((v["version"] for v in exp), key=int, reverse=True)
    by_version = {v["version"]: v for v in exp}
    for g in got:
        e = by_version[g["version"]]
        where = f"{g['model_name']} v{g['version']}"
        assert g["source"] == source
        assert g["model_name"] == e["name"]
        assert g["status"] == e.get("status", "UNKNOWN"), where
        stage = e.get("current_stage")
        assert g["stage"] == (None if stage in (None, "None") else stage), where
        assert g["source_uri"] == (e.get("source") or None), where
        assert g["run_id"] == (e.get("run_id") or None), where
        assert g["description"] == (e.get("description") or ""), where
        assert g["tags"] == {t["key"]: t["value"] for t in e.get("tags", [])}, where
        assert g["aliases"] == sorted(a for a, v in aliases.items() if v == g["version"]), where
        assert g["created_at"] == iso(e.get("creation_timestamp")), where
        assert g["updated_at"] == iso(e.get("last_updated_timestamp")), where
        if e.get("run_link"):
            assert g["run_link"] == e["run_link"], where
        elif g["run_link"] is not None:
            assert g["run_link"].startswith(f"{url}/#/experiments/"), where
            assert g["run_link"].endswith(f"/runs/{e['run_id']}"), where


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def synced_catalog(
    mlflow_catalog: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any]]:
    """A MODELDECK_HOME whose cache went through one real ``modeldeck sync`` of the
    catalog registry. Tests copy it (``copy_home``) before changing anything."""
    home = tmp_path_factory.mktemp("catalog-home")
    add_registry(home, "cat", mlflow_catalog.url)
    code, body, err = sync(home)
    assert code == 0, err
    return home, body


def copy_home(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


# ------------------------------------------------------------------ tests
def test_full_sync_matches_the_server_field_by_field(mlflow_catalog, synced_catalog):
    home, body = synced_catalog
    url = mlflow_catalog.url
    rest = Rest(url)
    try:
        models = {m["name"]: m for m in rest.all_models()}
        versions = expected_versions(rest)
    finally:
        rest.close()
    assert len(models) >= 2500
    assert sum(1 for n in models if n not in versions) > 100  # models with no versions
    (result,) = body["results"]
    assert body["ok"] is True
    assert result["mode"] == "full"
    assert result["models_added"] == len(models)
    assert result["versions_added"] == sum(len(v) for v in versions.values())
    assert result["models_removed"] == 0

    listing = cli_json(home, "models", "list")
    assert listing["count"] == len(models)
    assert {m["name"] for m in listing["models"]} == set(models)
    for got in listing["models"]:
        check_model(url, "cat", got, models[got["name"]], versions.get(got["name"], []))

    odd = sorted({n for n in models if not n.startswith("cat-")})
    assert any("🚀" in n for n in odd)
    assert any("'" in n and '"' in n for n in odd)
    assert any("\\" in n for n in odd)
    assert any(n.startswith(" ") for n in odd)
    # one of each odd kind, plus models with many tags, stages, runs, odd statuses
    kinds: dict[str, str] = {}
    for n in odd:
        kinds.setdefault(n[:-5], n)
    sample = [
        *kinds.values(),
        "cat-0050",
        "cat-0001",
        "cat-0004",
        "cat-0006",
        "cat-0017",
        "cat-0003",
    ]
    for name in sample:
        detail = cli_json(home, "models", "show", name, "--source", "cat")
        exp = models[name]
        check_model(url, "cat", detail["model"], exp, versions.get(name, []))
        aliases = {a["alias"]: a["version"] for a in exp.get("aliases", [])}
        check_versions(url, "cat", aliases, detail["versions"], versions.get(name, []))


def test_two_registries_stay_distinct(mlflow_catalog, mlflow_server, synced_catalog, tmp_path):
    home = copy_home(synced_catalog[0], tmp_path / "home")
    rest = Rest(mlflow_server)
    name = "cat-0005"  # also a model of the catalog registry
    try:
        if not rest.get("/registered-models/search", filter=f"name = '{name}'").get(
            "registered_models"
        ):
            rest.post("/registered-models/create", {"name": name, "description": "small one"})
    finally:
        rest.close()
    add_registry(home, "small", mlflow_server)
    code, _body, err = sync(home, "small")
    assert code == 0, err
    both = cli_json(home, "models", "list", "--search", name)
    assert {m["source"] for m in both["models"] if m["name"] == name} == {"cat", "small"}
    proc = modeldeck(home, "models", "show", name)
    assert proc.returncode != 0
    assert "several sources" in proc.stderr
    small = cli_json(home, "models", "show", name, "--source", "small")
    assert small["model"]["description"] == "small one"
    assert (
        cli_json(home, "models", "show", name, "--source", "cat")["model"]["description"]
        != "small one"
    )


def test_incremental_sync_picks_up_exactly_the_changes(mlflow_server, tmp_path):
    home = tmp_path / "home"
    p = f"inc-{uuid.uuid4().hex[:8]}"
    a, b, c, d, e = (f"{p}-{x}" for x in "abcde")
    rest = Rest(mlflow_server)
    try:
        for name in (a, b, c, d, e):
            rest.post(
                "/registered-models/create",
                {"name": name, "description": "old", "tags": [{"key": "team", "value": "x"}]},
            )
        for name, n in ((a, 2), (b, 1), (d, 1), (e, 1)):
            for i in range(n):
                rest.post("/model-versions/create", {"name": name, "source": f"s3://b/{name}/{i}"})
        rest.post("/registered-models/alias", {"name": a, "alias": "champion", "version": "1"})
        add_registry(home, "small", mlflow_server)
        code, body, err = sync(home, "small", "--full")
        assert code == 0, err
        before = cli_json(home, "models", "list")["models"]
        before_rows = cache_dump(home / "data" / "cache.sqlite")

        # the changes: new version, moved alias, edited description, deleted model
        rest.post("/model-versions/create", {"name": b, "source": f"s3://b/{b}/new"})
        rest.post("/registered-models/alias", {"name": a, "alias": "champion", "version": "2"})
        rest.patch("/registered-models/update", {"name": c, "description": "new text ✓"})
        rest.delete("/registered-models/delete", {"name": d})

        # quick: timestamps only — sees the version and the description, not the
        # alias move (MLflow moves no timestamp for it) nor the deletion
        code, body, err = sync(home, "small", "--quick")
        assert code == 0, err
        (q,) = body["results"]
        assert q["mode"] == "quick"
        assert (q["versions_added"], q["models_removed"]) == (1, 0)
        show_a = cli_json(home, "models", "show", a, "--source", "small")
        assert show_a["model"]["aliases"] == {"champion": "1"}

        code, body, err = sync(home, "small")
        assert code == 0, err
        (r,) = body["results"]
        assert r["mode"] == "incremental"
        assert r["models_added"] == 0
        assert r["models_removed"] == 1
        assert r["models_updated"] == 1  # a: alias (b and c were taken by the quick pass)
        assert r["versions_added"] == 0
        assert r["versions_updated"] == 2  # a v1 loses, a v2 gains "champion"

        after = {m["name"]: m for m in cli_json(home, "models", "list")["models"]}
        models = {m["name"]: m for m in rest.all_models()}
        versions = expected_versions(rest)
    finally:
        rest.close()
    assert d not in after
    for name in (a, b, c, e):
        check_model(mlflow_server, "small", after[name], models[name], versions.get(name, []))
        detail = cli_json(home, "models", "show", name, "--source", "small")
        aliases = {x["alias"]: x["version"] for x in models[name].get("aliases", [])}
        check_versions(mlflow_server, "small", aliases, detail["versions"], versions.get(name, []))
    assert after[a]["aliases"] == {"champion": "2"}
    assert after[b]["version_count"] == 2
    assert after[c]["description"] == "new text ✓"
    # everything else is exactly as before, row for row
    untouched = {m["name"]: m for m in before if m["name"] not in (a, b, c, d)}
    assert {n: after[n] for n in untouched} == untouched
    after_rows = cache_dump(home / "data" / "cache.sqlite")
    ids_changed = {row[0] for row in before_rows["models"] if row[2] in (a, b, c, d)}

    def keep(rows: list[tuple[Any, ...]], col: int) -> list[tuple[Any, ...]]:
        return [r for r in rows if r[col] not in ids_changed]

    assert keep(after_rows["models"], 0) == keep(before_rows["models"], 0)
    assert keep(after_rows["versions"], 1) == keep(before_rows["versions"], 1)


def _consistent(cache: Path, versions: dict[str, list[dict[str, Any]]]) -> int:
    """Every cached model has exactly the server's versions; returns the model count."""
    con = sqlite3.connect(cache)
    try:
        con.execute("PRAGMA busy_timeout=10000")
        rows = con.execute("SELECT id, name, version_count FROM models").fetchall()
        cached = defaultdict(set)
        for model_id, version in con.execute("SELECT model_id, version FROM versions"):
            cached[model_id].add(version)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    for model_id, name, count in rows:
        expected = {v["version"] for v in versions.get(name, [])}
        assert cached[model_id] == expected, name
        assert count == len(expected), name
    return len(rows)


def test_sync_killed_midway_leaves_a_consistent_cache(mlflow_catalog, tmp_path):
    home = tmp_path / "home"
    add_registry(home, "cat", mlflow_catalog.url)
    rest = Rest(mlflow_catalog.url)
    try:
        versions = expected_versions(rest)
        total = len(rest.all_models())
    finally:
        rest.close()
    cache = home / "data" / "cache.sqlite"
    env = {**os.environ, "MODELDECK_HOME": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sync", "--full"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def models_cached() -> int:
        if not cache.exists():
            return 0
        con = sqlite3.connect(cache, timeout=10)
        try:
            return int(con.execute("SELECT count(*) FROM models").fetchone()[0])
        except sqlite3.OperationalError:  # schema not created yet
            return 0
        finally:
            con.close()

    try:
        wait_until(
            lambda: models_cached() > 0,
            timeout_s=120,
            what="first committed page",
            alive=lambda: proc.poll() is None,
            interval_s=0.02,
        )
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    count = _consistent(cache, versions)
    assert 0 < count < total, "the sync finished before it was killed; nothing was tested"
    assert count % 1000 == 0  # whole pages only
    con = sqlite3.connect(cache)
    try:
        assert con.execute("SELECT cursor FROM sources WHERE name='cat'").fetchone() in (
            None,
            (None,),
        )
    finally:
        con.close()

    code, body, err = sync(home)
    assert code == 0, err
    assert body["results"][0]["mode"] == "full"
    assert _consistent(cache, versions) == total


def test_server_down_fails_clearly_and_keeps_the_cache(mlflow_server, tmp_path):
    home = tmp_path / "home"
    add_registry(home, "small", mlflow_server)
    assert sync(home, "small")[0] == 0
    before = cache_dump(home / "data" / "cache.sqlite")
    add_registry(home, "down", f"http://127.0.0.1:{closed_port()}")
    code, body, err = sync(home, "down")
    assert code == 1
    assert body["results"][0]["error_kind"] == "Unreachable"
    assert "connection refused" in err
    assert err.strip().splitlines()[-1].startswith("modeldeck: error: down:")
    after = cache_dump(home / "data" / "cache.sqlite")
    assert {k: v for k, v in after.items() if k != "sources"} == {
        k: v for k, v in before.items() if k != "sources"
    }
    info = cli_json(home, "cache", "info")
    states = {s["name"]: s for s in info["sources"]}
    assert "connection refused" in states["down"]["last_error"]
    assert states["small"]["last_error"] is None


def test_wrong_token_is_refused_and_keeps_the_cache(mlflow_server, tmp_path):
    require(
        os.environ.get("MODELDECK_KEYRING_READY") == "1", "needs the test keyring (tests/run.sh)"
    )
    home = tmp_path / "home"
    with gateway_to(mlflow_server, "right-token-7c1") as gw:
        add_registry(home, "gw", gw.url, token="right-token-7c1")
        code, body, err = sync(home, "gw")
        assert code == 0, err
        before = cache_dump(home / "data" / "cache.sqlite")
        add_registry_replace = modeldeck(
            home,
            "backends",
            "add",
            "gw",
            "--kind",
            "mlflow",
            "--url",
            gw.url,
            "--token-stdin",
            "--replace",
            stdin="wrong-token",
        )
        assert add_registry_replace.returncode == 0, add_registry_replace.stderr
        code, body, err = sync(home, "gw", "--full")
        assert code == 1
        assert body["results"][0]["error_kind"] == "Unauthorized"
        assert "401" in err
        assert "wrong-token" not in err
        assert "wrong-token" not in str(body)
        assert gw.refused >= 1
    after = cache_dump(home / "data" / "cache.sqlite")
    assert {k: v for k, v in after.items() if k != "sources"} == {
        k: v for k, v in before.items() if k != "sources"
    }


def test_run_data_is_fetched_on_demand_and_readable_offline(
    mlflow_catalog, synced_catalog, tmp_path
):
    home = copy_home(synced_catalog[0], tmp_path / "home")
    con = sqlite3.connect(home / "data" / "cache.sqlite")
    try:
        assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0  # sync fetched none
        (run_id,) = con.execute(
            "SELECT run_id FROM versions WHERE run_id IS NOT NULL LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    rest = Rest(mlflow_catalog.url)
    try:
        exp = rest.get("/runs/get", run_id=run_id)["run"]
    finally:
        rest.close()
    run = cli_json(home, "runs", "show", run_id, "--source", "cat")
    assert run["stale"] is False
    assert run["params"] == {p["key"]: p["value"] for p in exp["data"]["params"]}
    assert set(run["metrics"]) == {m["key"] for m in exp["data"]["metrics"]}
    assert run["experiment_id"] == exp["info"]["experiment_id"]
    assert (
        run["link"]
        == f"{mlflow_catalog.url}/#/experiments/{exp['info']['experiment_id']}/runs/{run_id}"
    )

    # the registry goes away: the cached copy answers, marked stale
    down = f"http://127.0.0.1:{closed_port()}"
    proc = modeldeck(home, "backends", "add", "cat", "--kind", "mlflow", "--url", down, "--replace")
    assert proc.returncode == 0, proc.stderr
    offline = cli_json(home, "runs", "show", run_id, "--source", "cat")
    assert offline["stale"] is True
    assert offline["params"] == run["params"]
    assert offline["metrics"] == run["metrics"]
    assert (
        cli_json(home, "runs", "show", run_id, "--source", "cat", "--offline")["params"]
        == run["params"]
    )
    proc = modeldeck(home, "runs", "show", "0" * 32, "--source", "cat")
    assert proc.returncode == 1
    assert "connection refused" in proc.stderr


def test_cancel_stops_between_pages_and_progress_is_reported(mlflow_catalog, tmp_path):
    """The GUI's use of the service, in process: a progress callback per page, and a
    cancel event set from the callback after the first page."""
    import threading

    from app.adapters.mlflow import MlflowSource
    from app.domain.catalog import SyncProgress
    from app.domain.models import Backend, BackendKind
    from app.services.sync import SyncService
    from app.store.db import Cache

    backend = Backend("cat", BackendKind.MLFLOW, mlflow_catalog.url)

    class Backends:
        def get(self, name: str) -> Backend:
            return backend

        def list(self) -> list[Backend]:
            return [backend]

    cache = Cache.open(tmp_path / "cache.sqlite")
    cancel = threading.Event()
    seen: list[SyncProgress] = []

    def progress(p: SyncProgress) -> None:
        seen.append(p)
        if p.phase == "models" and p.pages == 1:
            cancel.set()

    service = SyncService(cache, Backends(), source_factory=lambda b, _: MlflowSource(b))  # type: ignore[arg-type]
    try:
        (result,) = service.sync(progress=progress, cancel=cancel)
        assert result.cancelled
        assert not result.ok
        assert result.error is None
        assert result.pages == 1
        assert result.models_added == 1000
        assert [p.phase for p in seen] == ["start", "models"]
        assert seen[-1].models == 1000
        assert seen[-1].versions == result.versions_added
        with cache.read() as con:
            from app.store import queries

            assert queries.count_models(con) == 1000
            state = queries.get_source(con, "cat")
            assert state is None or state.cursor is None  # no cursor: the next pass is full

        seen.clear()
        (done,) = service.sync()
        assert done.ok
        assert done.mode == "full"
        assert done.models_added == done.models_seen - 1000
        assert done.models_updated == 0
        (again,) = service.sync(progress=seen.append)
        assert again.mode == "incremental"
        assert again.models_added + again.models_updated + again.models_removed == 0
        assert seen[0].phase == "start"
        assert seen[-1].phase == "done"
        assert "sweep" in {p.phase for p in seen}
    finally:
        cache.close()
