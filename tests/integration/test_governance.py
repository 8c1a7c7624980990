"""Policy, approvals and the promotion gate against a real MLflow (what moved is read
back through MLflow's own REST API) and a real Prometheus holding backfilled
per-version canary history (tests/integration/fixtures/governance_tsdb.py): the real
CLI in subprocesses, two OS logins through ``LOGNAME``/``USER`` (``getpass.getuser``
reads LOGNAME first), and MLflow's basic-auth app for a verified identity."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.domain.models import Backend, BackendKind, Deployment, DeploymentStatus
from app.services.context import AppContext
from app.services.workspace import Workspace
from app.store import queries
from tests.integration.fixtures import governance_tsdb as gtsdb
from tests.integration.mlflow_support import REPO, Rest
from tests.integration.servers import (
    LOOPBACK,
    ServerProcess,
    _spawn,
    closed_port,
    free_port,
    http_ok,
    mlflow_venv,
    require,
    start_prometheus,
    wait_until,
)

pytestmark = pytest.mark.integration

POLICY = """
[[alias]]
name = "champion"
approvals = 1
four_eyes = true
require = ["description", "healthy_canary"]
override = "forbidden"

[alias.healthy_canary]
minutes = 30
max_error_rate = 0.01
max_p95_ms = 300

[[alias]]
name = "prod-*"
require = ["ready", "signature"]
override = "with-reason"
"""


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    require(shutil.which("promtool") is not None, "no promtool (apt-get install prometheus)")
    work = tmp_path_factory.mktemp("gov-prom")
    data, _t0 = gtsdb.build(work / "tsdb")
    server = start_prometheus(work / "prom", data_dir=data)
    yield server
    server.stop()


def run(
    home: Path, *args: str, user: str = "ana.silva", stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI as OS login ``user``."""
    env = {**os.environ, "MODELDECK_HOME": str(home), "LOGNAME": user, "USER": user}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=REPO,
        check=False,
    )


def jrun(home: Path, *args: str, user: str = "ana.silva") -> tuple[int, Any, str]:
    proc = run(home, *args, "--json", user=user)
    body = json.loads(proc.stdout) if proc.stdout.strip() else None
    return proc.returncode, body, proc.stderr


def make_model(rest: Rest, artifact_root: Path | None = None) -> str:
    """A model with versions 1-3: v1 no signature, v2 a signature and a version card,
    v3 a signature; the model has a card too."""
    name = f"gov-{uuid.uuid4().hex[:8]}"
    exp = rest.post("experiments/create", {"name": name})["experiment_id"]
    run_info = rest.post("runs/create", {"experiment_id": exp})["run"]["info"]
    artifacts = Path(str(run_info["artifact_uri"]).removeprefix("file://"))
    rest.post("registered-models/create", {"name": name, "description": "# Card\nscores."})
    for v, signed in (("1", False), ("2", True), ("3", True)):
        d = artifacts / f"m{v}"
        d.mkdir(parents=True, exist_ok=True)
        sig = 'signature:\n  inputs: \'[{"type": "double"}]\'\n  outputs: null\n'
        (d / "MLmodel").write_text("artifact_path: model\nflavors: {}\n" + (sig if signed else ""))
        rest.post(
            "model-versions/create",
            {"name": name, "source": str(d), "run_id": run_info["run_id"]},
        )
    rest.patch(
        "model-versions/update", {"name": name, "version": "2", "description": "v2: retrained"}
    )
    return name


