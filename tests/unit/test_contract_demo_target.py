"""The demo cluster against the ``DeploymentTarget`` contract, built the way the deploy
service builds it (``wiring``) in a demo workspace. "Someone else" edits the demo
world file directly (the cluster's own state, not the adapter under test); the
unreachable target is a demo cluster whose demo workspace is gone."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from app.adapters.demo import world as worlds
from app.adapters.targets import DeploymentTarget
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from app.services.workspace import Workspace
from tests.integration.contracts import wiring
from tests.integration.contracts.deploy import DeploymentTargetContract, IdleApp

TARGET, DOWN = "demo-contract", "demo-contract-down"


class WorldFile:
    """Someone else at the demo cluster: reads and rewrites ``demo-world.json``."""

    def __init__(self, path: Path, cluster: str) -> None:
        self.path, self.cluster = path, cluster

    def _load(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(data), encoding="utf-8")

    def app_names(self) -> set[str]:
        return {str(a["name"]) for a in self._load()["clusters"][self.cluster]["apps"]}

    def deploy(self, app: Mapping[str, Any]) -> None:
        data = self._load()
        c = data["clusters"][self.cluster]
        c["apps"] = [a for a in c["apps"] if a["name"] != app["name"]] + [dict(app)]
        self._save(data)

    def undeploy(self, names: Iterable[str]) -> None:
        gone = set(names)
        data = self._load()
        c = data["clusters"][self.cluster]
        c["apps"] = [a for a in c["apps"] if a["name"] not in gone]
        self._save(data)


def _idle_app(name: str) -> Mapping[str, Any]:
    return {
        "name": name,
        "route_prefix": f"/{name}",
        "import_path": "modeldeck_serving.app:build",
        "args": {"model_name": "contract-idle", "stable_version": "1", "tracking_uri": ""},
        "deployments": [{"name": "Model", "num_replicas": 1}],
    }


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract-demo-home")
    cluster = worlds.new_cluster({"proxy_location": "EveryNode"})
    cluster["deploy_seconds"] = 0.5
    cluster["apps"].append({**_idle_app("already-there"), "route_prefix": "/there"})
    worlds.create(Workspace.under(root).data_dir, {"clusters": {TARGET: cluster}})
    return root


@pytest.fixture(scope="module")
def ctx(root: Path) -> Iterator[AppContext]:
    data_dir = str(Workspace.under(root).data_dir)
    with wiring.configured(
        root,
        Backend(
            TARGET,
            BackendKind.DEMO_CLUSTER,
            "https://demo-contract.demo.invalid",
            options={"workspace": data_dir},
        ),
        Backend(
            DOWN,
            BackendKind.DEMO_CLUSTER,
            "https://down.demo.invalid",
            options={"workspace": str(root / "gone")},
        ),
    ) as ctx:
        assert ctx.demo  # the world file makes it the demo workspace
        yield ctx


@pytest.fixture(scope="module")
def outsider(root: Path) -> WorldFile:
    return WorldFile(worlds.world_path(Workspace.under(root).data_dir), TARGET)


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


class TestDemoClusterTarget(DeploymentTargetContract):
    """Every DeploymentTarget test, on the demo cluster."""


def test_wiring_gives_the_demo_cluster(ctx: AppContext) -> None:
    from app.adapters.demo.cluster import DemoCluster

    t = wiring.deployment_target(ctx, TARGET)
    try:
        assert isinstance(t, DemoCluster)
    finally:
        t.close()
