"""The MLflow adapter against the ``CatalogSource`` contract, on the session's real
MLflow server. The known state is created over MLflow's own REST API (``Rest``), never
through the adapter under test."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.adapters.catalog import CatalogSource
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from tests.integration.contracts import wiring
from tests.integration.contracts.catalog import (
    CatalogSourceContract,
    SeededCatalog,
    SeededModel,
    SeededRun,
)
from tests.integration.mlflow_support import Rest
from tests.integration.servers import closed_port

pytestmark = pytest.mark.integration

SOURCE, DOWN = "reg-contract", "reg-contract-down"


class MlflowWriter:
    """Models and versions created over MLflow's REST API."""

    def __init__(self, rest: Rest) -> None:
        self.rest = rest

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.rest.client.post(path, json=body)
        assert r.is_success, f"POST {path}: HTTP {r.status_code} {r.text[:500]}"
        return r.json() if r.content else None

    def create_model(
        self, name: str, *, description: str = "", tags: dict[str, str] | None = None
    ) -> None:
        body: dict[str, Any] = {"name": name, "description": description}
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        self.post("/registered-models/create", body)

    def add_version(self, name: str, *, run_id: str | None = None) -> str:
        body: dict[str, Any] = {"name": name, "source": f"s3://contract/{uuid.uuid4().hex}"}
        if run_id:
            body["run_id"] = run_id
        return str(self.post("/model-versions/create", body)["model_version"]["version"])

    def set_alias(self, name: str, alias: str, version: str) -> None:
        self.post("/registered-models/alias", {"name": name, "alias": alias, "version": version})

    def create_run(self, params: dict[str, str], metric_steps: dict[str, list[float]]) -> str:
        now = int(time.time() * 1000)
        run = self.post(
            "/runs/create", {"experiment_id": "0", "run_name": "contract", "start_time": now}
        )
        run_id = str(run["run"]["info"]["run_id"])
        metrics = [
            {"key": key, "value": value, "timestamp": now + step, "step": step}
            for key, values in metric_steps.items()
            for step, value in enumerate(values)
        ]
        self.post(
            "/runs/log-batch",
            {
                "run_id": run_id,
                "params": [{"key": k, "value": v} for k, v in params.items()],
                "metrics": metrics,
            },
        )
        self.post("/runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now + 1000})
        return run_id

    def seed(self, model: SeededModel, *, run_id: str | None = None) -> SeededModel:
        """Create ``model`` with as many versions as it lists (numbered 1..n by MLflow)."""
        self.create_model(model.name, description=model.description, tags=dict(model.tags))
        made = {self.add_version(model.name, run_id=run_id) for _ in model.versions}
        assert made == set(model.versions), made
        for alias, version in model.aliases.items():
            self.set_alias(model.name, alias, version)
        return model


def _versions(n: int) -> frozenset[str]:
    return frozenset(str(i) for i in range(1, n + 1))


@pytest.fixture(scope="module")
def rest(mlflow_server: str) -> Iterator[Rest]:
    rest = Rest(mlflow_server)
    yield rest
    rest.close()


@pytest.fixture(scope="module")
def writer(rest: Rest) -> MlflowWriter:
    return MlflowWriter(rest)


@pytest.fixture(scope="module")
def seeded(writer: MlflowWriter) -> SeededCatalog:
    tag = f"contract-{uuid.uuid4().hex[:6]}"
    params = {"lr": "0.01", "layers": "3", "note": "ünï ✓"}
    run_id = writer.create_run(params, {"loss": [0.9, 0.5, 0.25], "accuracy": [0.91]})
    with_run = writer.seed(
        SeededModel(
            f"{tag}-fraud",
            _versions(3),
            tags={
                "team": "risk",
                "owner": "ana",
                "odd key/with.dots-and_": "a 'quoted' \"value\" ✓",
            },
            aliases={"champion": "2", "shadow": "3"},
            description="Fraud scorer ✓ — 3 versions",
        ),
        run_id=run_id,
    )
    models = (
        with_run,
        writer.seed(SeededModel(f"{tag}-empty", tags={"stage": "idea"})),
        # both quote kinds and a backslash: no filter literal can hold this name
        writer.seed(SeededModel(f'{tag} it\'s "odd" \\ back', _versions(1), aliases={"x": "1"})),
        # what a LIKE pattern for the name above also matches: must not be mistaken
        writer.seed(SeededModel(f"{tag} it_s _odd_ _ back", _versions(2))),
        writer.seed(SeededModel(f"{tag} 100% ünï_*", _versions(1), description="%_")),
    )
    return SeededCatalog(
        models,
        SeededRun(run_id, params, {"loss": 0.25, "accuracy": 0.91}),
    )


@pytest.fixture(scope="module")
def ctx(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    with wiring.configured(
        tmp_path_factory.mktemp("contract-mlflow"),
        Backend(SOURCE, BackendKind.MLFLOW, mlflow_server),
        Backend(DOWN, BackendKind.MLFLOW, f"http://127.0.0.1:{closed_port()}"),
    ) as ctx:
        yield ctx


@pytest.fixture
def source(ctx: AppContext) -> Iterator[CatalogSource]:
    src = wiring.catalog_source(ctx, SOURCE)
    yield src
    src.close()


@pytest.fixture
def unreachable_source(ctx: AppContext) -> Iterator[CatalogSource]:
    src = wiring.catalog_source(ctx, DOWN)
    yield src
    src.close()


class TestMlflowCatalogSource(CatalogSourceContract):
    """Every CatalogSource test, on the MLflow adapter."""


def test_wiring_gives_the_mlflow_adapter(tmp_path: Path, mlflow_server: str) -> None:
    """The contract above runs against what the sync service really connects."""
    from app.adapters.mlflow import MlflowSource

    with wiring.configured(tmp_path, Backend(SOURCE, BackendKind.MLFLOW, mlflow_server)) as ctx:
        src = wiring.catalog_source(ctx, SOURCE)
        try:
            assert isinstance(src, MlflowSource)
        finally:
            src.close()
