"""Model health: signals, thresholds, series and the status rules. Pure logic, no I/O.

A deployment's health is judged from a few *signals* (latency percentiles,
request rate, error rate, healthy replicas, and any extra signal a user adds,
e.g. a drift score). Each signal has a PromQL query (a default per target kind,
overridable per backend and per model) and optional *thresholds*. The rules:

* a signal breaching its ``failing`` (or ``degraded``) bound on every point of
  the last ``for_s`` seconds makes the deployment failing (degraded);
* a judged signal without a recent point makes it **unknown** — never healthy
  on missing data — unless another signal already shows it failing/degraded;
* an unreachable metrics source makes it unknown;
* otherwise healthy.

The status explains itself: ``reasons`` are one-line sentences such as
``"p95 latency 412 ms > 300 ms for 10 min"``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from string import Template

from app.domain.models import Deployment
from app.domain.text import duration

# ------------------------------------------------------------------ status


class HealthStatus(enum.StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILING = "failing"
    UNKNOWN = "unknown"

    @property
    def severity(self) -> int:
        """Higher is worse: healthy 0 < unknown 1 < degraded 2 < failing 3."""
        return _SEVERITY[self]

    def is_worse_than(self, other: HealthStatus) -> bool:
        return self.severity > other.severity


_SEVERITY = {
    HealthStatus.HEALTHY: 0,
    HealthStatus.UNKNOWN: 1,
    HealthStatus.DEGRADED: 2,
    HealthStatus.FAILING: 3,
}

#: the windows the fleet view, the model page and the CLI offer
WINDOWS: dict[str, int] = {
    "1h": 3600,
    "6h": 6 * 3600,
    "24h": 24 * 3600,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}

#: Prometheus refuses range queries with more points than this per series
MAX_POINTS = 11_000


def range_step(range_s: float, scrape_interval_s: float) -> int:
    """``max(ceil(range / 11000), scrape interval)``: never over 11,000 points per series."""
    if range_s <= 0:
        raise ValueError("the range must be longer than 0 seconds")
    return max(math.ceil(range_s / MAX_POINTS), math.ceil(scrape_interval_s), 1)


def parse_duration(text: str) -> int:
    """``"90s"``, ``"5m"``, ``"2h"``, ``"7d"`` (or plain seconds) → seconds."""
    value = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    try:
        if value and value[-1] in units:
            n = float(value[:-1])
            unit = units[value[-1]]
        else:
            n, unit = float(value), 1
    except ValueError:
        raise ValueError(f"{text!r} is not a duration (e.g. 15s, 5m, 2h, 7d)") from None
    if n <= 0 or not math.isfinite(n):
        raise ValueError(f"{text!r} is not a positive duration")
    return round(n * unit)


# ------------------------------------------------------------------ signals


class Unit(enum.StrEnum):
    MS = "ms"
    RATIO = "ratio"  # shown as a percentage
    PER_S = "req/s"
    COUNT = "count"
    NONE = ""


@dataclass(frozen=True, slots=True)
class SignalSpec:
    """One health signal: how to query it and how to show it.

    ``promql`` is a ``string.Template``: ``$sel`` expands to the label matchers
    selecting the deployment(s) (inside ``{...}``), ``$by`` to the grouping
    labels, ``$rate`` to the ``rate()`` range, ``$app`` to the app name.
    """

    key: str
    title: str
    unit: Unit
    promql: str
    short: str = ""

    @property
    def label(self) -> str:
        return self.short or self.title


LATENCY_P50 = "latency_p50"
LATENCY_P95 = "latency_p95"
LATENCY_P99 = "latency_p99"
RPS = "rps"
ERROR_RATE = "error_rate"
REPLICAS = "replicas"
CORE_SIGNALS = (LATENCY_P50, LATENCY_P95, LATENCY_P99, RPS, ERROR_RATE, REPLICAS)
#: signals that need traffic: with 0 req/s their absence is "idle", not "missing"
TRAFFIC_SIGNALS = frozenset({LATENCY_P50, LATENCY_P95, LATENCY_P99, ERROR_RATE})


def _traffic_signals(
    latency_bucket: str, requests: str, errors: str, latency_label: str = "p{} latency"
) -> tuple[SignalSpec, ...]:
    """Latency p50/p95/p99, request rate and error rate from a latency histogram in ms
    and request counters (each a series selector with ``$sel`` inside its braces)."""

    def latency(q: str) -> str:
        return f"histogram_quantile({q}, sum by ($by, le) (rate({latency_bucket}[$rate])))"

    rate = f"sum by ($by) (rate({requests}[$rate]))"
    failed = f"sum by ($by) (rate({errors}[$rate]))"
    return (
        SignalSpec(LATENCY_P50, "Latency p50", Unit.MS, latency("0.5"), latency_label.format(50)),
        SignalSpec(LATENCY_P95, "Latency p95", Unit.MS, latency("0.95"), latency_label.format(95)),
        SignalSpec(LATENCY_P99, "Latency p99", Unit.MS, latency("0.99"), latency_label.format(99)),
        SignalSpec(RPS, "Request rate", Unit.PER_S, rate, "traffic"),
        SignalSpec(
            ERROR_RATE,
            "Error rate",
            Unit.RATIO,
            # no error series at all means no errors, not "unknown": fall back to 0 × requests
            f"({failed} or ({rate} * 0)) / {rate}",
            "error rate",
        ),
    )


RAY_SERVE_SIGNALS: tuple[SignalSpec, ...] = (
    *_traffic_signals(
        "ray_serve_http_request_latency_ms_bucket{$sel}",
        "ray_serve_num_http_requests_total{$sel}",
        "ray_serve_num_http_error_requests_total{$sel}",
    ),
    SignalSpec(
        REPLICAS,
        "Healthy replicas",
        Unit.COUNT,
        "sum by ($by) (ray_serve_deployment_replica_healthy{$sel})",
        "healthy replicas",
    ),
)

#: Per-version figures from Modeldeck's own serving app (serving/), which counts each
#: request by ``model_version`` itself: it serves a canary and its stable version from
#: one Ray deployment, so Ray's metrics cannot tell them apart. Its latency is the time
#: inside the app; Ray's also counts the HTTP proxy in front of it.
MODELDECK_VERSION_SIGNALS: tuple[SignalSpec, ...] = _traffic_signals(
    "ray_modeldeck_latency_ms_bucket{$sel}",
    "ray_modeldeck_requests_total{$sel}",
    'ray_modeldeck_requests_total{code!~"2..", $sel}',
    latency_label="in-app p{}",
)


@dataclass(frozen=True, slots=True)
class KindMetrics:
    """What a target kind brings: default signals and the labels that name an app/version."""

    signals: tuple[SignalSpec, ...]
    app_label: str
    version_label: str
    #: shortest ``rate()`` range that gives a smooth line: a cluster whose counters move
    #: in steps (an exporter that flushes every N s) needs several steps per range
    min_rate_s: int = 0
    #: signals split by version from the serving app's own metrics, tried first when a
    #: chart is split by version (found nothing: ``signals`` by ``version_label``)
    version_signals: tuple[SignalSpec, ...] = ()
    #: the label of ``version_signals`` that names the model version
    version_signal_label: str = ""

    def version_signal(self, key: str) -> SignalSpec | None:
        return next((s for s in self.version_signals if s.key == key), None)


#: Ray Serve's defaults (``app.domain.kinds`` gives them to the ray-serve kind).
#: Ray's metrics agent exports every 10 s (metrics_report_interval_ms), so a range
#: holds N or N-1 counter steps by phase: measured on the sandbox at a steady load,
#: 20 s zig-zagged by ±33 %, 60 s by ±10 %; 120 s keeps it to ≈ ±5 %
RAY_SERVE_METRICS = KindMetrics(
    RAY_SERVE_SIGNALS,
    "application",
    "deployment",
    min_rate_s=120,
    version_signals=MODELDECK_VERSION_SIGNALS,
    version_signal_label="model_version",
)


def escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render_promql(
    template: str, *, selector: str, by: Sequence[str], rate_s: int, app: str = ""
) -> str:
    """Fill a signal's template; unknown ``$names`` are left as they are."""
    return Template(template).safe_substitute(
        sel=selector, by=", ".join(by), rate=f"{int(rate_s)}s", app=escape_label_value(app)
    )


