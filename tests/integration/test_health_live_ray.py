"""Live health: a REAL Prometheus scraping a REAL Ray head's metrics endpoint while real
requests hit an app that ``DeployService`` deployed from a REAL MLflow registry. The
request rate, latency and error rate that ``modeldeck health --json`` prints come from
Ray's own counters, end to end — nothing is backfilled or generated. During a canary,
``modeldeck health --app`` splits them by version from the serving app's own counters.
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
def live_app(  # noqa: PLR0917 - pytest fixtures
    request: pytest.FixtureRequest,
    tmp_path: Path,
    ray_head: RayHead,
    ray_prometheus: ServerProcess,
    mlflow_server: str,
    constant_model: str,
) -> Iterator[tuple[Path, str, Traffic]]:
    """An app of ``constant_model`` v1 under paced traffic; with ``indirect`` param N,
    N % of its traffic goes to a v2 canary."""
    canary_percent = int(getattr(request, "param", 0))
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
        if canary_percent:
            out = ctx.deploy.apply(ctx.deploy.plan_canary("ray", app, "2", canary_percent))
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

    def errors_settled() -> bool:
        row = _health(home, app)
        if row is not None:
            seen.update(row)
        return abs((seen["figures"].get("error_rate") or 0) - 1 / BAD_EVERY) <= 0.08

    # Ray's error counter appears with the first refused request, and a rate() whose
    # range starts before a counter's first sample reads low until a whole range (120 s
    # for Ray) has passed: wait, bounded, for the figure to settle, then check it.
    wait_until(errors_settled, timeout_s=240, what="the error rate to settle", interval_s=3)
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


@pytest.mark.parametrize("live_app", [40], indirect=True)
def test_live_canary_is_split_by_version(live_app: tuple[Path, str, Traffic]) -> None:
    """One Ray deployment serves both versions of a canary, so Ray's metrics cannot split
    them; the serving app's own per-version counters do, and the model's page (here its
    CLI twin, ``health --app``) charts v1 and v2 apart."""
    home, app, traffic = live_app
    doc: dict[str, Any] = {}

    def latest(key: str) -> dict[str, float]:
        """signal → {version: newest finite value}"""
        out = {}
        for s in doc.get("series", {}).get(key, []):
            values = [v for _t, v in s["points"] if v is not None]
            if values and s["labels"].get("model_version"):
                out[s["labels"]["model_version"]] = values[-1]
        return out

    def both_versions() -> bool:
        proc = modeldeck(home, "health", "--app", app, "--series", "--json", timeout=120)
        assert proc.returncode == 0, proc.stderr
        doc.clear()
        doc.update(json.loads(proc.stdout))
        rps, errors = latest("rps"), latest("error_rate")
        return set(rps) == {"1", "2"} and all(rps.values()) and set(errors) == {"1", "2"}

    wait_until(both_versions, timeout_s=240, what=f"per-version series for {app}", interval_s=3)

    def errors_settled() -> bool:  # as in the test above: a new counter's rate reads low
        both_versions()
        rates = list(latest("error_rate").values())
        # the side-by-side figures are means over the last 10 min, so they also carry the
        # low reads from before the error counters appeared: wait for them too (a loaded
        # machine starts the traffic later in that window)
        rates += [r["figures"]["error_rate"] or 0.0 for r in doc.get("by_version", [])]
        return len(rates) == 4 and all(abs(r - 1 / BAD_EVERY) <= 0.12 for r in rates)

    wait_until(
        errors_settled, timeout_s=420, what="per-version error rates to settle", interval_s=5
    )
    assert doc["versions"] == {"1": 60, "2": 40}
    assert "ray_modeldeck_requests_total" in doc["promql"]["rps"]
    assert "model_version" in doc["promql"]["rps"]
    rps = latest("rps")
    # 40 % of the requests to v2: the split shows in the rates (loose: a few hundred draws)
    assert 0.15 < rps["2"] / (rps["1"] + rps["2"]) < 0.65
    # every fifth request is malformed, whichever version it was routed to
    for version, rate in latest("error_rate").items():
        assert rate == pytest.approx(1 / BAD_EVERY, abs=0.12), version
    assert set(latest("latency_p95")) == {"1", "2"}
    # replicas are Ray's: one deployment, one line for the app
    assert len(doc["series"]["replicas"]) == 1
    assert traffic.ok > 0

    # side by side, as the model page's line under the verdict
    rows = {r["version"]: r for r in doc["by_version"]}
    assert (rows["1"]["percent"], rows["2"]["percent"]) == (60, 40)
    for row in rows.values():
        assert row["figures"]["error_rate"] == pytest.approx(1 / BAD_EVERY, abs=0.12)
        assert row["over"] == ["error_rate"]  # 20 % errors: past the 1 % bound, both
        assert 0 < row["figures"]["latency_p95"] < 2000

    text = modeldeck(home, "health", "--app", app, timeout=120)
    assert text.returncode == 0, text.stderr
    assert "v1 60 %" in text.stdout
    assert "v2 40 %" in text.stdout
    assert "By version, last 10 min: v1 (60 %) in-app p95" in text.stdout
