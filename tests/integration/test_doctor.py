"""Connection doctor verdicts against real servers on loopback (MLflow, Prometheus,
real TLS and token-checking servers). Nothing leaves 127.0.0.1: the DNS case uses
the reserved ``.invalid`` TLD, which never resolves."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.doctor import Verdict, VerdictCode
from app.domain.models import Backend, BackendKind, Credential
from app.services.context import AppContext
from app.services.workspace import Workspace
from tests.integration.servers import Gateway, Silent, closed_port, make_certs, tls_gateway

pytestmark = pytest.mark.integration


@pytest.fixture
def ctx(workspace: Workspace) -> Iterator[AppContext]:
    c = AppContext.build(workspace)
    yield c
    c.close()


def check(ctx: AppContext, backend: Backend, credential: Credential | None = None) -> Verdict:
    ctx.backends.add(backend, credential, save_secret=False)
    return ctx.doctor.test(backend.name)


def test_mlflow_ok_with_version(ctx, mlflow_server):
    v = check(ctx, Backend("ml", BackendKind.MLFLOW, mlflow_server))
    assert v.code is VerdictCode.OK, v
    assert v.server_version == "3.17.2"
    assert "MLflow 3.17.2" in v.summary


def test_prometheus_ok(ctx, prometheus_server):
    v = check(ctx, Backend("prom", BackendKind.PROMETHEUS, prometheus_server))
    assert v.code is VerdictCode.OK, v
    assert v.server_version
    assert v.server_version.startswith("2.")


def test_prometheus_registered_as_mlflow_is_wrong_kind(ctx, prometheus_server):
    v = check(ctx, Backend("oops", BackendKind.MLFLOW, prometheus_server))
    assert v.code is VerdictCode.WRONG_KIND, v
    assert v.detected_kind == "prometheus"
    assert "Prometheus" in v.summary
    assert "--kind prometheus" in v.next_step


def test_mlflow_registered_as_prometheus_is_wrong_kind(ctx, mlflow_server):
    v = check(ctx, Backend("oops2", BackendKind.PROMETHEUS, mlflow_server))
    assert v.code is VerdictCode.WRONG_KIND, v
    assert v.detected_kind == "mlflow"


def test_connection_refused(ctx):
    v = check(ctx, Backend("gone", BackendKind.MLFLOW, f"http://127.0.0.1:{closed_port()}"))
    assert v.code is VerdictCode.REFUSED, v
    assert "port" in v.next_step


def test_timeout_when_server_never_answers(ctx):
    with Silent() as silent:
        v = check(ctx, Backend("mute", BackendKind.MLFLOW, silent.url, timeout_s=0.5))
    assert v.code is VerdictCode.TIMEOUT, v
    assert "timeout" in v.next_step


def test_dns_failure(ctx):
    v = check(ctx, Backend("typo", BackendKind.MLFLOW, "https://mlflow.modeldeck-test.invalid"))
    assert v.code is VerdictCode.DNS, v
    assert "mlflow.modeldeck-test.invalid" in v.summary


def test_tls_untrusted_then_ok_with_ca_bundle(
    ctx: AppContext, mlflow_server: str, tmp_path: Path
) -> None:
    certs = make_certs(tmp_path / "pki")
    with tls_gateway(mlflow_server, certs) as gw:
        url = f"https://127.0.0.1:{gw.port}"
        v = check(ctx, Backend("tls", BackendKind.MLFLOW, url))
        assert v.code is VerdictCode.TLS_UNTRUSTED, v
        assert "CA bundle" in v.next_step
        v = check(ctx, Backend("tls-ca", BackendKind.MLFLOW, url, ca_bundle=str(certs.ca_pem)))
        assert v.code is VerdictCode.OK, v
        assert v.server_version == "3.17.2"


def test_tls_hostname_mismatch(ctx: AppContext, mlflow_server: str, tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "pki", dns_names=("other.modeldeck-test.invalid",), ips=())
    with tls_gateway(mlflow_server, certs) as gw:
        backend = Backend(
            "mismatch",
            BackendKind.MLFLOW,
            f"https://127.0.0.1:{gw.port}",
            ca_bundle=str(certs.ca_pem),
        )
        v = check(ctx, backend)
    assert v.code is VerdictCode.TLS_HOSTNAME, v
    assert "127.0.0.1" in v.summary


def test_https_to_plain_http_server_is_a_tls_failure(ctx, mlflow_server):
    v = check(ctx, Backend("scheme", BackendKind.MLFLOW, mlflow_server.replace("http:", "https:")))
    assert v.code is VerdictCode.TLS, v


def test_missing_wrong_and_right_token(ctx, mlflow_server):
    token = "tok-right-8d1c"
    with Gateway(mlflow_server, token=token) as gw:
        v = check(ctx, Backend("auth-none", BackendKind.MLFLOW, gw.url))
        assert v.code is VerdictCode.UNAUTHORIZED, v
        assert "needs credentials" in v.summary
        assert "--token-stdin" in v.next_step
        v = check(ctx, Backend("auth-bad", BackendKind.MLFLOW, gw.url), Credential(token="nope"))
        assert v.code is VerdictCode.UNAUTHORIZED, v
        assert "refused" in v.summary
        v = check(ctx, Backend("auth-ok", BackendKind.MLFLOW, gw.url), Credential(token=token))
        assert v.code is VerdictCode.OK, v
        assert v.authenticated
        assert gw.refused == 2


def test_kserve_is_not_probed(ctx, workspace):
    # `backends add` refuses a kind with no adapter; a hand-written entry still loads
    workspace.settings_path.write_text(
        'schema_version = 2\n[backends.ks]\nkind = "kserve"\n'
        'url = "https://k8s.modeldeck-test.invalid"\n'
    )
    ctx.backends.reload()
    v = ctx.doctor.test("ks")
    assert v.code is VerdictCode.NOT_PROBED
    assert "kubeconfig" in v.cause


def test_verdict_is_kept_for_the_next_start(workspace, mlflow_server):
    first = AppContext.build(workspace)
    try:
        first.backends.add(Backend("ml", BackendKind.MLFLOW, mlflow_server))
        first.doctor.test("ml")
    finally:
        first.close()
    second = AppContext.build(workspace)
    try:
        last = second.doctor.last("ml")
        assert last is not None
        assert last.code is VerdictCode.OK
    finally:
        second.close()


def test_cli_test_json_and_exit_codes(workspace, mlflow_server):
    home = str(workspace.config_dir.parent)
    exe = [sys.executable, "-m", "app", "--home", home]
    port = closed_port()
    for name, url in (("good", mlflow_server), ("bad", f"http://127.0.0.1:{port}")):
        subprocess.run(
            [*exe, "backends", "add", name, "--kind", "mlflow", "--url", url],
            check=True,
            capture_output=True,
        )
    ok = subprocess.run(
        [*exe, "backends", "test", "good", "--json"], check=False, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["code"] == "ok"
    bad = subprocess.run(
        [*exe, "backends", "test", "bad", "--json"], check=False, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["code"] == "refused"
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "connection refused" in bad.stderr
    unknown = subprocess.run(
        [*exe, "backends", "test", "nope"], check=False, capture_output=True, text=True
    )
    assert unknown.returncode == 1
    assert "no backend named 'nope'" in unknown.stderr
