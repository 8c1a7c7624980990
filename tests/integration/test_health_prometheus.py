"""Health against a real Prometheus holding 7 days of backfilled Ray Serve metrics with
known shapes (tests/integration/fixtures/health_tsdb.py): the real `modeldeck health`
CLI in a subprocess, the Prometheus adapter's error mapping, and PromQL overrides."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.adapters.http import HttpBackend
from app.adapters.prometheus import PrometheusSource
from app.domain.errors import BadQuery, Unreachable
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from tests.integration.fixtures import health_tsdb as tsdb
from tests.integration.servers import ServerProcess, Silent, closed_port, require, start_prometheus

pytestmark = pytest.mark.integration

N_APPS = 20


@pytest.fixture(scope="module")
def history() -> tuple[Path, dict]:
    require(shutil.which("promtool") is not None, "no promtool (apt-get install prometheus)")
    return tsdb.ensure_tsdb(N_APPS, 7, 60)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, history) -> Iterator[ServerProcess]:
    server = start_prometheus(tmp_path_factory.mktemp("prom-health"), data_dir=history[0])
    yield server
    server.stop()


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat().replace("+00:00", "Z")


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MODELDECK_HOME"}
    return subprocess.run(
        [sys.executable, "-m", "app", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _setup(home: Path, url: str) -> None:
    ctx = AppContext.build(Workspace.resolve(home))
    try:
        tsdb.configure(ctx, url, N_APPS)
    finally:
        ctx.close()


def test_cli_health_json_matches_the_data(tmp_path: Path, prometheus: ServerProcess, history):
    end = float(history[1]["end"])
    home = tmp_path / "home"
    _setup(home, prometheus.url)
    proc = _cli(home, "health", "--json", "--at", _iso(end))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = {d["app"]: d for d in doc["deployments"]}
    assert len(rows) == N_APPS
    assert doc["counts"] == {"healthy": 15, "degraded": 2, "failing": 2, "unknown": 1}
    # worst first
    order = [d["status"] for d in doc["deployments"]]
    assert order[:2] == ["failing", "failing"]
    assert order[-1] == "healthy"

    errors = rows[tsdb.app_name(tsdb.ERRORS)]
    assert errors["status"] == "failing"
    assert errors["figures"]["error_rate"] == pytest.approx(tsdb.BURST_FRACTION, abs=0.005)
    assert errors["why"][0].startswith("error rate 8.")
    assert "> 5.0 % for 1" in errors["why"][0]  # ≈ 18-20 min: the burst's length

    spike = rows[tsdb.app_name(tsdb.SPIKE)]
    assert spike["status"] == "degraded"
    assert 300 < spike["figures"]["latency_p95"] < 1000
    assert "p95 latency" in spike["why"][0]
    assert "> 300 ms for 3" in spike["why"][0]  # ≈ 30 min

    slow = rows[tsdb.app_name(tsdb.SLOW)]
    assert slow["status"] == "failing"
    assert slow["figures"]["latency_p95"] > 1000

    gap = rows[tsdb.app_name(tsdb.GAP)]
    assert gap["status"] == "unknown"
    assert all(v is None for v in gap["figures"].values())
    assert any("no p95 latency data for 4" in w for w in gap["why"])  # ≈ 41-45 min

    down = rows[tsdb.app_name(tsdb.REPLICA_DOWN)]
    assert down["status"] == "degraded"
    assert down["figures"]["replicas"] == 1
    assert "healthy replicas 1 < 2 for 1" in down["why"][0]

    healthy = rows[tsdb.app_name(0)]
    assert healthy["status"] == "healthy"
    assert healthy["figures"]["rps"] == pytest.approx(float(tsdb.rps(0, end)), rel=0.03)
    assert healthy["figures"]["error_rate"] == pytest.approx(tsdb.ERROR_FRACTION, abs=0.002)
    assert healthy["figures"]["replicas"] == 2
    assert "ray_serve_http_request_latency_ms_bucket" in healthy["promql"]["latency_p95"]
    assert "ray_serve_num_http_error_requests_total" in healthy["promql"]["error_rate"]
    assert healthy["units"]["latency_p95"] == "ms"

    # the text form prints the same statuses
    text = _cli(home, "health", "--at", _iso(end), "--target", "ray")
    assert text.returncode == 0, text.stderr
    assert "FAILING" in text.stdout.splitlines()[1]
    assert "p95 latency 1." in text.stdout


def test_cli_health_source_down_is_unknown_from_cache(tmp_path: Path, history):
    """A first poll caches the windows; with Prometheus gone the statuses are unknown,
    the cached figures are still shown (stale) and the exit code says what failed."""
    end = float(history[1]["end"])
    home = tmp_path / "home"
    server = start_prometheus(tmp_path / "prom", data_dir=history[0])
    try:
        _setup(home, server.url)
        assert _cli(home, "health", "--json", "--at", _iso(end)).returncode == 0
    finally:
        server.stop()
    proc = _cli(home, "health", "--json", "--at", _iso(end))
    assert proc.returncode == 1
    assert "refused" in proc.stderr
    doc = json.loads(proc.stdout)
    assert {d["status"] for d in doc["deployments"]} == {"unknown"}
    assert all(d["stale"] for d in doc["deployments"])
    assert doc["errors"]["prom"].startswith("connection refused")
    spike = next(d for d in doc["deployments"] if d["app"] == tsdb.app_name(tsdb.SPIKE))
    assert "showing data cached" in spike["why"][0]


def test_model_settings_override_threshold_and_promql(
    workspace: Workspace, prometheus: ServerProcess, history
):
    end = float(history[1]["end"])
    workspace.settings_path.parent.mkdir(parents=True, exist_ok=True)
    ctx = AppContext.build(workspace)
    try:
        tsdb.configure(ctx, prometheus.url, N_APPS)
        with workspace.settings_path.open("a", encoding="utf-8") as fh:
            fh.write(
                "\n[health.models.model-00.thresholds.latency_p95]\n"
                "degraded = 50\nfailing = 5000\nfor = '10m'\n"
                "\n[health.models.model-01.promql]\n"
                "rps = 'sum by ($by) "
                "(rate(ray_serve_num_http_requests_total{$sel}[$rate])) * 1000'\n"
                "\n[health.models.model-02.signals.drift]\n"
                "title = 'Drift score'\n"
                "promql = 'vector(0.7)'\n"
                "degraded = 0.5\n"
                "for = '1m'\n"
            )
        report = ctx.health.fleet(at=end)
        rows = {h.deployment.app: h for h in report.deployments}
        m0 = rows[tsdb.app_name(0)]
        assert m0.status.value == "degraded"
        assert "> 50 ms" in m0.verdict.why
        m1 = rows[tsdb.app_name(1)]
        assert "* 1000" in m1.signals["rps"].promql
        assert 'application="app-01"' in m1.signals["rps"].promql
        assert m1.verdict.figures["rps"] == pytest.approx(1000 * float(tsdb.rps(1, end)), rel=0.03)
        m2 = rows[tsdb.app_name(2)]
        assert m2.signals["drift"].promql == "vector(0.7)"
        assert m2.status.value == "degraded"
        assert "Drift score 0.7 > 0.5" in m2.verdict.why
    finally:
        ctx.close()


def _source(url: str, timeout_s: float = 10.0) -> PrometheusSource:
    backend = Backend("prom", BackendKind.PROMETHEUS, url, timeout_s=timeout_s)
    return PrometheusSource(HttpBackend(backend, retries=0))


def test_adapter_queries_and_errors(prometheus: ServerProcess, history):
    end = float(history[1]["end"])
    src = _source(prometheus.url)
    try:
        found = src.instant('ray_serve_deployment_replica_healthy{application="app-00"}', end)
        assert {s.labels["replica"] for s in found} == {"model-00-v1#r1", "model-00-v1#r2"}
        assert all(s.v == (1.0,) for s in found)
        series = src.range("sum(ray_serve_deployment_replica_healthy)", end - 3600, end, 60)
        assert len(series) == 1
        assert len(series[0]) == 61
        bad = "sum(rate(ray_serve_num_http_requests_total[5m]"
        with pytest.raises(BadQuery) as err:
            src.instant(bad, end)
        assert bad in str(err.value)
        assert "prom" in str(err.value)
        with pytest.raises(BadQuery, match="11000"):
            src.range("up", end - 7 * 86400, end, 15)
    finally:
        src.close()


def test_adapter_unreachable_and_timeout():
    src = _source(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Unreachable, match="refused"):
        src.instant("up")
    src.close()
    with Silent() as silent:
        slow = _source(silent.url, timeout_s=0.5)
        with pytest.raises(Unreachable, match=r"no answer|timed out"):
            slow.range("up", 0, 3600, 60)
        slow.close()