def rate_range(step_s: float, scrape_interval_s: float, min_s: int = 0) -> int:
    """``rate()`` needs at least a few samples: max(step, 4 × scrape interval, min_s)."""
    return max(math.ceil(step_s), math.ceil(4 * scrape_interval_s), min_s)


# ------------------------------------------------------------------ thresholds


class Direction(enum.StrEnum):
    ABOVE = "above"  # bad when the value is above the bound (latency, errors)
    BELOW = "below"  # bad when the value is below the bound (replicas)


@dataclass(frozen=True, slots=True)
class Threshold:
    signal: str
    degraded: float | None = None
    failing: float | None = None
    direction: Direction = Direction.ABOVE
    #: the bound must be breached on every point for this long
    for_s: int = 300

    def breaches(self, value: float, bound: float) -> bool:
        return value > bound if self.direction is Direction.ABOVE else value < bound

    def merged(self, override: Mapping[str, object]) -> Threshold:
        """This threshold with the fields of a settings override (unknown keys refused)."""
        known = {"degraded", "failing", "direction", "for", "for_minutes", "for_s"}
        unknown = set(override) - known
        if unknown:
            raise ValueError(f"unknown threshold keys {sorted(unknown)} (known: {sorted(known)})")
        out = self
        if "degraded" in override:
            out = replace(out, degraded=_bound(override["degraded"], "degraded"))
        if "failing" in override:
            out = replace(out, failing=_bound(override["failing"], "failing"))
        if "direction" in override:
            out = replace(out, direction=Direction(str(override["direction"])))
        if "for" in override:
            out = replace(out, for_s=parse_duration(str(override["for"])))
        if "for_minutes" in override:
            minutes = override["for_minutes"]
            if not isinstance(minutes, int | float):
                raise ValueError("'for_minutes' must be a number")
            out = replace(out, for_s=int(minutes * 60))
        if "for_s" in override:
            seconds = override["for_s"]
            if not isinstance(seconds, int | float):
                raise ValueError("'for_s' must be a number")
            out = replace(out, for_s=int(seconds))
        return out


