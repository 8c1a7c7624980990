"""Which adapter serves each backend kind in each role, and how the doctor probes it.

The adapters layer's half of a kind (the pure half — label, options, roles — is
``app.domain.kinds``). One entry per kind; a kind with no factory for a role is
refused, with a message naming the kind and what is supported, wherever the user
would try it (``require``). Services build the connection (``HttpBackend``, with its
secret and retry policy) and ask here for the adapter over it.

Adapters are imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

from app.adapters import probe as probes
from app.adapters.catalog import CatalogSource
from app.adapters.http import HttpBackend
from app.adapters.metrics import MetricsSource
from app.adapters.probe import KindProbe
from app.adapters.targets import DeploymentTarget
from app.domain.doctor import Verdict
from app.domain.errors import ConfigError
from app.domain.kinds import KINDS, ROLE_NOUNS, Role, is_demo, spec
from app.domain.models import Backend, BackendKind, Credential

CatalogFactory = Callable[[Backend, HttpBackend], CatalogSource]
TargetFactory = Callable[[Backend, HttpBackend], DeploymentTarget]
MetricsFactory = Callable[[Backend, HttpBackend], MetricsSource]
#: a verdict reached without a connection (the demo's simulated backends)
LocalProbe = Callable[[Backend], Verdict]
Adapter = CatalogSource | DeploymentTarget | MetricsSource


@dataclass(frozen=True)
class KindAdapters:
    """A kind's adapters, one factory per role it is supported in."""

    catalog: CatalogFactory | None = None
    deploy: TargetFactory | None = None
    metrics: MetricsFactory | None = None
    probe: KindProbe = field(default_factory=KindProbe)
    #: the doctor's verdict without any connection (set for in-process kinds)
    local_probe: LocalProbe | None = None

    def factory(self, role: Role) -> object | None:
        return {Role.CATALOG: self.catalog, Role.DEPLOY: self.deploy, Role.METRICS: self.metrics}[
            role
        ]

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(r for r in Role if self.factory(r) is not None)


def _mlflow(backend: Backend, http: HttpBackend) -> CatalogSource:
    from app.adapters.mlflow import MlflowSource

    return MlflowSource(backend, http=http)


def _ray_serve(backend: Backend, http: HttpBackend) -> DeploymentTarget:
    from app.adapters.ray_serve import RayServeTarget

    return RayServeTarget(http)


def _prometheus(backend: Backend, http: HttpBackend) -> MetricsSource:
    from app.adapters.prometheus import PrometheusSource

    return PrometheusSource(http)


def _demo_registry(backend: Backend, http: HttpBackend) -> CatalogSource:
    from app.adapters.demo.catalog import DemoRegistry

    http.close()  # in process: nothing is contacted
    return DemoRegistry(backend)


def _demo_cluster(backend: Backend, http: HttpBackend) -> DeploymentTarget:
    from app.adapters.demo.cluster import DemoCluster

    http.close()
    return DemoCluster(backend)


def _demo_metrics(backend: Backend, http: HttpBackend) -> MetricsSource:
    from app.adapters.demo.metrics import DemoMetrics

    http.close()
    return DemoMetrics(backend)


def _demo_probe(backend: Backend) -> Verdict:
    from app.adapters.demo.probe import verdict

    return verdict(backend)


ADAPTERS: Mapping[BackendKind, KindAdapters] = {
    BackendKind.MLFLOW: KindAdapters(
        catalog=_mlflow,
        probe=KindProbe(probes.check_mlflow, probes.looks_mlflow),
    ),
    BackendKind.RAY_SERVE: KindAdapters(
        deploy=_ray_serve,
        probe=KindProbe(probes.check_ray, probes.looks_ray),
    ),
    BackendKind.PROMETHEUS: KindAdapters(
        metrics=_prometheus,
        probe=KindProbe(probes.check_prometheus, probes.looks_prometheus),
    ),
    BackendKind.KSERVE: KindAdapters(probe=KindProbe(unprobed=probes.KSERVE_UNPROBED)),
    # the demo workspace's simulated backends (app.adapters.demo), in process
    BackendKind.DEMO_REGISTRY: KindAdapters(catalog=_demo_registry, local_probe=_demo_probe),
    BackendKind.DEMO_CLUSTER: KindAdapters(deploy=_demo_cluster, local_probe=_demo_probe),
    BackendKind.DEMO_METRICS: KindAdapters(metrics=_demo_metrics, local_probe=_demo_probe),
}

