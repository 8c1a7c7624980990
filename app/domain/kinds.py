"""What each backend kind is, declared once: its name, look, URL hint, options, roles
and health defaults. Pure data, no I/O.

Which adapter serves a kind in each role (and how the doctor probes it) is the
adapters layer's half: ``app.adapters.registry``. A kind may *play* a role here
(KServe serves models) before Modeldeck has an adapter for it; the registry says
which roles are supported today.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.domain.health import RAY_SERVE_METRICS, KindMetrics
from app.domain.models import BackendKind


class Role(enum.StrEnum):
    """What a backend is used for."""

    #: a model registry synced into the catalog (``app.adapters.catalog.CatalogSource``)
    CATALOG = "catalog"
    #: a serving cluster apps are deployed to (``app.adapters.targets.DeploymentTarget``)
    DEPLOY = "deploy"
    #: a metrics source health is read from (``app.adapters.metrics.MetricsSource``)
    METRICS = "metrics"


#: options every serving cluster whose metrics Prometheus scrapes accepts
_CLUSTER_METRICS_OPTIONS = {
    "metrics_backend": "name of the Prometheus backend that scrapes this cluster",
    "metrics_selector": 'extra PromQL label matchers for this cluster (e.g. cluster="prod")',
}


#: the URL every demo backend shows: a reserved name that never resolves (RFC 2606)
DEMO_URL_HINT = "https://NAME.demo.invalid"
_DEMO_OPTIONS = {
    "workspace": "the demo workspace's data directory whose generated state this simulates",
}


@dataclass(frozen=True, slots=True)
class KindSpec:
    """One backend kind as the CLI, the GUI and the services describe it."""

    kind: BackendKind
    #: product name: "MLflow", "Ray Serve"
    label: str
    #: what one backend of this kind is, in running text ("registry", "cluster")
    noun: str
    #: ... and several of them ("registries", "clusters")
    nouns: str
    #: the role word on the Backends page's kind chip and kind menu ("Registry")
    role_label: str
    #: bundled icon name (``app.ui.icons``; resources/icons/mdi/<name>.svg)
    icon: str
    #: example base URL (the dialog's placeholder, the CLI's help)
    url_hint: str
    #: the roles a backend of this kind plays
    roles: frozenset[Role]
    #: option key → what it means (shown by the CLI and the dialog)
    options: Mapping[str, str] = field(default_factory=dict)
    #: option key prefixes accepted with any suffix: ``promql.<signal>`` overrides the
    #: health query of one signal for every app on this cluster (app.services.health)
    option_prefixes: tuple[str, ...] = ()
    #: the health signals of apps deployed on this kind (None: no defaults of its own)
    metrics: KindMetrics | None = None
    #: a simulated backend of the demo workspace (generated data, nothing contacted):
    #: badged "demo" wherever it is shown, never offered as a kind to add, and refused
    #: by ``backends add`` outside the demo workspace
    demo: bool = False

    def plays(self, role: Role) -> bool:
        return role in self.roles


KINDS: Mapping[BackendKind, KindSpec] = {
    spec.kind: spec
    for spec in (
        KindSpec(
            BackendKind.MLFLOW,
            label="MLflow",
            noun="registry",
            nouns="registries",
            role_label="Registry",
            icon="database-outline",
            url_hint="https://mlflow.example.com",
            roles=frozenset({Role.CATALOG}),
        ),
        KindSpec(
            BackendKind.RAY_SERVE,
            label="Ray Serve",
            noun="cluster",
            nouns="clusters",
            role_label="Cluster",
            icon="server-network",
            url_hint="https://ray-dashboard.example.com:8265",
            roles=frozenset({Role.DEPLOY}),
            options={
                **_CLUSTER_METRICS_OPTIONS,
                "registry": "name of the MLflow backend whose models this cluster serves",
                "registry_uri": (
                    "MLflow URI as the cluster reaches it (default: the registry's URL)"
                ),
                "import_path": "serving entry point (default modeldeck_serving.app:build)",
                "num_cpus": "CPUs each replica reserves (default 1; e.g. 0.1 for small models)",
            },
            option_prefixes=("promql.",),
            metrics=RAY_SERVE_METRICS,
        ),
        KindSpec(
            BackendKind.PROMETHEUS,
            label="Prometheus",
            noun="metrics source",
            nouns="metrics sources",
            role_label="Metrics",
            icon="chart-line",
            url_hint="https://prometheus.example.com",
            roles=frozenset({Role.METRICS}),
            options={
                "scrape_interval": (
                    "how often Prometheus scrapes (e.g. 15s); the smallest query step"
                ),
            },
        ),
        KindSpec(
            BackendKind.KSERVE,
            label="KServe",
            noun="cluster",
            nouns="clusters",
            role_label="Cluster",
            icon="kubernetes",
            url_hint="https://k8s-api.example.com:6443",
            roles=frozenset({Role.DEPLOY}),
            options={
                **_CLUSTER_METRICS_OPTIONS,
                "kubeconfig": "path of the kubeconfig file to use (default: $KUBECONFIG)",
                "context": "kubeconfig context",
                "namespace": "namespace of the InferenceServices",
            },
            option_prefixes=("promql.",),
        ),
        KindSpec(
            BackendKind.DEMO_REGISTRY,
            label="Demo registry",
            noun="registry",
            nouns="registries",
            role_label="Registry",
            icon="database-outline",
            url_hint=DEMO_URL_HINT,
            roles=frozenset({Role.CATALOG}),
            options={**_DEMO_OPTIONS},
            demo=True,
        ),
        KindSpec(
            BackendKind.DEMO_CLUSTER,
            label="Demo cluster",
            noun="cluster",
            nouns="clusters",
            role_label="Cluster",
            icon="server-network",
            url_hint=DEMO_URL_HINT,
            roles=frozenset({Role.DEPLOY}),
            options={
                **_DEMO_OPTIONS,
                **_CLUSTER_METRICS_OPTIONS,
                "registry": "name of the demo registry whose models this cluster serves",
            },
            option_prefixes=("promql.",),
            # simulates a Ray Serve cluster running Modeldeck's serving app
            metrics=RAY_SERVE_METRICS,
            demo=True,
        ),
        KindSpec(
            BackendKind.DEMO_METRICS,
            label="Demo metrics",
            noun="metrics source",
            nouns="metrics sources",
            role_label="Metrics",
            icon="chart-line",
            url_hint=DEMO_URL_HINT,
            roles=frozenset({Role.METRICS}),
            options={
                **_DEMO_OPTIONS,
                "scrape_interval": "the simulated scrape interval (default 15s)",
            },
            demo=True,
        ),
    )
}

#: what a role's backends are called in messages
ROLE_NOUNS: Mapping[Role, str] = {
    Role.CATALOG: "model registry",
    Role.DEPLOY: "deployment target",
    Role.METRICS: "metrics source",
}

#: the metric defaults of a target whose kind brings none (or is not configured)
DEFAULT_METRICS: KindMetrics = RAY_SERVE_METRICS


def spec(kind: BackendKind) -> KindSpec:
    """The spec of ``kind`` (every ``BackendKind`` has one)."""
    return KINDS[kind]


def kinds(role: Role | None = None, *, demo: bool = False) -> tuple[KindSpec, ...]:
    """Every kind's spec in declaration order; with ``role``, those that play it.
    The demo workspace's simulated kinds only with ``demo=True``."""
    return tuple(
        s for s in KINDS.values() if (role is None or role in s.roles) and (demo or not s.demo)
    )


def is_demo(kind: BackendKind) -> bool:
    """Is ``kind`` one of the demo workspace's simulated kinds?"""
    return KINDS[kind].demo


def demo_refusal(kind: BackendKind) -> str:
    """Why a demo kind cannot be added to a real workspace, in one line."""
    s = KINDS[kind]
    return (
        f"{kind} is the demo workspace's simulated {s.noun}: it answers from generated "
        "data and never contacts a server, so it cannot be added to a real workspace; "
        "try it with: modeldeck demo"
    )


def metrics_of(kind: BackendKind | None) -> KindMetrics:
    """The health defaults for apps on ``kind``; ``DEFAULT_METRICS`` when it has none."""
    found = KINDS[kind].metrics if kind is not None else None
    return found or DEFAULT_METRICS
