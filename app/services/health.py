"""Health of every deployment, from its metrics source (Prometheus), with an offline copy.

Where the queries come from, most specific first:

1. per model, in the settings file::

       [health.models."fraud-model".promql]
       latency_p95 = 'histogram_quantile(0.95, sum by ($by, le) (rate(lat_bucket{$sel}[$rate])))'
       [health.models."fraud-model".thresholds.latency_p95]
       degraded = 200        # ms
       failing = 800
       for = "10m"
       [health.models."fraud-model".signals.drift]      # an extra signal
       title = "Drift score"
       promql = 'max(drift_score{model="fraud-model"})'
       degraded = 0.2
       failing = 0.4

2. per backend: the cluster backend's options ``promql.<signal>`` (and
   ``metrics_selector``, extra label matchers such as ``cluster="prod"``);
3. the target kind's defaults (``KindSpec.metrics`` in ``app.domain.kinds``).

Global ``[health.thresholds.<signal>]`` and ``[health.signals.<key>]`` tables apply
to every model. A cluster's metrics live in the Prometheus backend named by its
``metrics_backend`` option (or the only metrics source configured).

The fleet is queried with one PromQL per signal and target (grouped by the app
label), so 1,000 deployments cost a handful of queries. Every fetched window is
kept in the cache; when a source is unreachable the cached windows are shown,
marked stale, and the status is unknown.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.adapters import registry
from app.adapters.metrics import MetricsSource
from app.domain.errors import (
    BackendError,
    BadQuery,
    ConfigError,
    CredentialError,
    NotConfigured,
    NotFound,
)
from app.domain.health import (
    DEFAULT_THRESHOLDS,
    ERROR_RATE,
    LATENCY_P95,
    RPS,
    WINDOWS,
    CachedSignal,
    DeploymentHealth,
    Direction,
    FleetReport,
    HealthStatus,
    KindMetrics,
    KnownStatus,
    Series,
    SignalData,
    SignalSpec,
    Threshold,
    Unit,
    Verdict,
    escape_label_value,
    evaluate,
    format_duration,
    parse_duration,
    range_step,
    rate_range,
    render_promql,
    replica_threshold,
    version_of,
    worst_first,
)
from app.domain.kinds import Role, metrics_of
from app.domain.models import Backend, Credential, Deployment
from app.domain.policy import CanaryFigures
from app.services.backends import BackendService
from app.services.catalog import CatalogService
from app.services.settings import HealthSettings, ModelHealthSettings, SettingsFile
from app.store import health as store
from app.store.db import Cache

log = logging.getLogger(__name__)

#: points per sparkline series in the fleet view
FLEET_POINTS = 120
#: the status is judged on the last this-many seconds at a fine step
EVAL_RANGE_S = 30 * 60
EVAL_STEP_S = 30

SourceFactory = Callable[[Backend], MetricsSource]


# ------------------------------------------------------------------ plans
@dataclass(frozen=True)
class _Plan:
    """How one deployment is queried: its signals (templates) and thresholds."""

    deployment: Deployment
    metrics: KindMetrics
    selector: str
    signals: tuple[SignalSpec, ...]
    thresholds: Mapping[str, Threshold]
    #: signal keys whose template was overridden for this model (queried alone)
    own: frozenset[str]

    def app_selector(self) -> str:
        app = f'{self.metrics.app_label}="{escape_label_value(self.deployment.app)}"'
        return f"{self.selector}, {app}" if self.selector else app


@dataclass
class _SourcePlan:
    name: str
    backend: Backend | None
    plans: list[_Plan] = field(default_factory=list)
    problem: str | None = None


class HealthService:
    """Fleet and per-deployment health. Synchronous; call it from a worker thread."""

    def __init__(
        self,
        catalog: CatalogService,
        backends: BackendService,
        cache: Cache,
        settings_path: Path,
        *,
        source_factory: SourceFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._catalog = catalog
        self._backends = backends
        self._cache = cache
        self._settings_path = settings_path
        self._factory = source_factory or self._connect
        self._clock = clock
        self._sources: dict[str, MetricsSource] = {}

    # ------------------------------------------------------------- wiring
    def settings(self) -> HealthSettings:
        """The ``[health]`` table (``ConfigError`` naming the file and key when broken)."""
        return SettingsFile(self._settings_path).health()

    def _connect(self, backend: Backend) -> MetricsSource:
        # refused before connecting: a kind with no metrics adapter
        registry.require(backend, Role.METRICS)
        try:
            credential = self._backends.credential(backend.name)
        except CredentialError as exc:
            # reading metrics must not depend on a keyring; a server that needs the
            # secret answers 401 and that error names what to fix
            log.warning(
                "health: %s: no keyring (%s); connecting without a secret", backend.name, exc
            )
            credential = None
        # one retry: a poll must not hang long on a dead server
        return registry.metrics_source(
            backend,
            self._backends.connect_http(
                backend.name, credential=credential or Credential(), retries=1
            ),
        )

    def metrics_sources(self) -> list[Backend]:
        """Configured backends health can read metrics from (kinds with a metrics adapter)."""
        return self._backends.with_role(Role.METRICS)

    def source(self, name: str) -> MetricsSource:
        """The (reused) metrics source client for backend ``name``."""
        if name not in self._sources:
            self._sources[name] = self._factory(self._backends.get(name))
        return self._sources[name]

    def close(self) -> None:
        for s in self._sources.values():
            s.close()
        self._sources.clear()

    def _metrics_backend(self, target: Backend | None) -> tuple[str | None, str | None]:
        """(metrics backend name, problem) for a serving target."""
        if target is not None:
            named = target.options.get("metrics_backend")
            if isinstance(named, str) and named:
                return named, None
        sources = [b.name for b in self.metrics_sources()]
        if len(sources) == 1:
            return sources[0], None
        who = target.name if target is not None else "this target"
        if not sources:
            kinds = "|".join(registry.supported_kinds(Role.METRICS))
            return None, (
                "no metrics source configured; add one with: "
                f"modeldeck backends add NAME --kind {kinds} --url URL"
            )
        return None, (
            f"several metrics sources ({', '.join(sources)}); "
            f"set the metrics_backend option of {who}"
        )

    def _plans(self, deployments: Sequence[Deployment]) -> list[_SourcePlan]:
        settings = self.settings()
        by_source: dict[str, _SourcePlan] = {}
        targets: dict[str, Backend | None] = {}
        for d in deployments:
            if d.target not in targets:
                try:
                    targets[d.target] = self._backends.get(d.target)
                except NotConfigured:
                    targets[d.target] = None
            target = targets[d.target]
            name, problem = self._metrics_backend(target)
            key = name or f"!{d.target}"
            if key not in by_source:
                backend = None
                if name is not None:
                    try:
                        backend = self._backends.get(name)
                    except NotConfigured as exc:
                        problem = str(exc)
                by_source[key] = _SourcePlan(name or d.target, backend, problem=problem)
            by_source[key].plans.append(self._plan(d, target, settings))
        return list(by_source.values())

    def _plan(self, d: Deployment, target: Backend | None, settings: HealthSettings) -> _Plan:
        metrics = metrics_of(target.kind if target is not None else None)
        options = target.options if target is not None else {}
        model = settings.models.get(d.model_name, ModelHealthSettings())
        specs: dict[str, SignalSpec] = {s.key: s for s in metrics.signals}
        own: set[str] = set()
        for key, spec in list(specs.items()):
            backend_q = options.get(f"promql.{key}")
            if isinstance(backend_q, str) and backend_q:
                specs[key] = replace(spec, promql=backend_q)
        thresholds: dict[str, Threshold] = dict(DEFAULT_THRESHOLDS)
        thresholds["replicas"] = replica_threshold(d)
        for spec, th in settings.signals:
            specs[spec.key] = spec
            if th is not None:
                thresholds[spec.key] = th
        for spec, th in model.signals:
            specs[spec.key] = spec
            own.add(spec.key)
            if th is not None:
                thresholds[spec.key] = th
        for key, q in model.promql.items():
            if key not in specs:
                raise ConfigError(
                    f"[health.models.{d.model_name}.promql]: unknown signal {key!r} "
                    f"(known: {', '.join(specs)})"
                )
            specs[key] = replace(specs[key], promql=q)
            own.add(key)
        for table in (settings.thresholds, model.thresholds):
            for key, override in table.items():
                if key not in specs:
                    raise ConfigError(f"[health] thresholds for unknown signal {key!r}")
                thresholds[key] = thresholds.get(key, Threshold(key)).merged(override)
        selector = options.get("metrics_selector")
        return _Plan(
            d,
            metrics,
            selector if isinstance(selector, str) else "",
            tuple(specs.values()),
            {k: v for k, v in thresholds.items() if k in specs},
            frozenset(own),
        )

    # ------------------------------------------------------------- fetching
    def _fetch(
        self,
        source: MetricsSource,
        plans: Sequence[_Plan],
        start: float,
        end: float,
        step: int,
        *,
        split_versions: bool = False,
    ) -> tuple[dict[tuple[str, str], dict[str, SignalData]], dict[tuple[str, str], list[str]]]:
        """Query every signal of ``plans``; grouped queries where templates are shared.

        Returns per deployment key: signal → data, and query problems (one line each).
        Raises ``Unreachable`` (and other transport errors) for the whole source.
        """
        rate = rate_range(
            step, source.scrape_interval_s, max((p.metrics.min_rate_s for p in plans), default=0)
        )
        out: dict[tuple[str, str], dict[str, SignalData]] = defaultdict(dict)
        problems: dict[tuple[str, str], list[str]] = defaultdict(list)
        groups: dict[tuple[str, str, str, str, str], list[_Plan]] = defaultdict(list)
        for p in plans:
            for spec in p.signals:
                if spec.key in p.own or split_versions or len(plans) == 1:
                    continue
                groups[(spec.key, spec.promql, p.selector, p.metrics.app_label, spec.title)].append(
                    p
                )
        for (key, template, selector, app_label, _title), members in groups.items():
            promql = render_promql(template, selector=selector, by=[app_label], rate_s=rate)
            spec = next(s for s in members[0].signals if s.key == key)
            try:
                found = source.range(promql, start, end, step)
            except BadQuery as exc:
                for p in members:
                    problems[_key(p)].append(f"{spec.label}: {exc.detail}")
                continue
            by_app: dict[str, list[Series]] = defaultdict(list)
            for s in found:
                by_app[s.labels.get(app_label, "")].append(s)
            for p in members:
                mine = by_app.get(p.deployment.app, [])
                out[_key(p)][key] = SignalData(spec, promql, tuple(mine), step)
        for p in plans:
            for spec in p.signals:
                if not (spec.key in p.own or split_versions or len(plans) == 1):
                    continue
                own_split = p.metrics.version_signal(spec.key)
                canary = len(p.deployment.traffic) > 1
                if split_versions and canary and own_split is not None and spec.key not in p.own:
                    # during a canary, the serving app's per-version counters first;
                    # without them (another serving app), the kind's signals by its
                    # version label. One version: Ray's end-to-end figures, as the fleet
                    by = [p.metrics.app_label, p.metrics.version_signal_label]
                    data = self._query(
                        source, own_split, p, by, rate=rate, start=start, end=end, step=step
                    )
                    if isinstance(data, SignalData) and data.series:
                        out[_key(p)][spec.key] = data
                        continue
                by = [p.metrics.app_label]
                if split_versions and p.metrics.version_label:
                    by.append(p.metrics.version_label)
                data = self._query(source, spec, p, by, rate=rate, start=start, end=end, step=step)
                if isinstance(data, SignalData):
                    out[_key(p)][spec.key] = data
                else:
                    problems[_key(p)].append(data)
        return out, problems

    @staticmethod
    def _query(
        source: MetricsSource,
        spec: SignalSpec,
        plan: _Plan,
        by: list[str],
        *,
        rate: int,
        start: float,
        end: float,
        step: int,
    ) -> SignalData | str:
        """One signal of one deployment, or the query's problem (one line)."""
        promql = render_promql(
            spec.promql, selector=plan.app_selector(), by=by, rate_s=rate, app=plan.deployment.app
        )
        try:
            found = source.range(promql, start, end, step)
        except BadQuery as exc:
            return f"{spec.label}: {exc.detail}"
        return SignalData(spec, promql, tuple(found), step)

    # ------------------------------------------------------------- fleet
    def fleet(
        self,
        *,
        target: str | None = None,
        window: str = "1h",
        at: float | None = None,
        remember: bool = True,
    ) -> FleetReport:
        """Status and sparkline series of every cached deployment (on ``target``)."""
        range_s = _window_seconds(window)
        deployments = self._catalog.deployments(target)
        now = self._clock() if at is None else at
        rows: list[DeploymentHealth] = []
        errors: dict[str, str] = {}
        for sp in self._plans(deployments):
            if sp.problem is not None or sp.backend is None:
                why = sp.problem or f"no metrics backend {sp.name!r}"
                errors[sp.name] = why
                rows += [self._unknown(p, window, now, why) for p in sp.plans]
                continue
            try:
                rows += self._fleet_of(sp, window, range_s, now, remember=remember)
            except BackendError as exc:
                errors[sp.name] = exc.detail
                log.warning("health: %s", exc)
                rows += self._from_cache(sp, window, now, str(exc), fleet=True)
            except ConfigError as exc:
                errors[sp.name] = str(exc)
                rows += [self._unknown(p, window, now, str(exc)) for p in sp.plans]
        report = FleetReport(tuple(worst_first(rows)), window, now, errors)
        if remember:
            self._remember_statuses(report)
        return report

    def _fleet_of(
        self, sp: _SourcePlan, window: str, range_s: int, now: float, *, remember: bool
    ) -> list[DeploymentHealth]:
        source = self.source(sp.name)
        scrape = source.scrape_interval_s
        step = max(range_step(range_s, scrape), math.ceil(range_s / FLEET_POINTS))
        data, problems = self._fetch(source, sp.plans, now - range_s, now, step)
        eval_data = data
        eval_step = step
        if step > EVAL_STEP_S * 2:
            eval_step = max(range_step(EVAL_RANGE_S, scrape), EVAL_STEP_S)
            eval_data, more = self._fetch(source, sp.plans, now - EVAL_RANGE_S, now, eval_step)
            for k, v in more.items():
                problems[k] += v
        fetched = self._clock()
        rows = []
        for p in sp.plans:
            k = _key(p)
            verdict = self._judge(p, eval_data.get(k, {}), problems.get(k, []), now, eval_step)
            rows.append(
                DeploymentHealth(
                    p.deployment,
                    verdict,
                    data.get(k, {}),
                    window,
                    fetched,
                    now,
                    source=sp.name,
                    thresholds=p.thresholds,
                )
            )
        if remember:
            self._save(
                rows, _fleet_key(window), replace_targets={p.deployment.target for p in sp.plans}
            )
        return rows

    def _judge(
        self,
        p: _Plan,
        data: Mapping[str, SignalData],
        problems: Sequence[str],
        now: float,
        step: int,
    ) -> Verdict:
        stale_after = max(2 * step, 300)
        verdict = evaluate(data, p.thresholds, at=now, stale_after_s=stale_after)
        if problems:
            status = verdict.status
            if status is HealthStatus.HEALTHY:
                status = HealthStatus.UNKNOWN
            reasons = tuple(f"query refused — {x}" for x in problems) + verdict.reasons
            if status is not verdict.status:
                reasons = tuple(f"query refused — {x}" for x in problems)
            verdict = Verdict(status, reasons, verdict.figures)
        return verdict

    def _unknown(self, p: _Plan, window: str, now: float, why: str) -> DeploymentHealth:
        return DeploymentHealth(
            p.deployment,
            Verdict(HealthStatus.UNKNOWN, (why,), {}),
            {},
            window,
            now,
            now,
            thresholds=p.thresholds,
        )

    def _from_cache(
        self, sp: _SourcePlan, window: str, now: float, why: str, *, fleet: bool = False
    ) -> list[DeploymentHealth]:
        cached = self.cached(sp.plans, _fleet_key(window) if fleet else window)
        rows = []
        for p in sp.plans:
            signals = cached.get(_key(p), {})
            fetched = max((c.fetched_at for c in signals.values()), default=None)
            data = {
                k: SignalData(_spec_of(p, k), c.promql, c.series, c.step_s)
                for k, c in signals.items()
            }
            if fetched is None:
                reason = f"{why}; nothing cached yet for this window"
            else:
                reason = f"{why}; showing data cached {format_duration(now - fetched)} ago"
            verdict = evaluate(data, p.thresholds, at=now, stale_after_s=300, source_error=reason)
            rows.append(
                DeploymentHealth(
                    p.deployment,
                    verdict,
                    data,
                    window,
                    fetched if fetched is not None else now,
                    now,
                    stale=True,
                    source=sp.name,
                    thresholds=p.thresholds,
                )
            )
        return rows

    def cached(
        self, plans: Iterable[_Plan], window: str
    ) -> dict[tuple[str, str], dict[str, CachedSignal]]:
        out: dict[tuple[str, str], dict[str, CachedSignal]] = defaultdict(dict)
        wanted = {_key(p) for p in plans}
        targets = {k[0] for k in wanted}
        single = next(iter(wanted))[1] if len(wanted) == 1 else None
        with self._cache.read() as con:
            for t in targets:
                for c in store.load_signals(con, t, window, single):
                    if (t, c.app) in wanted:
                        out[(t, c.app)][c.signal] = c
        return out

    def _save(
        self,
        rows: Sequence[DeploymentHealth],
        window: str,
        *,
        replace_targets: Iterable[str] = (),
        replace_apps: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        signals = [
            CachedSignal(
                h.deployment.target,
                h.deployment.app,
                window,
                key,
                data.promql,
                data.step_s,
                h.fetched_at,
                data.series,
            )
            for h in rows
            for key, data in h.signals.items()
        ]
        with self._cache.write() as con:
            for t in replace_targets:
                store.save_signals(con, [], replace_window=(t, window))
            store.save_signals(con, signals, replace_apps=replace_apps)

    def _remember_statuses(self, report: FleetReport) -> None:
        with self._cache.write() as con:
            store.save_statuses(
                con,
                (
                    KnownStatus(h.key[0], h.key[1], h.status, h.verdict.why, report.at)
                    for h in report.deployments
                ),
            )

    def known_statuses(self) -> dict[tuple[str, str], HealthStatus]:
        """The last status remembered for every deployment (empty before the first poll)."""
        with self._cache.read() as con:
            return {(s.target, s.app): s.status for s in store.load_statuses(con)}

    # ------------------------------------------------------------- one deployment
    def deployment(
        self,
        target: str,
        app: str,
        *,
        window: str = "1h",
        start: float | None = None,
        end: float | None = None,
        at: float | None = None,
    ) -> DeploymentHealth:
        """Every signal of one deployment over ``window`` (or [start, end]) at full
        resolution (≤ 11,000 points), split by version during a canary."""
        found = [d for d in self._catalog.deployments(target) if d.app == app]
        if not found:
            raise NotFound(f"no deployment {app!r} on {target!r} in the cache")
        now = self._clock() if at is None else at
        if start is not None and end is not None:
            window, begin, finish = "custom", start, end
        else:
            finish = now if end is None else end
            begin = finish - _window_seconds(window)
        (sp,) = self._plans(found)
        (plan,) = sp.plans
        if sp.problem is not None or sp.backend is None:
            return self._unknown(plan, window, now, sp.problem or "no metrics backend")
        try:
            source = self.source(sp.name)
            step = range_step(finish - begin, source.scrape_interval_s)
            data, problems = self._fetch(source, [plan], begin, finish, step, split_versions=True)
            eval_step = max(range_step(EVAL_RANGE_S, source.scrape_interval_s), EVAL_STEP_S)
            eval_data, more = self._fetch(source, [plan], now - EVAL_RANGE_S, now, eval_step)
        except BackendError as exc:
            if window == "custom":
                return self._unknown(plan, window, now, str(exc))
            (row,) = self._from_cache(sp, window, now, str(exc))
            return row
        k = _key(plan)
        verdict = self._judge(
            plan, eval_data.get(k, {}), problems.get(k, []) + more.get(k, []), now, eval_step
        )
        row = DeploymentHealth(
            plan.deployment,
            verdict,
            data.get(k, {}),
            window,
            self._clock(),
            now,
            source=sp.name,
            thresholds=plan.thresholds,
        )
        if window != "custom":
            self._save([row], window, replace_apps=[(target, app, window)])
        return row

    # ------------------------------------------------------------- one version's canary
    def version_canary(
        self,
        model: str,
        version: str,
        *,
        minutes: float,
        model_source: str | None = None,
        at: float | None = None,
    ) -> list[CanaryFigures]:
        """``version``'s traffic on every cached deployment of ``model`` that serves it
        (the promotion gate's ``healthy_canary`` evidence): how long it has served
        without a gap up to now, and its error rate and p95 latency over the last
        ``minutes`` — from the serving app's per-version counters during a canary (else
        the kind's signals by its version label), from the whole app when the version
        is the only one. A source or query that fails is the figure's ``problem``."""
        now = self._clock() if at is None else at
        window_s = max(60, round(minutes * 60))
        found = [
            d
            for d in self._catalog.deployments()
            if d.model_name == model
            and version in d.traffic
            and (model_source is None or d.model_source in (None, model_source))
        ]
        out: list[CanaryFigures] = []
        for sp in self._plans(found):
            if sp.problem is not None or sp.backend is None:
                why = sp.problem or f"no metrics backend {sp.name!r}"
                out += [_no_figures(p, version, window_s, why) for p in sp.plans]
                continue
            try:
                source = self.source(sp.name)
                for p in sp.plans:
                    out.append(self._version_figures(source, p, version, now, window_s))
            except BackendError as exc:
                out += [_no_figures(p, version, window_s, str(exc)) for p in sp.plans]
        return out

    def _version_figures(
        self, source: MetricsSource, p: _Plan, version: str, now: float, window_s: int
    ) -> CanaryFigures:
        d = p.deployment
        specs = {s.key: s for s in p.signals}
        if not all(k in specs for k in (RPS, ERROR_RATE, LATENCY_P95)):
            return _no_figures(p, version, window_s, "no rps/error-rate/p95 signals for its kind")
        lookback = min(max(4 * window_s, 3600), 86400)
        step = max(range_step(lookback, source.scrape_interval_s), math.ceil(lookback / 720))
        rate = rate_range(step, source.scrape_interval_s, p.metrics.min_rate_s)
        # (specs, grouping, does a series need its version label?) tried in order
        ways: list[tuple[dict[str, SignalSpec], list[str], bool]] = []
        if len(d.traffic) > 1:
            own = {k: p.metrics.version_signal(k) for k in (RPS, ERROR_RATE, LATENCY_P95)}
            if all(s is not None for s in own.values()) and not (p.own & set(own)):
                ways.append(
                    (
                        {k: s for k, s in own.items() if s is not None},
                        [p.metrics.app_label, p.metrics.version_signal_label],
                        True,
                    )
                )
            if p.metrics.version_label:
                ways.append((specs, [p.metrics.app_label, p.metrics.version_label], True))
        else:
            ways.append((specs, [p.metrics.app_label], False))
        problem = "no per-version series for this version"
        for chosen, by, split in ways:
            rendered = render_promql(
                chosen[RPS].promql, selector=p.app_selector(), by=by, rate_s=rate, app=d.app
            )
            try:
                traffic = source.range(rendered, now - lookback, now, step)
            except BadQuery as exc:
                problem = f"{chosen[RPS].label}: {exc.detail}"
                continue
            mine = [s for s in traffic if not split or version_of(s.labels, d) == version]
            if not mine:
                continue
            served = _served_s(mine, now, step, lookback)
            figures: dict[str, float | None] = {}
            for key in (ERROR_RATE, LATENCY_P95):
                promql = render_promql(
                    chosen[key].promql, selector=p.app_selector(), by=by, rate_s=window_s
                )
                try:
                    got = source.instant(promql, now)
                except BadQuery as exc:
                    return _no_figures(p, version, window_s, f"{chosen[key].label}: {exc.detail}")
                values = [
                    s.v[-1]
                    for s in got
                    if s.v
                    and math.isfinite(s.v[-1])
                    and (not split or version_of(s.labels, d) == version)
                ]
                figures[key] = max(values) if values else None
            rps_now = [s.v[i] for s in mine for i in range(len(s.t)) if now - s.t[i] <= window_s]
            finite = [v for v in rps_now if math.isfinite(v)]
            requests = sum(finite) / len(finite) * window_s if finite else None
            return CanaryFigures(
                d.target,
                d.app,
                int(d.traffic.get(version, 0)),
                window_s,
                served,
                requests,
                figures[ERROR_RATE],
                figures[LATENCY_P95],
            )
        return _no_figures(p, version, window_s, problem)


def _no_figures(p: _Plan, version: str, window_s: int, why: str) -> CanaryFigures:
    d = p.deployment
    return CanaryFigures(
        d.target, d.app, int(d.traffic.get(version, 0)), window_s, 0.0, problem=why
    )


def _served_s(series: Sequence[Series], now: float, step: int, lookback: int) -> float:
    """How long the summed request rate of ``series`` has been above 0 without a gap,
    ending at the newest point (which must be recent), capped at ``lookback``."""
    total: dict[float, float] = defaultdict(float)
    for s in series:
        for t, v in zip(s.t, s.v, strict=True):
            if math.isfinite(v):
                total[t] += v
    times = sorted(total)
    if not times or now - times[-1] > max(2 * step, 300):
        return 0.0
    start: float | None = None
    for t in reversed(times):
        if total[t] <= 0:
            break
        if start is not None and start - t > 2 * step:
            break  # a gap in the series
        start = t
    if start is None:
        return 0.0
    return float(min(times[-1] - start + step, lookback))


def _key(p: _Plan) -> tuple[str, str]:
    return (p.deployment.target, p.deployment.app)


def _fleet_key(window: str) -> str:
    """Fleet windows (coarse, one series per app) are cached apart from model-page ones."""
    return f"fleet:{window}"


def _spec_of(p: _Plan, key: str) -> SignalSpec:
    for s in p.signals:
        if s.key == key:
            return s
    return SignalSpec(key, key, Unit.NONE, "")


def _window_seconds(window: str) -> int:
    if window in WINDOWS:
        return WINDOWS[window]
    try:
        return parse_duration(window)
    except ValueError:
        raise ConfigError(
            f"unknown window {window!r}; use one of {', '.join(WINDOWS)} or a duration like 90m"
        ) from None


__all__ = ["Direction", "HealthService", "HealthSettings"]