def _bound(value: object, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"threshold {key!r} must be a number")
    return float(value)


DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    LATENCY_P95: Threshold(LATENCY_P95, degraded=300.0, failing=1000.0),
    ERROR_RATE: Threshold(ERROR_RATE, degraded=0.01, failing=0.05),
}


def replica_threshold(deployment: Deployment) -> Threshold:
    """Fewer healthy replicas than wanted is degraded; none is failing."""
    wanted = max(1, deployment.replicas)
    return Threshold(
        REPLICAS,
        degraded=float(wanted) if wanted > 1 else None,
        failing=1.0,
        direction=Direction.BELOW,
        for_s=120,
    )


# ------------------------------------------------------------------ series


@dataclass(frozen=True, slots=True)
class Series:
    """One time series: ``t`` in seconds since the epoch, ``v`` floats (NaN = no value)."""

    labels: Mapping[str, str]
    t: tuple[float, ...]
    v: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.t)

    def last_point(self) -> tuple[float, float] | None:
        """The newest point with a finite value."""
        for i in range(len(self.t) - 1, -1, -1):
            if math.isfinite(self.v[i]):
                return self.t[i], self.v[i]
        return None


@dataclass(frozen=True, slots=True)
class SignalData:
    """A signal's series over a window for one deployment, with the PromQL that produced it."""

    spec: SignalSpec
    promql: str
    series: tuple[Series, ...]
    step_s: int

    def combined(self) -> Series | None:
        """The one series judged for status (the first; queries group per deployment)."""
        return self.series[0] if self.series else None


