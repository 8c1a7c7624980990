"""The whole demo workspace through the real services: backends that exist, health for
every deployment from the demo metrics source, a cluster that deploys and rolls back,
run data, a verified audit trail — and nothing outside the demo workspace written."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.demo import world as worlds
from app.domain.errors import ConfigError
from app.domain.health import HealthStatus, compare_versions
from app.domain.models import Backend, BackendKind, DeploymentStatus, VersionStatus
from app.services import demo
from app.services.context import AppContext
from app.services.workspace import Workspace


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    ws = Workspace.under(tmp_path_factory.mktemp("demo-ws"))
    demo.create(ws, 2000)
    return ws


@pytest.fixture
def ctx(demo_ws: Workspace) -> Iterator[AppContext]:
    c = AppContext.build(demo_ws)
    yield c
    c.close()


def _fast_deploys(ws: Workspace) -> None:
    def change(world: worlds.World) -> None:
        for c in world.clusters().values():
            c["deploy_seconds"] = 0.3

    worlds.update("test", ws.data_dir, change)


def test_the_demo_workspace_is_recognised_and_its_backends_exist(ctx: AppContext) -> None:
    assert ctx.demo
    kinds = {b.name: b.kind for b in ctx.backends.list()}
    assert kinds == {
        "mlflow-prod": BackendKind.DEMO_REGISTRY,
        "mlflow-research": BackendKind.DEMO_REGISTRY,
        "prod-us": BackendKind.DEMO_CLUSTER,
        "prod-eu": BackendKind.DEMO_CLUSTER,
        "staging": BackendKind.DEMO_CLUSTER,
        "metrics": BackendKind.DEMO_METRICS,
    }
    assert not ctx.backends.problems
    # every source the cache names is a configured backend now
    assert {s.name for s in ctx.catalog.info().sources} <= set(kinds)
    assert {d.target for d in ctx.catalog.deployments()} <= set(kinds)
    for name in kinds:
        verdict = ctx.doctor.last(name)
        assert verdict is not None, name
        assert verdict.ok, name
        assert verdict.summary == "demo backend (simulated)"
        assert ".demo.invalid" in verdict.url


def test_health_has_data_for_every_deployment_but_the_generated_gaps(
    ctx: AppContext, demo_ws: Workspace
) -> None:
    report = ctx.health.fleet()
    assert not report.errors
    assert len(report.deployments) == len(ctx.catalog.deployments()) > 50
    unknown = {h.key for h in report.deployments if h.status is HealthStatus.UNKNOWN}
    expected = demo.expected_unknown(demo_ws)
    assert expected
    assert unknown == expected
    counts = report.counts()
    assert counts[HealthStatus.DEGRADED] >= 2
    assert counts[HealthStatus.FAILING] >= 1
    assert counts[HealthStatus.HEALTHY] > 0.7 * len(report.deployments)
    healthy = next(h for h in report.deployments if h.status is HealthStatus.HEALTHY)
    assert healthy.signals["rps"].series[0].v[-1] > 0
    assert len(healthy.signals["latency_p95"].series[0].t) >= 100  # a sparkline's worth


def test_a_canary_charts_its_versions_apart_and_v2_is_slightly_worse(
    ctx: AppContext, demo_ws: Workspace
) -> None:
    world = worlds.load("test", demo_ws.data_dir)
    key = next(
        k
        for k, v in world.incidents().items()
        if any(isinstance(i, dict) and i.get("kind") == "worse" for i in v.values())
    )
    target, _, app = key.partition("/")
    h = ctx.health.deployment(target, app, window="1h")
    rows = compare_versions(h)
    assert len(rows) == 2
    stable, canary = rows
    assert canary.figures["latency_p95"] > stable.figures["latency_p95"]  # type: ignore[operator]
    assert canary.figures["error_rate"] > stable.figures["error_rate"]  # type: ignore[operator]


def test_the_data_moves_with_the_clock(ctx: AppContext) -> None:
    dep = ctx.catalog.deployments("prod-us")[0]
    now = time.time()
    a = ctx.health.deployment(dep.target, dep.app, window="1h", at=now)
    b = ctx.health.deployment(dep.target, dep.app, window="1h", at=now + 600)
    assert a.signals["rps"].series[0].t[-1] < b.signals["rps"].series[0].t[-1]
    again = ctx.health.deployment(dep.target, dep.app, window="1h", at=now)
    assert again.signals["rps"].series[0].v == a.signals["rps"].series[0].v  # deterministic


def test_deploy_to_the_demo_cluster_then_roll_back(ctx: AppContext, demo_ws: Workspace) -> None:
    _fast_deploys(demo_ws)
    deployed = {d.model_name for d in ctx.catalog.deployments()}
    world = worlds.load("test", demo_ws.data_dir)
    broken = world.broken()
    # a model of the main registry, not deployed yet, with two ready versions
    model = version = older = None
    for m in ctx.catalog.search("source:mlflow-prod", limit=500):
        if m.name in deployed or m.name in broken:
            continue
        ready = [
            v.version
            for v in reversed(ctx.catalog.show(m.name, m.source).versions)
            if v.status is VersionStatus.READY
        ]
        if len(ready) >= 2:
            model, older, version = m.name, ready[-2], ready[-1]
            break
    assert model
    assert version
    assert older
    plan = ctx.deploy.plan_deploy("staging", model, older)
    assert plan.ok, plan.text()
    first = ctx.deploy.apply(plan)
    assert first.ok
    assert first.status == "RUNNING"
    plan = ctx.deploy.plan_deploy("staging", model, version)
    second = ctx.deploy.apply(plan)
    assert second.ok, second.message
    app = plan.app
    shown = {d.app: d for d in ctx.catalog.deployments("staging")}
    assert shown[app].traffic == {version: 100}
    assert shown[app].status is DeploymentStatus.RUNNING
    entries = [e for e in ctx.audit.list() if e.app == app]
    assert [e.action for e in entries[-2:]] == ["deploy", "deploy"]
    assert all(e.result == "ok" for e in entries[-2:])

    back = ctx.deploy.apply(ctx.deploy.plan_rollback("staging", app))
    assert back.ok
    assert {d.app: d for d in ctx.catalog.deployments("staging")}[app].traffic == {older: 100}
    # health sees the new app (traffic after its few seconds of starting)
    h = ctx.health.deployment("staging", app, window="1h", at=time.time() + 60)
    assert h.signals["rps"].series
    assert h.signals["rps"].series[0].v[-1] > 0
    assert ctx.audit.verify() is None

    undeploy = ctx.deploy.apply(ctx.deploy.plan_undeploy("staging", app))
    assert undeploy.ok
    assert undeploy.status == "REMOVED"
    assert app not in {d.app for d in ctx.catalog.deployments("staging")}


def test_a_broken_version_fails_with_a_message(ctx: AppContext, demo_ws: Workspace) -> None:
    _fast_deploys(demo_ws)
    world = worlds.load("test", demo_ws.data_dir)
    deployed = {d.model_name for d in ctx.catalog.deployments()}
    model, versions = next((m, vs) for m, vs in world.broken().items() if m not in deployed)
    version = next(iter(versions))
    outcome = ctx.deploy.apply(ctx.deploy.plan_deploy("staging", model, version))
    assert not outcome.ok
    assert outcome.status == "DEPLOY_FAILED"
    assert "No module named" in outcome.message
    assert "simulated" in outcome.message
    assert ctx.audit.list()[-1].result == "failed"
    ctx.deploy.apply(ctx.deploy.plan_undeploy("staging", outcome.plan.app))


def test_the_audit_trail_has_weeks_of_history_and_verifies(ctx: AppContext) -> None:
    entries = ctx.audit.list()
    assert len(entries) >= 30
    assert ctx.audit.verify() is None
    actions = {e.action for e in entries}
    assert {"deploy", "canary", "rollback", "scale"} <= actions
    assert {e.result for e in entries} >= {"ok", "failed", "refused"}
    assert len({e.user for e in entries}) >= 5
    first, last = entries[0].at, entries[-1].at
    assert first[:10] < last[:10]
    # a rollback, with its prior deploy
    assert any(e.action == "rollback" for e in entries)


def test_run_data_and_a_sync_of_the_demo_registry(ctx: AppContext) -> None:
    m = ctx.catalog.search(limit=1)[0]
    v = ctx.catalog.show(m.name, m.source).versions[0]
    assert v.run_id
    run = ctx.sync.run_data(m.source, v.run_id)
    assert run.metrics["val_score"] == pytest.approx(float(v.tags["val_score"]))
    assert run.params
    before = ctx.catalog.info()
    results = ctx.sync.sync()
    assert all(r.ok for r in results), results
    after = ctx.catalog.info()
    assert (after.models, after.versions) == (before.models, before.versions)
    assert sum(r.models_removed + r.models_added for r in results) == 0
    full = ctx.sync.sync(["mlflow-research"], full=True)
    assert full[0].ok
    assert full[0].models_removed == 0


def test_demo_kinds_are_refused_outside_the_demo(workspace: Workspace) -> None:
    real = AppContext.build(workspace)
    try:
        assert not real.demo
        with pytest.raises(ConfigError) as err:
            real.backends.add(Backend("x", BackendKind.DEMO_CLUSTER, "https://x.demo.invalid"))
        assert "demo workspace" in str(err.value)
        assert "modeldeck demo" in str(err.value)
        assert real.backends.list() == []
    finally:
        real.close()


def test_a_demo_backend_copied_into_a_real_workspace_does_not_work(
    workspace: Workspace, demo_ws: Workspace
) -> None:
    text = demo_ws.settings_path.read_text(encoding="utf-8").replace(
        str(demo_ws.data_dir), str(workspace.data_dir)
    )
    workspace.settings_path.write_text(text, encoding="utf-8")
    real = AppContext.build(workspace)
    try:
        report = real.health.fleet()
        assert report.deployments == ()
        verdict = real.doctor.test("prod-us")
        assert not verdict.ok
        assert "demo" in verdict.cause
    finally:
        real.close()


def test_the_demo_lives_apart_from_the_real_workspace(tmp_path: Path) -> None:
    real = Workspace.under(tmp_path / "home")
    assert real.demo == Workspace.under(real.data_dir / "demo")
    assert not real.is_demo
