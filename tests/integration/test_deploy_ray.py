"""Deploys to a REAL Ray head (session fixture) of models from a REAL MLflow server,
through ``DeployService`` and the real CLI; every figure checked in Ray's own status.

The models are scikit-learn DummyRegressors answering 1.0 (v1) and 2.0 (v2), so each
prediction proves which version answered (the header says it too).
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.errors import Conflict, ModeldeckError
from app.domain.models import Backend, BackendKind
from app.domain.notify import ChannelKind, EventKind, verify
from app.services.context import AppContext
from app.services.workspace import Workspace
from tests.integration.mlflow_support import modeldeck
from tests.integration.servers import (
    RayHead,
    closed_port,
    require,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def registered(constant_model: str) -> str:
    return constant_model


def add_target(ctx: AppContext, name: str, url: str, **options: str) -> None:
    ctx.backends.add(
        Backend(
            name=name,
            kind=BackendKind.RAY_SERVE,
            url=url,
            timeout_s=30,
            options={"registry": "reg", "num_cpus": "0.1", **options},
        ),
        replace=True,
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, ray_head: RayHead, mlflow_server: str) -> Path:
    root = tmp_path_factory.mktemp("deploy-home")
    ctx = AppContext.build(Workspace.resolve(root))
    try:
        ctx.backends.add(Backend(name="reg", kind=BackendKind.MLFLOW, url=mlflow_server))
        add_target(ctx, "ray", ray_head.dashboard_url)
    finally:
        ctx.close()
    return root


@pytest.fixture
def ctx(home: Path) -> Iterator[AppContext]:
    c = AppContext.build(Workspace.resolve(home))
    c.deploy._poll_s = 0.25
    try:
        yield c
    finally:
        c.close()


def ray_apps(head: RayHead) -> dict[str, Any]:
    r = httpx.get(f"{head.dashboard_url}/api/serve/applications/", timeout=30)
    r.raise_for_status()
    return dict(r.json()["applications"])


def running_replicas(head: RayHead, app: str) -> int:
    deps = ray_apps(head)[app]["deployments"]
    return sum(1 for dep in deps.values() for rep in dep["replicas"] if rep["state"] == "RUNNING")


def predict(head: RayHead, app: str) -> tuple[str, float]:
    r = httpx.post(f"{head.serve_url}/{app}", json={"inputs": [[0.0, 0.0]]}, timeout=30)
    r.raise_for_status()
    body = r.json()
    assert body["version"] == r.headers["x-modeldeck-version"]
    return r.headers["x-modeldeck-version"], float(body["predictions"][0])


def cached_deployments(ctx: AppContext) -> dict[str, tuple[Any, ...]]:
    con = sqlite3.connect(ctx.cache.path)
    try:
        rows = con.execute("SELECT app, traffic_json, replicas, status FROM deployments").fetchall()
    finally:
        con.close()
    return {r[0]: (json.loads(r[1]), r[2], r[3]) for r in rows}


def test_deploy_scale_canary_promote_rollback(ctx, ray_head, registered):
    app = f"life-{uuid.uuid4().hex[:4]}"
    steps: list[str] = []
    plan = ctx.deploy.plan_deploy("ray", registered, "1", app=app)
    assert plan.ok, plan.text()
    assert [c.kind for c in plan.changes if c.app == app] == ["add"]
    out = ctx.deploy.apply(plan, progress=lambda _d, _t, text: steps.append(text))
    assert out.ok, out.message
    assert out.status == "RUNNING"
    assert predict(ray_head, app) == ("1", 1.0)
    assert cached_deployments(ctx)[app] == ({"1": 100}, 1, "RUNNING")
    assert ray_apps(ray_head)[app]["status"] == "RUNNING"
    assert "writing the new config" in steps

    out = ctx.deploy.apply(ctx.deploy.plan_scale("ray", app, 2))
    assert out.ok, out.message
    assert running_replicas(ray_head, app) == 2
    assert cached_deployments(ctx)[app][1] == 2

    out = ctx.deploy.apply(ctx.deploy.plan_canary("ray", app, "2", 50))
    assert out.ok, out.message
    seen: dict[str, float] = {}
    for _ in range(200):  # bounded: P(one version missing in 200 draws at 50%) ≈ 1e-60
        version, value = predict(ray_head, app)
        seen[version] = value
        if len(seen) == 2:
            break
    assert seen == {"1": 1.0, "2": 2.0}
    assert cached_deployments(ctx)[app][0] == {"1": 50, "2": 50}

    out = ctx.deploy.apply(ctx.deploy.plan_promote("ray", app))
    assert out.ok, out.message
    assert {predict(ray_head, app) for _ in range(10)} == {("2", 2.0)}
    promoted = ray_apps(ray_head)[app]["deployed_app_config"]
    assert promoted["args"]["stable_version"] == "2"
    assert "canary_version" not in promoted["args"]

    plan = ctx.deploy.plan_rollback("ray", app)
    assert plan.ok, plan.text()
    out = ctx.deploy.apply(plan)
    assert out.ok, out.message
    restored = ray_apps(ray_head)[app]["deployed_app_config"]["args"]
    assert (restored["stable_version"], restored["canary_version"], restored["canary_percent"]) == (
        "1",
        "2",
        50,
    )

    actions = [(e.action, e.app, e.result) for e in ctx.audit.list() if e.app == app]
    assert actions == [
        ("deploy", app, "ok"),
        ("scale", app, "ok"),
        ("canary", app, "ok"),
        ("promote", app, "ok"),
        ("rollback", app, "ok"),
    ]
    assert ctx.audit.verify() is None
    ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))


def test_undeploy_one_app_keeps_the_other(ctx, ray_head, registered):
    first, second = f"one-{uuid.uuid4().hex[:4]}", f"two-{uuid.uuid4().hex[:4]}"
    assert ctx.deploy.apply(ctx.deploy.plan_deploy("ray", registered, "1", app=first)).ok
    plan = ctx.deploy.plan_deploy("ray", registered, "2", app=second)
    assert [c.app for c in plan.changes] == [second]  # the first app is not touched
    assert ctx.deploy.apply(plan).ok

    plan = ctx.deploy.plan_undeploy("ray", first)
    assert [(c.app, c.kind) for c in plan.changes] == [(first, "remove")]
    out = ctx.deploy.apply(plan)
    assert out.ok
    assert out.status == "REMOVED"
    apps = ray_apps(ray_head)
    assert first not in apps
    assert apps[second]["status"] == "RUNNING"
    assert predict(ray_head, second) == ("2", 2.0)
    assert first not in cached_deployments(ctx)
    ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", second))


def test_bad_import_path_ends_in_deploy_failed_with_rays_message(ctx, ray_head, registered):
    add_target(ctx, "ray-bad", ray_head.dashboard_url, import_path="modeldeck_serving.nope:build")
    app = f"bad-{uuid.uuid4().hex[:4]}"
    out = ctx.deploy.apply(ctx.deploy.plan_deploy("ray-bad", registered, "1", app=app))
    assert not out.ok
    assert out.status == "DEPLOY_FAILED"
    assert "modeldeck_serving.nope" in out.message
    assert ctx.audit.list()[-1].result == "failed"
    assert "DEPLOY_FAILED" in ctx.audit.list()[-1].detail
    ctx.deploy.apply(ctx.deploy.plan_undeploy("ray-bad", app))


def test_concurrent_change_is_refused_with_conflict(ctx, ray_head, registered):
    app = f"race-{uuid.uuid4().hex[:4]}"
    plan = ctx.deploy.plan_deploy("ray", registered, "1", app=app)
    # someone else deploys between our read and our write
    other = ctx.deploy.plan_deploy("ray", registered, "1", app=f"other-{uuid.uuid4().hex[:4]}")
    assert ctx.deploy.apply(other).ok
    with pytest.raises(Conflict):
        ctx.deploy.apply(plan)
    assert app not in ray_apps(ray_head)
    assert ctx.audit.list()[-1].result == "failed"
    ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", other.app))


def test_ray_down_is_a_clear_error_and_nothing_is_recorded_as_done(ctx, registered):
    add_target(ctx, "ray-down", f"http://127.0.0.1:{closed_port()}")
    plan = ctx.deploy.plan_deploy("ray-down", registered, "1", app="down")
    assert not plan.ok
    assert "connection refused" in plan.text()
    with pytest.raises(ModeldeckError, match="pre-flight failed"):
        ctx.deploy.apply(plan)
    last = ctx.audit.list()[-1]
    assert (last.action, last.target, last.result) == ("deploy", "ray-down", "refused")
    con = sqlite3.connect(ctx.cache.path)
    try:
        assert con.execute(
            "SELECT count(*) FROM deploy_journal WHERE target='ray-down'"
        ).fetchone() == (0,)
    finally:
        con.close()


def test_cli_dry_run_refusal_and_audit_verify_detects_tampering(
    home, ray_head, registered, tmp_path
):
    proc = modeldeck(
        home,
        "deploy",
        registered,
        "1",
        "--target",
        "ray",
        "--app",
        "cli-app",
        "--dry-run",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["applied"] is False
    assert body["plan"]["changes"][0]["app"] == "cli-app"

    proc = modeldeck(home, "deploy", registered, "1", "--target", "ray", "--app", "cli-app")
    assert proc.returncode == 1
    assert "--yes" in proc.stderr
    assert "cli-app" not in ray_apps(ray_head)

    proc = modeldeck(
        home, "deploy", registered, "1", "--target", "ray", "--app", "cli-app", "--yes", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "RUNNING"
    listed = json.loads(modeldeck(home, "deployments", "list", "--target", "ray", "--json").stdout)
    assert any(d["app"] == "cli-app" and d["traffic"] == {"1": 100} for d in listed)
    proc = modeldeck(home, "undeploy", "cli-app", "--target", "ray", "--yes", "--json")
    assert proc.returncode == 0, proc.stderr

    entries = json.loads(modeldeck(home, "audit", "list", "--json").stdout)
    assert [e["app"] for e in entries if e["app"] == "cli-app"] == ["cli-app", "cli-app"]
    assert modeldeck(home, "audit", "verify").returncode == 0
    for name in ("trail.csv", "trail.json"):
        assert modeldeck(home, "audit", "export", str(tmp_path / name)).returncode == 0
    assert len(json.loads((tmp_path / "trail.json").read_text())) == len(entries)

    con = sqlite3.connect(
        home / "cache.sqlite" if (home / "cache.sqlite").exists() else _cache(home)
    )
    try:
        con.execute("UPDATE audit_log SET user = 'mallory' WHERE id = ?", (entries[0]["id"],))
        con.commit()
    finally:
        con.close()
    proc = modeldeck(home, "audit", "verify")
    assert proc.returncode == 1
    assert f"row {entries[0]['id']}" in proc.stderr


def _cache(home: Path) -> Path:
    return Workspace.resolve(home).cache_path


def test_a_real_deploy_reaches_a_signed_webhook_once(ctx, ray_head, registered):
    """Issue 19's loop on a real cluster: the deploy's audit entry becomes exactly one
    signed webhook delivery naming actor, model, version and result; a second pass of
    the watch sends nothing again."""
    require(
        os.environ.get("MODELDECK_KEYRING_READY") == "1",
        "no unlocked Secret Service (run the suite with: bash tests/run.sh)",
    )
    from tests.integration.test_notify import Receiver

    hook = Receiver()
    app = f"nt-{uuid.uuid4().hex[:6]}"
    try:
        _channel, secret = ctx.notify.add(
            "ops-hook", ChannelKind.WEBHOOK, hook.url("/hook"), events=["deploys"], replace=True
        )
        assert secret
        assert ctx.deploy.apply(ctx.deploy.plan_deploy("ray", registered, "1", app=app)).ok
        report = ctx.notify.cycle()
        deploys = [e for e in report.events if e.kind is EventKind.DEPLOY and e.app == app]
        assert len(deploys) == 1, report.events
        wait_until(lambda: len(hook.ok()) == 1, timeout_s=20, what="the deploy delivery")
        request = hook.ok()[0]
        body = json.loads(request["body"])
        assert (body["event"], body["app"], body["target"]) == ("deploy", app, "ray")
        assert (body["model"], body["version"], body["status"]) == (registered, "1", "ok")
        assert body["actor"]
        assert verify(request["body"], secret, request["headers"]["x-modeldeck-signature"])
        assert not verify(
            request["body"], "another-secret", request["headers"]["x-modeldeck-signature"]
        )
        assert request["headers"]["idempotency-key"] == deploys[0].id
        again = ctx.notify.cycle()
        assert [e for e in again.events if e.app == app] == []
        assert len(hook.requests) == 1
    finally:
        ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))
        ctx.notify.remove("ops-hook")
        hook.stop()