def setup_home(
    home: Path, registry_url: str, prom_url: str | None, deployments: list[Deployment]
) -> None:
    ctx = AppContext.build(Workspace.resolve(home))
    try:
        ctx.backends.add(Backend("reg", BackendKind.MLFLOW, registry_url))
        if prom_url is not None:
            ctx.backends.add(
                Backend(
                    "prom", BackendKind.PROMETHEUS, prom_url, options={"scrape_interval": "15s"}
                )
            )
            ctx.backends.add(
                Backend(
                    "ray",
                    BackendKind.RAY_SERVE,
                    f"http://{LOOPBACK}:{closed_port()}",
                    options={"metrics_backend": "prom"},
                )
            )
        with ctx.cache.write() as con:
            queries.replace_deployments(con, "ray", deployments)
    finally:
        ctx.close()
    (home / "policy-src.toml").write_text(POLICY)
    proc = run(home, "policy", "set", str(home / "policy-src.toml"), "--yes")
    assert proc.returncode == 0, proc.stderr
    assert run(home, "sync").returncode == 0


def canary(app: str, model: str) -> Deployment:
    return Deployment(
        "ray", app, model, {"1": 75, "2": 25}, 2, DeploymentStatus.RUNNING, model_source="reg"
    )


def aliases(rest: Rest, model: str) -> dict[str, str]:
    got = rest.get("registered-models/get", name=model)["registered_model"]
    return {a["alias"]: a["version"] for a in got.get("aliases", [])}


def version_tags(rest: Rest, model: str, version: str) -> dict[str, str]:
    got = rest.get("model-versions/get", name=model, version=version)["model_version"]
    return {t["key"]: t["value"] for t in got.get("tags", [])}


def audit(home: Path) -> list[dict[str, Any]]:
    code, body, err = jrun(home, "audit", "list")
    assert code == 0, err
    return list(body)


@pytest.fixture
def rest(mlflow_server: str) -> Iterator[Rest]:
    r = Rest(mlflow_server)
    yield r
    r.close()