def format_value(value: float | None, unit: Unit) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if unit is Unit.MS:
        if abs(value) >= 1000:
            return f"{value / 1000:.2f} s"
        return f"{value:.0f} ms" if abs(value) >= 10 else f"{value:.1f} ms"
    if unit is Unit.RATIO:
        pct = value * 100
        return f"{pct:.1f} %" if pct >= 0.1 or pct == 0 else f"{pct:.2f} %"
    if unit is Unit.PER_S:
        return f"{value:,.0f} req/s" if value >= 100 else f"{value:.1f} req/s"
    if unit is Unit.COUNT:
        return f"{value:.0f}"
    return f"{value:.3g}"


def format_duration(seconds: float) -> str:
    """The one wording of a span (``app.domain.text.duration``)."""
    return duration(seconds)


# ------------------------------------------------------------------ verdict


@dataclass(frozen=True, slots=True)
class Verdict:
    status: HealthStatus
    #: why, worst first; one line each
    reasons: tuple[str, ...]
    #: signal key → its newest value (None: no recent data)
    figures: Mapping[str, float | None] = field(default_factory=dict)

    @property
    def why(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True, slots=True)
class _Finding:
    status: HealthStatus
    text: str


def _breach_run(
    series: Series, threshold: Threshold, bound: float, not_after: float
) -> tuple[float, float] | None:
    """(start, newest value) of the run of breaching points ending at the newest point."""
    last = None
    start = None
    for i in range(len(series.t) - 1, -1, -1):
        t, v = series.t[i], series.v[i]
        if t > not_after:
            continue
        if not math.isfinite(v):
            if last is None:
                continue  # trailing gap: the newest point decides
            break
        if last is None:
            last = v
        if not threshold.breaches(v, bound):
            break
        start = t
    if last is None or start is None:
        return None
    return start, last


def evaluate(
    signals: Mapping[str, SignalData],
    thresholds: Mapping[str, Threshold],
    *,
    at: float,
    stale_after_s: float,
    source_error: str | None = None,
) -> Verdict:
    """The status of one deployment at time ``at`` (seconds since the epoch).

    ``signals`` holds every queried signal (judged or not); ``thresholds`` the
    judged ones. A point older than ``stale_after_s`` before ``at`` is not recent.
    """
    figures: dict[str, float | None] = {}
    for key, data in signals.items():
        s = data.combined()
        point = s.last_point() if s is not None else None
        fresh = point is not None and at - point[0] <= stale_after_s
        figures[key] = point[1] if fresh and point is not None else None
    if source_error is not None:
        return Verdict(HealthStatus.UNKNOWN, (source_error,), figures)

    idle = figures.get(RPS) == 0.0
    findings: list[_Finding] = []
    missing: list[str] = []
    pending: list[str] = []
    for key, th in thresholds.items():
        judged = signals.get(key)
        if judged is None:
            continue
        spec = judged.spec
        step_s = judged.step_s
        series = judged.combined()
        if figures.get(key) is None:
            if idle and key in TRAFFIC_SIGNALS:
                continue
            point = series.last_point() if series is not None else None
            if point is None:
                missing.append(f"no {spec.label} data")
            else:
                missing.append(f"no {spec.label} data for {format_duration(at - point[0])}")
            continue
        assert series is not None
        for status, bound in (
            (HealthStatus.FAILING, th.failing),
            (HealthStatus.DEGRADED, th.degraded),
        ):
            if bound is None:
                continue
            run = _breach_run(series, th, bound, at)
            if run is None:
                continue
            start, value = run
            # a run covers its first point's whole step
            lasted = at - start + step_s
            sign = ">" if th.direction is Direction.ABOVE else "<"
            text = (
                f"{spec.label} {format_value(value, spec.unit)} {sign} "
                f"{format_value(bound, spec.unit)}"
            )
            if lasted >= th.for_s:
                findings.append(_Finding(status, f"{text} for {format_duration(lasted)}"))
            else:
                pending.append(
                    f"{text} for {format_duration(lasted)} "
                    f"(counts after {format_duration(th.for_s)})"
                )
                continue
            break

    findings.sort(key=lambda f: -f.status.severity)
    if findings:
        status = findings[0].status
        reasons = [f.text for f in findings] + missing + pending
        return Verdict(status, tuple(reasons), figures)
    if missing:
        return Verdict(HealthStatus.UNKNOWN, tuple(missing + pending), figures)
    if not thresholds:
        return Verdict(HealthStatus.UNKNOWN, ("no signal is judged (no thresholds)",), figures)
    return Verdict(
        HealthStatus.HEALTHY, (_summary(signals, thresholds, figures), *pending), figures
    )


