"""Real backends for integration tests, started once per session on free loopback
ports and stopped by PID (process group). See ``servers.py`` for the helpers."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.servers import (
    RayHead,
    ServerProcess,
    backend_venv,
    require,
    start_mlflow,
    start_prometheus,
    start_ray,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def mlflow_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A real MLflow 3.17 server (SQLite store, job execution off) for the whole session."""
    server = start_mlflow(tmp_path_factory.mktemp("mlflow"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mlflow_server(mlflow_process: ServerProcess) -> str:
    """Base URL (``http://127.0.0.1:PORT``) of the session's real MLflow server."""
    return mlflow_process.url


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real Prometheus (Debian binary) for the whole session."""
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mlflow_catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A second real MLflow server on a private copy of the prebuilt 2,600-model
    ``catalog`` registry (odd names, empty models, many tags, aliases, runs).
    Tests only read it; changes go to the small ``mlflow_server``."""
    from tests.integration.mlflow_support import copy_registry

    workdir = tmp_path_factory.mktemp("mlflow-catalog")
    server = start_mlflow(workdir, db_path=copy_registry("catalog", workdir))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayHead]:
    """A real Ray head (2 CPUs, Serve on a free loopback port, ``serving/`` importable by
    its workers) for the whole session; stopped by PID."""
    head = start_ray(tmp_path_factory.mktemp("ray"))
    try:
        yield head
    finally:
        head.stop()


@pytest.fixture(scope="session")
def ray_prometheus(
    tmp_path_factory: pytest.TempPathFactory, ray_head: RayHead
) -> Iterator[ServerProcess]:
    """A real Prometheus scraping the session's Ray head (every Ray and Serve metric its
    node exports) every 2 s; stopped by PID."""
    server = start_prometheus(
        tmp_path_factory.mktemp("prometheus-ray"),
        scrape={"ray": ray_head.metrics_target},
        scrape_interval_s=2,
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def constant_model(mlflow_server: str) -> str:
    """A model registered in the session's real MLflow in two versions: scikit-learn
    DummyRegressors answering 1.0 (v1) and 2.0 (v2), so a prediction says which version
    answered."""
    name = f"const-{uuid.uuid4().hex[:6]}"
    py = backend_venv("mlflow") / "bin" / "python"
    require(py.exists(), "no MLflow venv (make backend-venvs)")
    proc = subprocess.run(
        [str(py), str(FIXTURES / "register_constant_models.py"), mlflow_server, name],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return name