# ------------------------------------------------------------------ the cases
def test_alias_without_rule_moves_freely(tmp_path: Path, rest: Rest, mlflow_server: str):
    model = make_model(rest)
    home = tmp_path / "home"
    setup_home(home, mlflow_server, None, [])
    proc = run(home, "models", "alias", "set", model, "staging", "1", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "moves freely" in proc.stderr
    assert aliases(rest, model) == {"staging": "1"}
    entry = audit(home)[-1]
    assert (entry["action"], entry["result"]) == ("alias-set", "ok")
    assert json.loads(entry["detail"])["evidence"]["rule"] is None


def test_gate_approvals_four_eyes_and_a_second_login(
    tmp_path: Path, rest: Rest, mlflow_server: str, prometheus: ServerProcess
):
    model = make_model(rest)
    home = tmp_path / "home"
    setup_home(home, mlflow_server, prometheus.url, [canary(gtsdb.GOOD, model)])

    # gated, no approval: refused with the reason, nothing written, refusal audited
    proc = run(home, "models", "alias", "set", model, "champion", "2", "--yes")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("modeldeck: error:")
    assert "champion needs approvals" in last
    assert "✗ approvals: no approval for champion" in proc.stdout
    assert "✓ healthy_canary: canary" in proc.stdout
    assert aliases(rest, model) == {}
    refused = audit(home)[-1]
    assert (refused["action"], refused["result"]) == ("alias-set", "refused")
    rows = json.loads(refused["detail"])["evidence"]["rows"]
    assert [r["check"] for r in rows] == ["approvals", "description", "healthy_canary"]

    # the requester's own approval does not count under four eyes
    proc = run(home, "approve", model, "2", "--for", "champion", "--note", "lgtm", "--yes")
    assert proc.returncode == 0, proc.stderr
    tag = json.loads(version_tags(rest, model, "2")["modeldeck.approval.champion.ana.silva"])
    assert tag["by"] == "ana.silva"
    assert tag["note"] == "lgtm"
    assert tag["verified_by"] is None
    proc = run(home, "models", "alias", "set", model, "champion", "2", "--yes")
    assert proc.returncode == 1
    assert "ana.silva's own does not count (four eyes)" in proc.stdout
    assert aliases(rest, model) == {}

    # a second OS login approves: the move goes through, with the gate as evidence
    code, body, err = jrun(
        home, "approve", model, "2", "--for", "champion", "--yes", user="bo.chen"
    )
    assert code == 0, err
    assert body["actor"] == "bo.chen"
    assert body["verified_by"] is None
    proc = run(home, "models", "alias", "set", model, "champion", "2", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert aliases(rest, model) == {"champion": "2"}
    moved = audit(home)[-1]
    assert (moved["action"], moved["result"]) == ("alias-set", "ok")
    evidence = json.loads(moved["detail"])["evidence"]
    assert evidence["ok"]
    assert evidence["requester"] == "ana.silva"
    approvals_row = evidence["rows"][0]["evidence"]
    assert approvals_row.startswith("1 approval: bo.chen ")
    assert "(unverified)" in approvals_row
    assert "error rate 0.3 % ≤ 1.0 %" in evidence["rows"][2]["evidence"]

    code, body, err = jrun(home, "approvals", "list", model, "--version", "2")
    assert code == 0, err
    assert {a["actor"] for a in body["approvals"]} == {"ana.silva", "bo.chen"}
    assert {a["identity"] for a in body["approvals"]} == {"os login, unverified"}

    # revoke: bo's tag goes; revoking what is not there is one clear line
    proc = run(
        home, "approvals", "revoke", model, "2", "--for", "champion", "--yes", user="bo.chen"
    )
    assert proc.returncode == 0, proc.stderr
    assert "modeldeck.approval.champion.bo.chen" not in version_tags(rest, model, "2")
    proc = run(
        home, "approvals", "revoke", model, "2", "--for", "champion", "--yes", user="bo.chen"
    )
    assert proc.returncode == 1
    assert "no approval by bo.chen for champion" in proc.stderr
    actions = [(e["action"], e["result"]) for e in audit(home)]
    assert actions.count(("approve", "ok")) == 2
    assert ("revoke", "ok") in actions


def test_healthy_canary_from_backfilled_history(
    tmp_path: Path, rest: Rest, mlflow_server: str, prometheus: ServerProcess
):
    good, bad = make_model(rest), make_model(rest)
    home = tmp_path / "home"
    setup_home(
        home, mlflow_server, prometheus.url, [canary(gtsdb.GOOD, good), canary(gtsdb.BAD, bad)]
    )
    code, gate, err = jrun(home, "policy", "check", good, "2", "--alias", "champion")
    assert code == 1  # no approval yet; the canary row is what this test reads
    row = next(r for r in gate["rows"] if r["check"] == "healthy_canary")
    assert row["ok"], row
    assert row["evidence"].startswith("canary ")
    assert "on ray/gov-good (25 %)" in row["evidence"]
    assert "error rate 0.3 % ≤ 1.0 %" in row["evidence"]
    p95 = float(row["evidence"].split("p95 ")[1].split(" ms")[0])
    assert 90 < p95 < 160  # log-normal, median 50 ms, sigma 0.5: ≈ 115 ms

    code, gate, err = jrun(home, "policy", "check", bad, "2", "--alias", "champion")
    assert code == 1
    assert "healthy_canary" in err
    row = next(r for r in gate["rows"] if r["check"] == "healthy_canary")
    assert not row["ok"]
    rate = float(row["evidence"].split("error rate ")[1].split(" %")[0])
    assert 3.0 < rate < 9.0, row  # 8 % over the last 20 of the 30 min
    assert "> 1.0 %" in row["evidence"]

    # a version no deployment serves has no canary
    code, gate, _ = jrun(home, "policy", "check", good, "3", "--alias", "champion")
    row = next(r for r in gate["rows"] if r["check"] == "healthy_canary")
    assert not row["ok"]
    assert "serves no cached deployment" in row["evidence"]


def test_ready_signature_and_override(tmp_path: Path, rest: Rest, mlflow_server: str):
    model = make_model(rest)
    home = tmp_path / "home"
    setup_home(home, mlflow_server, None, [])
    code, gate, _ = jrun(home, "policy", "check", model, "1", "--alias", "prod-eu")
    assert code == 1
    assert gate["rule"] == "prod-*"
    by_check = {r["check"]: r for r in gate["rows"]}
    assert by_check["ready"]["ok"]
    assert by_check["ready"]["evidence"] == "registry status READY"
    assert not by_check["signature"]["ok"]
    code, gate, _ = jrun(home, "policy", "check", model, "2", "--alias", "prod-eu")
    assert code == 0
    assert gate["ok"]

    # with-reason: --override needs --reason (usage), then moves, audited loudly
    proc = run(home, "models", "alias", "set", model, "prod-eu", "1", "--override", "--yes")
    assert proc.returncode == 2
    proc = run(
        home, "models", "alias", "set", model, "prod-eu", "1", "--override",
        "--reason", "hotfix INC-42", "--yes",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "OVERRIDE: hotfix INC-42" in proc.stderr
    assert aliases(rest, model) == {"prod-eu": "1"}
    entry = audit(home)[-1]
    assert (entry["action"], entry["result"]) == ("alias-override", "ok")
    assert json.loads(entry["detail"])["evidence"]["decision"]["why"] == "hotfix INC-42"

    # forbidden: an override is refused and nothing moves
    proc = run(
        home, "models", "alias", "set", model, "champion", "1", "--override",
        "--reason", "please", "--yes",
    )  # fmt: skip
    assert proc.returncode == 1
    assert "overrides are forbidden for champion" in proc.stderr
    assert "champion" not in aliases(rest, model)


def test_registry_down_is_a_clear_error_and_nothing_is_recorded_done(tmp_path: Path):
    home = tmp_path / "home"
    setup_dir = Workspace.resolve(home)
    ctx = AppContext.build(setup_dir)
    try:
        ctx.backends.add(Backend("reg", BackendKind.MLFLOW, f"http://{LOOPBACK}:{closed_port()}"))
    finally:
        ctx.close()
    (home / "p.toml").write_text(POLICY)
    assert run(home, "policy", "set", str(home / "p.toml"), "--yes").returncode == 0
    before = audit(home)
    for args in (
        ("approve", "m", "2", "--for", "champion", "--yes"),
        ("models", "alias", "set", "m", "champion", "2", "--yes"),
        ("approvals", "revoke", "m", "2", "--for", "champion", "--yes"),
    ):
        proc = run(home, *args)
        assert proc.returncode == 1, args
        line = proc.stderr.strip().splitlines()[-1]
        assert line.startswith("modeldeck: error: reg:"), line
        assert "refused" in line, line
    assert not [e for e in audit(home)[len(before) :] if e["result"] == "ok"]


def test_policy_file_errors_are_one_line_naming_the_key(tmp_path: Path):
    home = tmp_path / "home"
    cases = {
        'approvals = "1"': 'alias[0] "champion".approvals: Input should be a valid integer',
        'require = ["descr"]': 'alias[0] "champion".require[0]: Input should be',
        "approvels = 1": 'alias[0] "champion".approvels: unknown key',
        'override = "sometimes"': 'alias[0] "champion".override: Input should be',
        "[alias.healthy_canary]\nminutes = 5": "healthy_canary: the table is set but",
    }
    for body, expected in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(f'[[alias]]\nname = "champion"\n{body}\n')
        proc = run(home, "policy", "set", str(path), "--yes")
        assert proc.returncode == 1
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(f"modeldeck: error: {path}: ")
        assert expected in lines[0]
    code, body, _ = jrun(home, "policy", "show")
    assert code == 0
    assert body["installed"] is False


# ------------------------------------------------------------------ verified identity
def start_mlflow_basic_auth(workdir: Path, admin_password: str) -> ServerProcess:
    """MLflow's own basic-auth app (``mlflow server --app-name basic-auth``, needs the
    ``mlflow[auth]`` extra: Flask-WTF)."""
    venv = mlflow_venv()
    exe = venv / "bin" / "mlflow"
    require(exe.exists(), f"no MLflow venv at {venv} (make backend-venvs)")
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import flask_wtf"], capture_output=True, check=False
    )
    require(probe.returncode == 0, "the MLflow venv lacks mlflow[auth] (make backend-venvs)")
    workdir.mkdir(parents=True, exist_ok=True)
    ini = workdir / "auth.ini"
    ini.write_text(
        "[mlflow]\ndefault_permission = EDIT\n"
        f"database_uri = sqlite:///{workdir / 'auth.db'}\n"
        f"admin_username = admin\nadmin_password = {admin_password}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
    )
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_AUTH_CONFIG_PATH": str(ini),
        "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
        "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}",
    }
    (workdir / "artifacts").mkdir(exist_ok=True)
    argv = [
        str(exe), "server", "--app-name", "basic-auth",
        "--backend-store-uri", f"sqlite:///{workdir / 'mlflow.db'}",
        "--default-artifact-root", str(workdir / "artifacts"),
        "--host", LOOPBACK, "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    log = workdir / "mlflow-auth.log"
    proc = _spawn("mlflow-auth", argv, env, log)
    server = ServerProcess("mlflow-auth", f"http://{LOOPBACK}:{port}", proc, log)
    try:
        wait_until(
            lambda: http_ok(f"{server.url}/health"),
            timeout_s=120,
            what="mlflow basic-auth server",
            alive=lambda: proc.poll() is None,
        )
    except BaseException:  # noqa: BLE001 - stop what started, then raise with its log
        tail = server.log_tail()
        server.stop()
        raise RuntimeError(f"mlflow basic-auth server did not start:\n{tail}") from None
    return server


def test_basic_auth_identity_is_recorded_verified(tmp_path: Path):
    admin_pw = uuid.uuid4().hex
    server = start_mlflow_basic_auth(tmp_path / "mlflow-auth", admin_pw)
    try:
        import httpx

        admin = httpx.Client(base_url=server.url + "/api/2.0/mlflow", auth=("admin", admin_pw))
        r = admin.post(
            "users/create", json={"username": "carla.ruiz", "password": "carla-pw-123456"}
        )
        r.raise_for_status()
        rest = Rest(server.url)
        rest.client.auth = httpx.BasicAuth("admin", admin_pw)
        model = make_model(rest)
        home = tmp_path / "home"
        proc = run(
            home, "backends", "add", "reg", "--kind", "mlflow", "--url", server.url,
            "--username", "carla.ruiz", "--token-stdin", stdin="carla-pw-123456",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert run(home, "sync").returncode == 0
        # the OS login is someone else: the registry's user is who approves
        code, body, err = jrun(home, "approve", model, "2", "--for", "champion", "--yes", user="x")
        assert code == 0, err
        assert body["actor"] == "carla.ruiz"
        assert body["verified_by"]
        tag = json.loads(version_tags(rest, model, "2")["modeldeck.approval.champion.carla.ruiz"])
        assert tag["verified_by"] == body["verified_by"]
        code, listed, _ = jrun(home, "approvals", "list", model)
        assert listed["approvals"][0]["identity"].startswith("verified by ")
        # a wrong password is refused by the registry: nothing is written
        proc = run(
            home, "backends", "add", "reg", "--kind", "mlflow", "--url", server.url,
            "--username", "carla.ruiz", "--token-stdin", "--replace", stdin="wrong",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        proc = run(home, "approve", model, "3", "--for", "champion", "--yes")
        assert proc.returncode == 1
        assert "refused the credentials" in proc.stderr
        assert not any(k.startswith("modeldeck.approval.") for k in version_tags(rest, model, "3"))
        rest.close()
        admin.close()
    finally:
        server.stop()
