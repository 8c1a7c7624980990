"""One backend-kind registry: every kind declared once (app.domain.kinds), its adapters
per role (app.adapters.registry), and a kind with no adapter refused where it is used."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.adapters import registry
from app.adapters.catalog import CatalogSource
from app.adapters.http import HttpBackend
from app.adapters.metrics import MetricsSource
from app.adapters.targets import DeploymentTarget
from app.domain.backends import check_options
from app.domain.doctor import VerdictCode
from app.domain.errors import ConfigError
from app.domain.kinds import DEFAULT_METRICS, KINDS, Role, kinds, metrics_of, spec
from app.domain.models import Backend, BackendKind, Credential
from app.services import backends as backends_service
from app.services.backends import BackendService
from app.services.settings import SettingsFile

KSERVE_REFUSAL = (
    "KServe clusters are not supported yet: no adapter for kind 'kserve'; "
    "supported: mlflow, ray-serve, prometheus"
)
PROTOCOLS: dict[Role, type] = {
    Role.CATALOG: CatalogSource,
    Role.DEPLOY: DeploymentTarget,
    Role.METRICS: MetricsSource,
}


class NoSecrets:
    def get(self, name: str) -> Credential | None:
        return None

    def set(self, name: str, credential: Credential) -> None:
        pass

    def delete(self, name: str) -> bool:
        return False


@pytest.fixture
def service(tmp_path: Path) -> BackendService:
    return BackendService(SettingsFile(tmp_path / "settings.toml"), NoSecrets())


def dead(kind: BackendKind) -> Backend:
    return Backend(f"t-{kind}", kind, "http://127.0.0.1:9")


# ------------------------------------------------------------------ the declarations
def test_every_kind_has_one_spec() -> None:
    assert set(KINDS) == set(BackendKind)
    for kind in BackendKind:
        s = spec(kind)
        assert s.kind is kind
        assert s.label
        assert s.icon
        assert s.url_hint.startswith("https://")
        assert s.roles, f"{kind} plays no role"
    assert [s.label for s in kinds()] == ["MLflow", "Ray Serve", "Prometheus", "KServe"]
    # the UI's icon names of today
    assert {s.kind: s.icon for s in kinds()} == {
        BackendKind.MLFLOW: "database-outline",
        BackendKind.RAY_SERVE: "server-network",
        BackendKind.PROMETHEUS: "chart-line",
        BackendKind.KSERVE: "kubernetes",
    }


def test_roles_and_support() -> None:
    assert [s.kind for s in kinds(Role.DEPLOY)] == [BackendKind.RAY_SERVE, BackendKind.KSERVE]
    assert registry.supported_kinds(Role.CATALOG) == (BackendKind.MLFLOW,)
    assert registry.supported_kinds(Role.DEPLOY) == (BackendKind.RAY_SERVE,)
    assert registry.supported_kinds(Role.METRICS) == (BackendKind.PROMETHEUS,)
    assert registry.supported_kinds() == (
        BackendKind.MLFLOW,
        BackendKind.RAY_SERVE,
        BackendKind.PROMETHEUS,
    )
    # an adapter only ever serves a role its kind plays
    for kind in BackendKind:
        assert registry.adapters(kind).roles <= spec(kind).roles


@pytest.mark.parametrize(
    ("kind", "role"),
    [(k, r) for k in BackendKind for r in Role if registry.supports(k, r)],
)
def test_each_factory_satisfies_its_role_protocol(kind: BackendKind, role: Role) -> None:
    backend = dead(kind)
    adapter = registry.build(role, backend, HttpBackend(backend))
    try:
        assert isinstance(adapter, PROTOCOLS[role])
        assert adapter.name == backend.name
    finally:
        adapter.close()


def test_every_role_has_a_supported_kind() -> None:
    for role in Role:
        assert registry.supported_kinds(role), role


def test_a_kind_without_the_adapter_is_refused_before_connecting() -> None:
    backend = dead(BackendKind.KSERVE)
    with pytest.raises(ConfigError) as exc:
        registry.build(Role.DEPLOY, backend, HttpBackend(backend))
    assert str(exc.value) == (
        "t-kserve: KServe clusters are not supported yet: no deployment target adapter "
        "for kind 'kserve'; supported: ray-serve"
    )
    # a kind asked for a role it does not play says what it is, and what would do
    with pytest.raises(ConfigError, match="a kserve backend is a cluster, not a model registry"):
        registry.require(backend, Role.CATALOG)
    prom = dead(BackendKind.PROMETHEUS)
    with pytest.raises(ConfigError, match=r"is a metrics source, not a deployment target .*ray"):
        registry.require(prom, Role.DEPLOY)


def test_options_come_from_the_spec() -> None:
    assert check_options(BackendKind.RAY_SERVE, {"num_cpus": "0.5", "promql.rps": "x"}) is None
    problem = check_options(BackendKind.MLFLOW, {"num_cpus": "1"})
    assert problem is not None
    assert "known: none" in problem
    assert check_options(BackendKind.PROMETHEUS, {"scrape_interval": "15s"}) is None


def test_health_defaults_per_kind() -> None:
    ray = spec(BackendKind.RAY_SERVE).metrics
    assert ray is not None
    assert metrics_of(BackendKind.RAY_SERVE) is ray
    # a kind with no defaults of its own (and an unknown target) falls back
    assert metrics_of(BackendKind.KSERVE) is DEFAULT_METRICS
    assert metrics_of(None) is DEFAULT_METRICS


def test_doctor_probe_comes_from_the_registry() -> None:
    v = registry.probe(Backend("k", BackendKind.KSERVE, "https://k8s.example.com"), None)
    assert v.code is VerdictCode.NOT_PROBED
    assert "kubectl" in v.next_step
    assert set(registry.PROBES) == set(BackendKind)


# ------------------------------------------------------------------ the services
def test_add_refuses_a_kind_with_no_adapter(service: BackendService) -> None:
    with pytest.raises(ConfigError) as exc:
        service.add(Backend("x", BackendKind.KSERVE, "https://k8s.example.com:6443"))
    assert str(exc.value) == KSERVE_REFUSAL
    assert service.list() == []
    assert not service._settings.path.exists()


def test_kinds_helpers_for_the_ui_and_cli() -> None:
    infos = {i.kind: i for i in backends_service.kinds()}
    assert set(infos) == set(BackendKind)
    assert infos[BackendKind.MLFLOW].supported == {Role.CATALOG}
    assert infos[BackendKind.MLFLOW].usable
    assert not infos[BackendKind.KSERVE].usable
    assert infos[BackendKind.KSERVE].unsupported_reason == KSERVE_REFUSAL
    assert BackendService.supported_kinds(Role.DEPLOY) == (BackendKind.RAY_SERVE,)


def test_services_list_backends_by_role(tmp_path: Path, service: BackendService) -> None:
    from app.services.deploy import DeployService
    from app.services.sync import SyncService

    service.add(Backend("reg", BackendKind.MLFLOW, "http://127.0.0.1:5000"))
    service.add(Backend("ray", BackendKind.RAY_SERVE, "http://127.0.0.1:8265"))
    service.add(Backend("prom", BackendKind.PROMETHEUS, "http://127.0.0.1:9090"))
    # a hand-written entry of a kind with no adapter still loads (and is listed) ...
    path = service._settings.path
    path.write_text(
        path.read_text() + '\n[backends.kube]\nkind = "kserve"\nurl = "https://k8s.example.com"\n'
    )
    service.reload()
    assert [b.name for b in service.list()] == ["kube", "prom", "ray", "reg"]
    assert [b.name for b in service.with_role(Role.DEPLOY)] == ["ray"]

    from app.services.audit import AuditService
    from app.store.db import Cache

    cache = Cache.open(tmp_path / "cache.sqlite")
    try:
        deploy = DeployService(cache, service, AuditService(cache, user="t"))
        assert deploy.targets() == ["ray"]
        # ... but every action on it says why it cannot be used
        with pytest.raises(ConfigError, match="kube: KServe clusters are not supported yet"):
            deploy.check_target("kube")
        with pytest.raises(ConfigError, match="not a deployment target"):
            deploy.check_target("prom")
        with pytest.raises(ConfigError, match="KServe clusters are not supported yet"):
            deploy.plan_scale("kube", "app", 2)
        sync = SyncService(cache, service)
        assert [b.name for b in sync.registries()] == ["reg"]
        with pytest.raises(ConfigError, match="not a model registry"):
            sync.sync(["ray"])
        with pytest.raises(ConfigError, match="kube: a kserve backend is a cluster, not a"):
            sync.sync(["kube"])
    finally:
        cache.close()


def test_health_refuses_a_non_metrics_backend(tmp_path: Path, service: BackendService) -> None:
    from app.services.catalog import CatalogService
    from app.services.health import HealthService
    from app.store.db import Cache

    service.add(Backend("reg", BackendKind.MLFLOW, "http://127.0.0.1:5000"))
    service.add(Backend("prom", BackendKind.PROMETHEUS, "http://127.0.0.1:9090"))
    cache = Cache.open(tmp_path / "cache.sqlite")
    health = HealthService(CatalogService(cache), service, cache, service._settings.path)
    try:
        assert [b.name for b in health.metrics_sources()] == ["prom"]
        with pytest.raises(ConfigError, match="reg: a mlflow backend is a registry"):
            health.source("reg")
        assert isinstance(health.source("prom"), MetricsSource)
    finally:
        health.close()
        cache.close()
