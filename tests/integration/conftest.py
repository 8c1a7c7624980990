"""Real backends for integration tests, started once per session on free loopback
ports and stopped by PID (process group). See ``servers.py`` for the helpers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.servers import (
    RayHead,
    ServerProcess,
    start_mlflow,
    start_prometheus,
    start_ray,
)


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
