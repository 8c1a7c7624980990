"""``deployments why`` and ``predict`` against a REAL Ray head (session fixture) serving
models from a REAL MLflow server: Ray's own error messages and replica logs for a broken
deploy, the answer and the answering version of a request, a request pinned to one
version during a 50 % canary, a body built from the version's MLflow input example.

The models are scikit-learn DummyRegressors answering 1.0 (v1) and 2.0 (v2).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain import diagnose as dx
from app.domain.deploy import Plan
from app.domain.errors import ConfigError, NotFound
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from tests.integration.conftest import FIXTURES
from tests.integration.mlflow_support import modeldeck
from tests.integration.servers import RayHead, backend_venv, require

pytestmark = [pytest.mark.integration, pytest.mark.slow]


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
def example_model(mlflow_server: str) -> str:
    """Like ``constant_model``, but each version logged with an input example."""
    name = f"const-ex-{uuid.uuid4().hex[:6]}"
    py = backend_venv("mlflow") / "bin" / "python"
    require(py.exists(), "no MLflow venv (make backend-venvs)")
    proc = subprocess.run(
        [str(py), str(FIXTURES / "register_constant_models.py"), mlflow_server, name, "--example"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return name


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory, ray_head: RayHead, mlflow_server: str) -> Path:
    root = tmp_path_factory.mktemp("why-home")
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


def test_predict_answers_and_a_pinned_version_answers_every_time_in_a_canary(
    ctx, home, constant_model
):
    app = f"pred-{uuid.uuid4().hex[:4]}"
    assert ctx.deploy.apply(ctx.deploy.plan_deploy("ray", constant_model, "1", app=app)).ok
    try:
        body = {"inputs": [[0.0, 0.0]]}
        r = ctx.deploy.predict("ray", app, body)
        assert (r.status, r.version, r.response["predictions"]) == (200, "1", [1.0])
        assert isinstance(r.latency_ms, float)  # reported; its size is bench material
        assert r.url.startswith("http://127.0.0.1:")

        # the CLI: --json as documented, body from a file
        (home / "body.json").write_text(json.dumps(body))
        proc = modeldeck(
            home, "predict", app, "--target", "ray", "--input", str(home / "body.json"), "--json"
        )
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert (out["version"], out["status"], out["response"]["predictions"]) == (
            "1",
            200,
            [1.0],
        )
        assert isinstance(out["latency_ms"], float)

        assert ctx.deploy.apply(ctx.deploy.plan_canary("ray", app, "2", 50)).ok
        pinned = [ctx.deploy.predict("ray", app, body, version="2") for _ in range(10)]
        assert {(p.status, p.version, p.response["predictions"][0]) for p in pinned} == {
            (200, "2", 2.0)
        }
        assert {ctx.deploy.predict("ray", app, body, version="1").version for _ in range(5)} == {
            "1"
        }
        proc = modeldeck(
            home,
            "predict",
            app,
            "--target",
            "ray",
            "--version",
            "2",
            "--input",
            str(home / "body.json"),
            "--json",
        )
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["version"] == "2"
        stable, canary = ctx.deploy.compare("ray", app, body)
        assert (stable.version, stable.response["predictions"]) == ("1", [1.0])
        assert (canary.version, canary.response["predictions"]) == ("2", [2.0])
        with pytest.raises(ConfigError, match="not v7"):
            ctx.deploy.predict("ray", app, body, version="7")
        # a body the model cannot take: the app's own 400, shown as the answer
        bad = ctx.deploy.predict("ray", app, {"nope": 1})
        assert bad.status == 400
        assert not bad.ok
        assert "inputs" in bad.response["error"]
        # a tiny timeout says so instead of hanging
        slow = ctx.deploy.predict("ray", app, body, timeout_s=0.0001)
        assert slow.timed_out or slow.ok  # a loopback answer may beat even that
        if slow.timed_out:
            assert "no answer within" in slow.note
        assert ctx.deploy.apply(ctx.deploy.plan_promote("ray", app)).ok
        with pytest.raises(ConfigError, match="runs no canary"):
            ctx.deploy.compare("ray", app, body)
        # without an input example or signature: a clear message
        with pytest.raises(NotFound, match="no input example"):
            ctx.deploy.example_body("ray", app)
    finally:
        ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))


def test_example_builds_a_body_the_model_accepts(ctx, home, example_model):
    app = f"ex-{uuid.uuid4().hex[:4]}"
    assert ctx.deploy.apply(ctx.deploy.plan_deploy("ray", example_model, "2", app=app)).ok
    try:
        example = ctx.deploy.example_body("ray", app)
        assert example.origin == "input example"
        assert example.body == {"inputs": [[0.0, 0.0], [0.0, 0.0]]}
        proc = modeldeck(home, "predict", app, "--target", "ray", "--example", "--json")
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert (out["status"], out["version"], out["response"]["predictions"]) == (
            200,
            "2",
            [2.0, 2.0],
        )
    finally:
        ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))


def test_why_shows_rays_error_for_a_bad_import_path(ctx, home, ray_head, constant_model):
    add_target(ctx, "ray-bad", ray_head.dashboard_url, import_path="modeldeck_serving.nope:build")
    app = f"badi-{uuid.uuid4().hex[:4]}"
    out = ctx.deploy.apply(ctx.deploy.plan_deploy("ray-bad", constant_model, "1", app=app))
    assert out.status == "DEPLOY_FAILED"
    try:
        report = ctx.deploy.why("ray-bad", app, lines=20)
        assert report.status == "DEPLOY_FAILED"
        assert "modeldeck_serving.nope" in report.text()
        assert "\x1b[" not in report.text()
        proc = modeldeck(home, "deployments", "why", app, "--target", "ray-bad", "--json")
        assert proc.returncode == 0, proc.stderr
        body = json.loads(proc.stdout)
        assert body["status"] == "DEPLOY_FAILED"
        assert "modeldeck_serving.nope" in json.dumps(body)
        proc = modeldeck(home, "deployments", "why", app, "--target", "ray-bad", "--lines", "5")
        assert proc.returncode == 0, proc.stderr
        assert "DEPLOY_FAILED" in proc.stdout
    finally:
        ctx.deploy.apply(ctx.deploy.plan_undeploy("ray-bad", app))


def test_why_shows_the_failing_replicas_error_and_logs_for_a_bad_version(ctx, constant_model):
    app = f"badv-{uuid.uuid4().hex[:4]}"
    good = ctx.deploy.plan_deploy("ray", constant_model, "1", app=app)
    assert good.ok, good.text()
    # a version the registry does not have: the pre-flight would refuse it, so write the
    # config as someone else's tool would
    cfg = dict(good.after.app(app) or {})
    cfg["args"] = {**cfg["args"], "stable_version": "99"}
    plan = Plan("deploy", "ray", app, f"Deploy v99 as {app}", good.before, good.after.with_app(cfg))
    out = ctx.deploy.apply(plan, timeout_s=180)
    assert out.status == "DEPLOY_FAILED", out.message
    try:
        report = ctx.deploy.why("ray", app, lines=30)
        assert report.status == "DEPLOY_FAILED"
        (dep,) = report.deployments
        assert dep.status == "DEPLOY_FAILED"
        assert "failed to start" in dep.message
        assert f"Model Version (name={constant_model}, version=99) not found" in dep.message
        assert dep.replicas  # the replicas that tried, recently stopped
        controller = [g for g in report.logs if g.source.startswith("controller")]
        assert controller, report.text()
        assert controller[0].lines, report.text()
        assert all(len(g.lines) <= 30 for g in report.logs)
        assert any(app in line for line in controller[0].lines)
    finally:
        ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))


def test_why_on_a_running_app_reads_its_replicas_log(ctx, constant_model):
    app = f"ok-{uuid.uuid4().hex[:4]}"
    assert ctx.deploy.apply(ctx.deploy.plan_deploy("ray", constant_model, "1", app=app)).ok
    try:
        report = ctx.deploy.why("ray", app, lines=5)
        assert report.status == "RUNNING"
        (dep,) = report.deployments
        assert [r.state for r in dep.replicas] == ["RUNNING"]
        replica_logs = [g for g in report.logs if g.source.startswith("replica")]
        assert replica_logs, report.text()
        assert not replica_logs[0].error, report.text()
        assert any("initializing replica" in line for line in replica_logs[0].lines)
        assert len(replica_logs[0].lines) <= 5
        with pytest.raises(NotFound):
            ctx.deploy.why("ray", "no-such-app")
        assert isinstance(report, dx.WhyReport)
    finally:
        ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))