#: the doctor's probes, per kind
PROBES: Mapping[BackendKind, KindProbe] = {k: a.probe for k, a in ADAPTERS.items()}


def adapters(kind: BackendKind) -> KindAdapters:
    return ADAPTERS.get(kind, KindAdapters())


def supports(kind: BackendKind, role: Role | None = None) -> bool:
    """Has ``kind`` an adapter for ``role`` (for any role when ``role`` is None)?"""
    found = adapters(kind).roles
    return bool(found) if role is None else role in found


def supported_kinds(role: Role | None = None, *, demo: bool = False) -> tuple[BackendKind, ...]:
    """The kinds Modeldeck can use in ``role`` (in any role when None), in declared order;
    the demo workspace's simulated kinds only with ``demo=True`` (they are never offered
    to a user adding a backend)."""
    return tuple(k for k in KINDS if supports(k, role) and (demo or not is_demo(k)))


def unsupported(kind: BackendKind, role: Role | None = None) -> str | None:
    """Why a ``kind`` backend cannot be used in ``role`` (any role: None), else ``None``."""
    if supports(kind, role):
        return None
    s = spec(kind)
    if role is None or role in s.roles:
        # the kind does this (or something) but Modeldeck has no adapter for it yet
        what = f"no adapter for kind {str(kind)!r}"
        if role is not None:
            what = f"no {ROLE_NOUNS[role]} adapter for kind {str(kind)!r}"
        known = ", ".join(supported_kinds(role)) or "none"
        return f"{s.label} {s.nouns} are not supported yet: {what}; supported: {known}"
    known = ", ".join(supported_kinds(role)) or "none"
    return f"a {kind} backend is a {s.noun}, not a {ROLE_NOUNS[role]} (those are: {known})"


def require(backend: Backend, role: Role) -> None:
    """Raise ``ConfigError`` naming ``backend`` when its kind cannot serve ``role``."""
    problem = unsupported(backend.kind, role)
    if problem:
        raise ConfigError(f"{backend.name}: {problem}")


def catalog_source(backend: Backend, http: HttpBackend) -> CatalogSource:
    require(backend, Role.CATALOG)
    factory = adapters(backend.kind).catalog
    assert factory is not None
    return factory(backend, http)


def deployment_target(backend: Backend, http: HttpBackend) -> DeploymentTarget:
    require(backend, Role.DEPLOY)
    factory = adapters(backend.kind).deploy
    assert factory is not None
    return factory(backend, http)


def metrics_source(backend: Backend, http: HttpBackend) -> MetricsSource:
    require(backend, Role.METRICS)
    factory = adapters(backend.kind).metrics
    assert factory is not None
    return factory(backend, http)


def build(role: Role, backend: Backend, http: HttpBackend) -> Adapter:
    """``backend``'s adapter for ``role`` over ``http`` (``ConfigError`` when none)."""
    if role is Role.CATALOG:
        return catalog_source(backend, http)
    if role is Role.DEPLOY:
        return deployment_target(backend, http)
    return metrics_source(backend, http)


def probe(
    backend: Backend,
    credential: Credential | None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Verdict:
    """The connection doctor's verdict on ``backend`` now, by its kind's probe."""
    local = adapters(backend.kind).local_probe
    if local is not None:
        return local(backend)
    return probes.probe(backend, credential, PROBES, transport=transport)
