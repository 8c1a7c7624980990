"""Typed, frozen domain objects. No I/O, no Qt.

Times are timezone-aware UTC ``datetime``; mappings are plain dicts that the
code treats as read-only (frozen dataclasses stop reassignment, and every
producer builds a fresh dict).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime


def utc_from_ms(ms: int | None) -> datetime | None:
    """Milliseconds since the epoch (MLflow's and the cache's unit) → aware UTC."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def ms_from_utc(when: datetime | None) -> int | None:
    if when is None:
        return None
    return int(when.timestamp() * 1000)


class BackendKind(enum.StrEnum):
    MLFLOW = "mlflow"
    RAY_SERVE = "ray-serve"
    PROMETHEUS = "prometheus"
    KSERVE = "kserve"
    #: the demo workspace's simulated registry, cluster and metrics source (in-process,
    #: generated data; refused outside the demo workspace)
    DEMO_REGISTRY = "demo-registry"
    DEMO_CLUSTER = "demo-cluster"
    DEMO_METRICS = "demo-metrics"
    # what each kind is (label, roles, options ...): app.domain.kinds.KINDS


class VersionStatus(enum.StrEnum):
    READY = "READY"
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: str | None) -> VersionStatus:
        try:
            return cls(value or "UNKNOWN")
        except ValueError:
            return cls.UNKNOWN


class DeploymentStatus(enum.StrEnum):
    """Union of the lifecycle states our targets report (Ray Serve first)."""

    DEPLOYING = "DEPLOYING"
    RUNNING = "RUNNING"
    DEPLOY_FAILED = "DEPLOY_FAILED"
    UNHEALTHY = "UNHEALTHY"
    DELETING = "DELETING"
    NOT_STARTED = "NOT_STARTED"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, value: str | None) -> DeploymentStatus:
        try:
            return cls(value or "UNKNOWN")
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class Backend:
    """A configured registry, cluster or metrics source. Never holds a secret."""

    name: str
    kind: BackendKind
    url: str
    #: PEM file of CA certificates to trust for this backend (else the system's)
    ca_bundle: str | None = None
    verify_tls: bool = True
    #: plain http:// to a non-loopback host was explicitly allowed
    insecure_http: bool = False
    timeout_s: float = 10.0
    #: kind-specific settings (e.g. the Prometheus backend a cluster's metrics live in)
    options: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Credential:
    """A secret for one backend, read from the OS keyring only when connecting.

    Either a bearer ``token`` or ``username`` + ``password`` (basic auth).
    ``repr`` never shows the secret, so it cannot leak into a log or traceback.
    """

    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """A registered model as cached; ``(source, name)`` identifies it."""

    source: str
    name: str
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    #: alias → version, as the registry reports it (``champion`` → ``"7"``)
    aliases: Mapping[str, str] = field(default_factory=dict)
    owner: str | None = None
    flavor: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    latest_version: str | None = None
    version_count: int = 0
    #: where the registry's own web UI shows this model, when it has one
    web_url: str | None = None


@dataclass(frozen=True, slots=True)
class ModelVersion:
    source: str
    model_name: str
    version: str
    status: VersionStatus = VersionStatus.UNKNOWN
    stage: str | None = None
    source_uri: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    flavor: str | None = None

    @property
    def number(self) -> int:
        """Numeric version for ordering (MLflow versions are integers as strings)."""
        try:
            return int(self.version)
        except ValueError:
            return -1


@dataclass(frozen=True, slots=True)
class ModelDetail:
    """A model with all its versions, newest first."""

    model: RegisteredModel
    versions: tuple[ModelVersion, ...]
    deployments: tuple[Deployment, ...] = ()


@dataclass(frozen=True, slots=True)
class Deployment:
    """One application on one serving target."""

    target: str
    app: str
    model_name: str
    #: version → share of traffic in percent; one entry unless a canary runs
    traffic: Mapping[str, int] = field(default_factory=dict)
    replicas: int = 1
    status: DeploymentStatus = DeploymentStatus.UNKNOWN
    message: str = ""
    route: str | None = None
    model_source: str | None = None
    updated_at: datetime | None = None

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(self.traffic)


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the cache knows about one catalog source's syncs."""

    name: str
    kind: str
    url: str = ""
    last_sync_at: datetime | None = None
    last_full_sync_at: datetime | None = None
    cursor: str | None = None
    last_error: str | None = None
    models: int = 0


@dataclass(frozen=True, slots=True)
class CacheInfo:
    path: str
    schema_version: str
    size_bytes: int
    models: int
    versions: int
    deployments: int
    sources: tuple[SourceState, ...]
    notice: str | None = None


# ------------------------------------------------------------- queries
def fts_match_expression(text_query: str) -> str:
    """Free text → an FTS5 MATCH expression: every word must match as a prefix.

    Words are quoted, so FTS5 operators typed by a user (``AND``, ``-``,
    ``:``) are searched for, not interpreted.
    """
    words = [w for w in text_query.split() if w.strip('"')]
    return " ".join('"{}"*'.format(w.strip('"').replace('"', '""')) for w in words)


_TOKEN = re.compile(r'(\w+):("([^"]*)"|\S+)|"([^"]*)"|(\S+)')
_FIELDS = ("tag", "alias", "owner", "flavor", "source", "stage", "deployed")


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """A parsed catalog search: free text plus field filters.

    Syntax (UI search box and ``--search``)::

        fraud tag:team=nlp alias:champion owner:ana flavor:sklearn source:prod
        deployed:yes stage:Production "exact phrase"
    """

    text: str = ""
    tags: tuple[tuple[str, str | None], ...] = ()
    aliases: tuple[str, ...] = ()
    owner: str | None = None
    flavor: str | None = None
    source: str | None = None
    stage: str | None = None
    deployed: bool | None = None

    @property
    def is_empty(self) -> bool:
        return self == CatalogQuery()

    @classmethod
    def parse(cls, raw: str) -> CatalogQuery:
        words: list[str] = []
        tags: list[tuple[str, str | None]] = []
        aliases: list[str] = []
        values: dict[str, str] = {}
        for m in _TOKEN.finditer(raw):
            key, value = m.group(1), (m.group(3) if m.group(3) is not None else m.group(2))
            if key and key.lower() in _FIELDS:
                key = key.lower()
                if key == "tag":
                    k, sep, v = value.partition("=")
                    tags.append((k, v if sep else None))
                elif key == "alias":
                    aliases.append(value)
                else:
                    values[key] = value
            elif m.group(4) is not None:
                words.append(f'"{m.group(4)}"')
            else:
                words.append(m.group(0))
        deployed = values.get("deployed")
        return cls(
            text=" ".join(words),
            tags=tuple(tags),
            aliases=tuple(aliases),
            owner=values.get("owner"),
            flavor=values.get("flavor"),
            source=values.get("source"),
            stage=values.get("stage"),
            deployed=None if deployed is None else deployed.lower() in {"yes", "true", "1", "y"},
        )
