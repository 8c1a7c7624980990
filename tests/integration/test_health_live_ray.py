"""Live health: a REAL Prometheus scraping a REAL Ray head's metrics endpoint while real
requests hit an app that ``DeployService`` deployed from a REAL MLflow registry. The
request rate, latency and error rate that ``modeldeck health --json`` prints come from
Ray's own counters, end to end — nothing is backfilled or generated.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from tests.integration.mlflow_support import modeldeck
from tests.integration.servers import RayHead, ServerProcess, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: every BAD_EVERY-th request has no ``inputs``: the app answers 400, an error for Ray
BAD_EVERY = 5


@dataclass
class Traffic:
    """Requests against one app from a thread, until stopped; counts what it got."""

    url: str
    ok: int = 0
    bad: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not self.stop.wait(0.05):  # ≈ 15-20 requests/s: a paced load, not a wait
                n += 1
                body: dict[str, Any] = (
                    {"rows": []} if n % BAD_EVERY == 0 else {"inputs": [[0.0, 0.0]]}
                )
                r = client.post(self.url, json=body)
                if r.status_code == 200:
                    self.ok += 1
                elif r.status_code == 400:
                    self.bad += 1


@pytest.fixture
def live_app(
    tmp_path: Path,
    ray_head: RayHead,
    ray_prometheus: ServerProcess,
    mlflow_server: str,
    constant_model: str,
) -> Iterator[tuple[Path, str, Traffic]]:
    home = tmp_path / "home"
    app = f"live-{uuid.uuid4().hex[:4]}"
    ctx = AppContext.build(Workspace.resolve(home))
    try:
        ctx.backends.add(Backend(name="reg", kind=BackendKind.MLFLOW, url=mlflow_server))
        ctx.backends.add(
            Backend(
                name="prom",
                kind=BackendKind.PROMETHEUS,
                url=ray_prometheus.url,
                options={"scrape_interval": "2"},
            )
        )
        ctx.backends.add(
            Backend(
                name="ray",
                kind=BackendKind.RAY_SERVE,
                url=ray_head.dashboard_url,
                timeout_s=30,
                options={"registry": "reg", "num_cpus": "0.1", "metrics_backend": "prom"},
            )
        )
        ctx.deploy._poll_s = 0.25
        out = ctx.deploy.apply(ctx.deploy.plan_deploy("ray", constant_model, "1", app=app))
        assert out.ok, out.message
    finally:
        ctx.close()
    traffic = Traffic(f"{ray_head.serve_url}/{app}")
    thread = threading.Thread(target=traffic.run, name="traffic", daemon=True)
    thread.start()
    try:
        yield home, app, traffic
    finally:
        traffic.stop.set()
        thread.join(timeout=60)
        ctx = AppContext.build(Workspace.resolve(home))
        try:
            ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", app))
        finally:
            ctx.close()


def _health(home: Path, app: str) -> dict[str, Any] | None:
    proc = modeldeck(home, "health", "--json", "--window", "1h", timeout=120)
    assert proc.returncode == 0, proc.stderr
    rows = {d["app"]: d for d in json.loads(proc.stdout)["deployments"]}
    return rows.get(app)


def test_live_ray_traffic_shows_in_health(live_app: tuple[Path, str, Traffic]) -> None:
    home, app, traffic = live_app
    seen: dict[str, Any] = {}

    def has_figures() -> bool:
        row = _health(home, app)
        if row is None:
            return False
        seen.update(row)
        figures = row["figures"]
        return bool(
            figures.get("rps")
            and figures.get("latency_p95") is not None
            and figures.get("error_rate")
            and figures.get("replicas")
        )

    # Ray exports counters with a delay of several seconds, Prometheus scrapes every 2 s
    # and rate() needs a few samples: poll the real CLI until the figures are there.
    wait_until(has_figures, timeout_s=240, what=f"health figures for {app}", interval_s=3)
    assert traffic.ok > 0
    assert traffic.bad > 0
    figures = seen["figures"]
    assert seen["model"]
    assert seen["versions"] == {"1": 100}
    assert seen["source"] == "prom"
    assert seen["stale"] is False
    # the traffic thread sends ≈15-20 requests/s; a rate taken over a window that
    # includes the ramp-up is lower, never zero, never more than the thread could send
    assert 0.2 < figures["rps"] < 40
    # one request in BAD_EVERY is refused with 400 by the app: Ray counts it as an error
    assert figures["error_rate"] == pytest.approx(1 / BAD_EVERY, abs=0.08)
    # a DummyRegressor on loopback: milliseconds, not seconds
    assert 0 < figures["latency_p95"] < 2000
    assert figures["replicas"] == 1
    assert "ray_serve_num_http_requests_total" in seen["promql"]["rps"]
    assert f'application="{app}"' in seen["promql"]["rps"]