def _summary(
    signals: Mapping[str, SignalData],
    thresholds: Mapping[str, Threshold],
    figures: Mapping[str, float | None],
) -> str:
    """Why it is healthy: each judged signal against its nearest bound."""
    parts = []
    for key, th in thresholds.items():
        data = signals.get(key)
        bound = th.degraded if th.degraded is not None else th.failing
        if data is None or bound is None:
            continue
        value = figures.get(key)
        if value is None:
            parts.append(f"{data.spec.label}: idle")
            continue
        if (value > bound) if th.direction is Direction.ABOVE else (value < bound):
            continue  # over the bound, not yet for long enough: a pending reason says so
        sign = "≤" if th.direction is Direction.ABOVE else "≥"
        parts.append(
            f"{data.spec.label} {format_value(value, data.spec.unit)} "
            f"{sign} {format_value(bound, data.spec.unit)}"
        )
    prefix = "idle; " if figures.get(RPS) == 0.0 else ""
    return prefix + ("within thresholds: " + ", ".join(parts) if parts else "within thresholds")


# ------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class DeploymentHealth:
    """What the health view shows for one deployment."""

    deployment: Deployment
    verdict: Verdict
    signals: Mapping[str, SignalData]
    window: str
    #: when the data was fetched (seconds since the epoch)
    fetched_at: float
    #: evaluation time (seconds since the epoch)
    at: float
    #: True when shown from the local cache because the source was unreachable
    stale: bool = False
    source: str | None = None
    #: the thresholds the verdict used (charts draw them)
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)

    @property
    def status(self) -> HealthStatus:
        return self.verdict.status

    @property
    def key(self) -> tuple[str, str]:
        return (self.deployment.target, self.deployment.app)


@dataclass(frozen=True, slots=True)
class FleetReport:
    deployments: tuple[DeploymentHealth, ...]
    window: str
    at: float
    #: metrics source name → why it could not be used this time
    errors: Mapping[str, str] = field(default_factory=dict)

    def counts(self) -> dict[HealthStatus, int]:
        out = dict.fromkeys(HealthStatus, 0)
        for d in self.deployments:
            out[d.status] += 1
        return out


def worst_first(rows: Sequence[DeploymentHealth]) -> list[DeploymentHealth]:
    return sorted(rows, key=lambda h: (-h.status.severity, h.deployment.target, h.deployment.app))


@dataclass(frozen=True, slots=True)
class StatusChange:
    target: str
    app: str
    before: HealthStatus
    after: HealthStatus
    why: str

    @property
    def worse(self) -> bool:
        return self.after.is_worse_than(self.before)


def changes(
    before: Mapping[tuple[str, str], HealthStatus], report: FleetReport
) -> list[StatusChange]:
    """Status changes of deployments known before (new deployments are not changes)."""
    out = []
    for h in report.deployments:
        old = before.get(h.key)
        if old is not None and old != h.status:
            out.append(StatusChange(h.key[0], h.key[1], old, h.status, h.verdict.why))
    return out


def when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


@dataclass(frozen=True, slots=True)
class CachedSignal:
    """A signal's series for one deployment as kept in the local cache for offline reading."""

    target: str
    app: str
    window: str
    signal: str
    promql: str
    step_s: int
    fetched_at: float
    series: tuple[Series, ...]


