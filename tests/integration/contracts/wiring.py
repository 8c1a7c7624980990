"""Adapters built the way the services build them: a configured backend in a real
workspace (settings file, OS keyring), connected through the service's own factory.

Each service's factory asks the kind registry (``app.adapters.registry``) for the
adapter and adds the service's own connection policy (secret, retries), so the
contracts test exactly what ``modeldeck sync`` / ``deploy`` / ``health`` connect. The
one place the contract subclasses learn how a backend becomes an adapter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.adapters.catalog import CatalogSource
from app.adapters.metrics import MetricsSource
from app.adapters.targets import DeploymentTarget
from app.domain.models import Backend
from app.services.context import AppContext
from app.services.workspace import Workspace


@contextmanager
def configured(root: Path, *backends: Backend) -> Iterator[AppContext]:
    """An ``AppContext`` on a fresh workspace under ``root`` with ``backends`` saved."""
    ctx = AppContext.build(Workspace.resolve(root))
    try:
        for backend in backends:
            ctx.backends.add(backend, replace=True)
        yield ctx
    finally:
        ctx.close()


def catalog_source(ctx: AppContext, name: str) -> CatalogSource:
    """The catalog source the sync service would use for backend ``name``."""
    from app.services.sync import default_source

    return default_source(ctx.backends.get(name), ctx.backends)


def deployment_target(ctx: AppContext, name: str) -> DeploymentTarget:
    """The deployment target the deploy service would use for backend ``name``."""
    return ctx.deploy._target_factory(name)


def metrics_source(ctx: AppContext, name: str) -> MetricsSource:
    """A metrics source built as the health service builds one for backend ``name``
    (a new one each call: the service's cached one is not shared with a test)."""
    return ctx.health._factory(ctx.backends.get(name))
