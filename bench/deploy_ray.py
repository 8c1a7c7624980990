"""Benchmark: confirm → RUNNING for a one-replica deploy of an MLflow model to a real
Ray Serve head through Modeldeck (``DeployService.apply``: fingerprint re-read, PUT,
polling, re-read into the cache, journal, audit), against the same PUT sent directly
with httpx and the same polling (GET every 0.25 s until RUNNING), in the same run.

A real MLflow server and a real Ray head (2 CPUs) are started on free loopback ports
(the test fixtures' helpers) and stopped at the end; the model is a scikit-learn
DummyRegressor registered by tests/integration/fixtures/register_constant_models.py.
Runs alternate (3 each); medians are reported.

    python bench/deploy_ray.py

Prints its figures in words and, as its last line, one JSON object.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.domain.models import Backend, BackendKind, Credential  # noqa: E402
from app.services.backends import BackendService  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.services.workspace import Workspace  # noqa: E402
from tests.integration.servers import backend_venv, start_mlflow, start_ray  # noqa: E402

POLL_S = 0.25
RUNS = 3
MODEL = "bench-const"


def apps(dash: str) -> dict[str, Any]:
    return dict(httpx.get(f"{dash}/api/serve/applications/", timeout=30).json())


def raw_deploy(dash: str, name: str, tracking: str) -> float:
    """Confirm → RUNNING with one client: read, add the app, PUT, poll."""
    t0 = time.perf_counter()
    body = apps(dash)
    configs = [a["deployed_app_config"] for a in body["applications"].values()]
    configs.append(
        {
            "name": name,
            "route_prefix": f"/{name}",
            "import_path": "modeldeck_serving.app:build",
            "args": {"tracking_uri": tracking, "model_name": MODEL, "stable_version": "1"},
            "deployments": [
                {"name": "Model", "num_replicas": 1, "ray_actor_options": {"num_cpus": 0.1}}
            ],
        }
    )
    put = {
        "proxy_location": body["proxy_location"],
        "http_options": {k: body["http_options"][k] for k in ("host", "port")},
        "applications": configs,
    }
    httpx.put(f"{dash}/api/serve/applications/", json=put, timeout=60).raise_for_status()
    while True:
        app = apps(dash)["applications"].get(name)
        if app and app["status"] == "RUNNING":
            return time.perf_counter() - t0
        if app and app["status"] in ("DEPLOY_FAILED", "UNHEALTHY"):
            raise RuntimeError(app["message"])
        time.sleep(POLL_S)


class NoSecrets:
    """The backends here have no secret; the bench does not need an OS keyring."""

    def get(self, name: str) -> Credential | None:
        return None

    def set(self, name: str, credential: Credential) -> None:
        raise NotImplementedError

    def delete(self, name: str) -> bool:
        return False


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    mlflow = start_mlflow(work / "mlflow")
    ray = start_ray(work / "ray")
    try:
        py = backend_venv("mlflow") / "bin" / "python"
        script = ROOT / "tests" / "integration" / "fixtures" / "register_constant_models.py"
        subprocess.run([str(py), str(script), mlflow.url, MODEL], check=True, capture_output=True)
        ctx = AppContext.build(Workspace.resolve(work / "home"))
        ctx.__dict__["backends"] = BackendService(ctx.settings, NoSecrets())
        ctx.backends.add(Backend(name="reg", kind=BackendKind.MLFLOW, url=mlflow.url))
        ctx.backends.add(
            Backend(
                name="ray",
                kind=BackendKind.RAY_SERVE,
                url=ray.dashboard_url,
                timeout_s=30,
                options={"registry": "reg", "num_cpus": "0.1"},
            )
        )
        ctx.deploy._poll_s = POLL_S
        plan_s, modeldeck_s, raw_s = [], [], []
        for i in range(RUNS):
            t0 = time.perf_counter()
            plan = ctx.deploy.plan_deploy("ray", MODEL, "1", app=f"md-{i}")
            plan_s.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            out = ctx.deploy.apply(plan)
            modeldeck_s.append(time.perf_counter() - t0)
            assert out.ok, out.message
            ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", f"md-{i}"))
            raw_s.append(raw_deploy(ray.dashboard_url, f"raw-{i}", mlflow.url))
            ctx.deploy.apply(ctx.deploy.plan_undeploy("ray", f"raw-{i}"))
        ctx.close()
    finally:
        ray.stop()
        mlflow.stop()
        shutil.rmtree(work, ignore_errors=True)
    md, raw, pl = (statistics.median(x) for x in (modeldeck_s, raw_s, plan_s))
    print(f"one-replica deploy, confirm → RUNNING, median of {RUNS}:")
    print(f"  Modeldeck (re-read + PUT + poll + re-read, cache, journal, audit): {md:.2f} s")
    print(f"  direct httpx PUT + the same polling:                              {raw:.2f} s")
    print(f"  overhead: {md - raw:+.2f} s ({(md / raw - 1) * 100:+.0f}%)")
    print(f"  building the plan before confirm (read + registry pre-flight): {pl * 1000:.0f} ms")
    print(
        "{"
        f'"modeldeck_confirm_to_running_s": {md:.3f}, "direct_put_to_running_s": {raw:.3f}, '
        f'"overhead_s": {md - raw:.3f}, "plan_ms": {pl * 1000:.1f}, "runs": {RUNS}'
        "}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