@dataclass(frozen=True, slots=True)
class KnownStatus:
    """The last status the cache remembers for a deployment (alerts compare against it)."""

    target: str
    app: str
    status: HealthStatus
    why: str
    evaluated_at: float


# ------------------------------------------------------------------ versions side by side
#: the figures compared across a canary's versions, and over how long
VERSION_SIGNALS = (LATENCY_P95, ERROR_RATE)
VERSION_SPAN_S = 10 * 60


def version_of(labels: Mapping[str, str], deployment: Deployment) -> str:
    """The model version a series belongs to ("" = the whole app): a label naming one of
    the deployment's versions (the serving app's ``model_version``; a Ray deployment per
    version named ``2``, ``v2`` or ``MODEL-v2``). A label naming something else (one Ray
    deployment serving every version, e.g. ``Model``) is not a version."""
    known = set(deployment.traffic)
    prefix = deployment.model_name + "-"
    for key in ("model_version", "deployment", "version"):
        value = str(labels.get(key) or "")
        value = value.removeprefix(prefix)
        if value[:1] in "vV" and value[1:] in known:
            value = value[1:]
        if value in known:
            return value
    return ""


@dataclass(frozen=True, slots=True)
class VersionFigures:
    """One version of a canary: its traffic share and recent figures."""

    version: str
    percent: int
    #: signal → mean of the charted values over the last ``VERSION_SPAN_S``
    figures: Mapping[str, float | None]
    #: signals whose figure is past their degraded bound
    over: tuple[str, ...] = ()


def compare_versions(h: DeploymentHealth, span_s: float = VERSION_SPAN_S) -> list[VersionFigures]:
    """The versions of a canary side by side (stable first), from series split by
    version; empty when the deployment runs one version or no series names a version."""
    traffic = h.deployment.traffic
    if len(traffic) < 2:
        return []
    ends = [s.t[-1] for data in h.signals.values() for s in data.series if s.t]
    if not ends:
        return []
    since = max(ends) - span_s
    values: dict[tuple[str, str], list[float]] = {}
    for key in VERSION_SIGNALS:
        data = h.signals.get(key)
        for s in data.series if data else ():
            version = version_of(s.labels, h.deployment)
            if version:
                recent = [v for t, v in zip(s.t, s.v, strict=True) if t > since]
                values.setdefault((version, key), []).extend(v for v in recent if math.isfinite(v))
    if not values:
        return []
    rows = []
    for version, percent in sorted(traffic.items(), key=lambda vp: (-vp[1], vp[0])):
        figures: dict[str, float | None] = {}
        over: list[str] = []
        for key in VERSION_SIGNALS:
            seen = values.get((version, key))
            figures[key] = sum(seen) / len(seen) if seen else None
            threshold = h.thresholds.get(key)
            value = figures[key]
            bound = threshold.degraded if threshold else None
            if threshold and bound is not None and value is not None:
                over += [key] if threshold.breaches(value, bound) else []
        rows.append(VersionFigures(version, percent, figures, tuple(over)))
    return rows


def versions_line(h: DeploymentHealth, rows: Sequence[VersionFigures]) -> str:
    """``rows`` in one line: "By version, last 10 min: v1 (75 %) p95 latency 19 ms,
    error rate 0.0 % · v2 (25 %) p95 latency 31 ms, error rate 1.9 % (over 1.0 %)"."""
    if not rows:
        return ""
    parts = []
    for row in rows:
        shown = []
        for key in VERSION_SIGNALS:
            data = h.signals.get(key)
            if data is None:
                continue
            text = f"{data.spec.label} {format_value(row.figures.get(key), data.spec.unit)}"
            threshold = h.thresholds.get(key)
            if key in row.over and threshold is not None:
                text += f" (over {format_value(threshold.degraded, data.spec.unit)})"
            shown.append(text)
        parts.append(f"v{row.version} ({row.percent} %) " + ", ".join(shown))
    return f"By version, last {format_duration(VERSION_SPAN_S)}: " + "  ·  ".join(parts)
