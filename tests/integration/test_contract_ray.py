"""The Ray Serve adapter against the ``DeploymentTarget`` contract, on the session's real
Ray head. The apps it deploys start no replicas (autoscaling from 0, no traffic), so a
deploy costs Ray one app build and no model load; "someone else" is Ray's own REST API
(``/api/serve/applications/``), not the adapter under test."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from app.adapters.targets import DeploymentTarget
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from tests.integration.contracts import wiring
from tests.integration.contracts.deploy import DeploymentTargetContract, IdleApp
from tests.integration.servers import RayHead, closed_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TARGET, DOWN = "ray-contract", "ray-contract-down"
APPLICATIONS = "/api/serve/applications/"


class RayRest:
    """Ray Serve's declarative REST API, used directly: a GET, then a PUT of every app."""

    def __init__(self, dashboard_url: str) -> None:
        self.client = httpx.Client(base_url=dashboard_url, timeout=60)

    def close(self) -> None:
        self.client.close()

    def _current(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        r = self.client.get(APPLICATIONS)
        r.raise_for_status()
        body = r.json()
        settings: dict[str, Any] = {}
        if body.get("proxy_location"):
            settings["proxy_location"] = body["proxy_location"]
        http = body.get("http_options") or {}
        settings["http_options"] = {k: http[k] for k in ("host", "port") if k in http}
        apps = {
            name: dict(app["deployed_app_config"])
            for name, app in (body.get("applications") or {}).items()
            if app.get("deployed_app_config") and app.get("status") != "DELETING"
        }
        return settings, apps

    def _put(self, settings: Mapping[str, Any], apps: Iterable[Mapping[str, Any]]) -> None:
        r = self.client.put(APPLICATIONS, json={**settings, "applications": list(apps)})
        assert r.is_success, f"PUT {APPLICATIONS}: HTTP {r.status_code} {r.text[:500]}"

    def app_names(self) -> set[str]:
        return set(self._current()[1])

    def deploy(self, app: Mapping[str, Any]) -> None:
        settings, apps = self._current()
        apps[str(app["name"])] = dict(app)
        self._put(settings, apps.values())

    def undeploy(self, names: Iterable[str]) -> None:
        settings, apps = self._current()
        gone = set(names)
        self._put(settings, (a for n, a in apps.items() if n not in gone))


def _idle_app(name: str) -> Mapping[str, Any]:
    """Modeldeck's serving app with no replica: Ray builds it (imports the module and
    binds the deployment) and runs it at zero replicas; nothing loads a model."""
    return {
        "name": name,
        "route_prefix": f"/{name}",
        "import_path": "modeldeck_serving.app:build",
        "args": {
            "model_name": "contract-idle",
            "stable_version": "1",
            "tracking_uri": f"http://127.0.0.1:{closed_port()}",
        },
        "deployments": [
            {
                "name": "Model",
                "autoscaling_config": {
                    "min_replicas": 0,
                    "initial_replicas": 0,
                    "max_replicas": 1,
                },
                "ray_actor_options": {"num_cpus": 0.1},
            }
        ],
    }


@pytest.fixture(scope="module")
def ctx(ray_head: RayHead, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    with wiring.configured(
        tmp_path_factory.mktemp("contract-ray-home"),
        Backend(TARGET, BackendKind.RAY_SERVE, ray_head.dashboard_url, timeout_s=30),
        Backend(DOWN, BackendKind.RAY_SERVE, f"http://127.0.0.1:{closed_port()}"),
    ) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def outsider(ray_head: RayHead) -> Iterator[RayRest]:
    rest = RayRest(ray_head.dashboard_url)
    yield rest
    rest.close()


@pytest.fixture
def idle_app() -> IdleApp:
    return _idle_app


@pytest.fixture
def target(ctx: AppContext) -> Iterator[DeploymentTarget]:
    t = wiring.deployment_target(ctx, TARGET)
    yield t
    t.close()


@pytest.fixture
def unreachable_target(ctx: AppContext) -> Iterator[DeploymentTarget]:
    t = wiring.deployment_target(ctx, DOWN)
    yield t
    t.close()


class TestRayServeTarget(DeploymentTargetContract):
    """Every DeploymentTarget test, on the Ray Serve adapter."""


def test_wiring_gives_the_ray_serve_adapter(ctx: AppContext) -> None:
    """The contract above runs against what the deploy service really connects."""
    from app.adapters.ray_serve import RayServeTarget

    t = wiring.deployment_target(ctx, TARGET)
    try:
        assert isinstance(t, RayServeTarget)
    finally:
        t.close()
