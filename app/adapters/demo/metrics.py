"""The demo metrics source (kind ``demo-metrics``): a ``MetricsSource`` that answers the
health service's PromQL from the simulation (``sim``), in process.

It does not parse PromQL in full. It recognises each of Modeldeck's health signals by
its metric name — latency quantiles from ``histogram_quantile(q, … *_latency_ms_bucket
…)``, the error ratio (an ``*error*`` counter or ``code!~"2.."``), the request rate
(``*requests_total``) and healthy replicas (``*replica_healthy``) — and reads the
selector's ``application`` and ``cluster`` matchers and the ``by (…)`` labels (so a
canary splits by ``model_version``). Anything else is refused with ``BadQuery`` naming
what it simulates, as Prometheus refuses a query it cannot run.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.adapters.demo import sim
from app.adapters.demo import world as worlds
from app.adapters.demo.cluster import deploy_seconds, model_of
from app.domain.errors import BadQuery
from app.domain.health import MAX_POINTS, Series, parse_duration
from app.domain.models import Backend

_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}")
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
_QUANTILE = re.compile(r"histogram_quantile\(\s*([0-9.]+)\s*,")
#: the labels a demo series carries
APP, CLUSTER, VERSION, DEPLOYMENT = "application", "cluster", "model_version", "deployment"
SIMULATED = (
    "latency quantiles (histogram_quantile over *_latency_ms_bucket), request rate "
    "(*requests_total), error ratio and healthy replicas (*replica_healthy)"
)


@dataclass(frozen=True, slots=True)
class _Query:
    signal: str  # p50 | p95 | p99 | rps | error | replicas
    matchers: tuple[tuple[str, str, str], ...]
    by: tuple[str, ...]

    def keeps(self, label: str, value: str) -> bool:
        for key, op, want in self.matchers:
            if key != label:
                continue
            plain = want.replace('\\"', '"').replace("\\\\", "\\")
            if op == "=" and value != plain:
                return False
            if op == "!=" and value == plain:
                return False
            if op == "=~" and re.fullmatch(plain, value) is None:
                return False
            if op == "!~" and re.fullmatch(plain, value) is not None:
                return False
        return True


def parse(backend: str, promql: str) -> _Query:
    """The signal, matchers and grouping of one of Modeldeck's health queries."""
    if "$" in promql:
        raise BadQuery(backend, promql, "the query has an unfilled $placeholder")
    selectors = _SELECTOR.findall(promql)
    if not selectors:
        raise BadQuery(backend, promql, f"no metric selector; the demo simulates {SIMULATED}")
    names = [n for n, _ in selectors]
    quantile = _QUANTILE.search(promql)
    if quantile is not None and any(n.endswith("_bucket") for n in names):
        q = float(quantile.group(1))
        signal = {0.5: "p50", 0.95: "p95", 0.99: "p99"}.get(q)
        if signal is None:
            raise BadQuery(backend, promql, "the demo simulates the 0.5, 0.95 and 0.99 quantiles")
    elif any("error" in n for n in names) or 'code!~"2' in promql:
        signal = "error"
    elif any(n.endswith("replica_healthy") for n in names):
        signal = "replicas"
    elif any(n.endswith("requests_total") for n in names):
        signal = "rps"
    else:
        raise BadQuery(
            backend, promql, f"unknown metric {names[0]!r}; the demo simulates {SIMULATED}"
        )
    by_match = _BY.search(promql)
    by = tuple(x.strip() for x in by_match.group(1).split(",") if x.strip()) if by_match else ()
    matchers = tuple(
        (k, op, v) for k, op, v in _MATCHER.findall(selectors[0][1]) if k in (APP, CLUSTER)
    )
    return _Query(signal, matchers, tuple(b for b in by if b != "le"))


def _value(f: sim.Figures, signal: str) -> float:
    if signal == "rps":
        return f.rps
    if signal == "error":
        return f.error
    if signal == "replicas":
        return f.replicas
    return {"p50": f.p50, "p95": f.p95, "p99": f.p99}[signal]


class DemoMetrics:
    """A ``MetricsSource`` over the demo world (kind ``demo-metrics``)."""

    def __init__(self, backend: Backend, *, clock: Callable[[], float] = time.time) -> None:
        self.name = backend.name
        self._dir = worlds.workspace_of(backend)
        raw = backend.options.get("scrape_interval")
        self.scrape_interval_s = float(parse_duration(str(raw))) if raw else 15.0
        self._clock = clock
        self._world: tuple[int, worlds.World] | None = None
        self._stamp = -1
        self._figures: dict[tuple[object, ...], list[sim.Figures]] = {}

    def _load(self) -> worlds.World:
        try:
            stamp = worlds.world_path(self._dir).stat().st_mtime_ns if self._dir else -1
        except OSError:
            stamp = -1
        if self._world is None or self._world[0] != stamp:
            self._world = (stamp, worlds.load(self.name, self._dir))
            self._figures.clear()
        self._stamp = stamp
        return self._world[1]

    def instant(self, promql: str, at: float | None = None) -> list[Series]:
        t = self._clock() if at is None else at
        return self._evaluate(promql, [float(t)])

    def range(self, promql: str, start: float, end: float, step_s: int) -> list[Series]:
        if step_s <= 0 or end < start:
            raise BadQuery(self.name, promql, "the range needs a step > 0 and end ≥ start")
        points = int((end - start) // step_s) + 1
        if points > MAX_POINTS:
            raise BadQuery(
                self.name,
                promql,
                f"exceeded maximum resolution of {MAX_POINTS} points per timeseries; "
                "try decreasing the query resolution (?step=XX)",
            )
        return self._evaluate(promql, [start + i * step_s for i in range(points)])

    def _evaluate(self, promql: str, ts: list[float]) -> list[Series]:
        q = parse(self.name, promql)
        world = self._load()
        incidents = world.incidents()
        broken = world.broken()
        split = VERSION in q.by
        out: list[Series] = []
        for cluster_name, cluster in sorted(world.clusters().items()):
            if not q.keeps(CLUSTER, cluster_name) or not isinstance(cluster, Mapping):
                continue
            deploy_s = deploy_seconds(cluster)
            configs = {str(a.get("name")): a for a in cluster.get("apps", [])}
            for app, history in sorted(cluster.get("history", {}).items()):
                if not q.keeps(APP, app) or not history:
                    continue
                if float(history[-1][0]) < ts[0] and not history[-1][1]:
                    continue  # undeployed before the window
                app_incidents = incidents.get(f"{cluster_name}/{app}", {})
                model = model_of(configs.get(app, {}))
                moments = [sim.moment_at(history, t, deploy_s) for t in ts]
                if all(m is None for m in moments):
                    continue
                versions: list[str | None] = [None]
                if split:
                    seen: dict[str, None] = {}
                    for m in moments:
                        for v in m.traffic if m else ():
                            seen.setdefault(v, None)
                    versions = list(seen)
                for version in versions:
                    key = (self._stamp, cluster_name, app, version, ts[0], ts[-1], len(ts))
                    figures = self._figures.get(key)
                    if figures is None:
                        # one pass per app and window serves every signal's query
                        figures = [
                            sim.app_figures(
                                cluster_name,
                                app,
                                m,
                                t,
                                app_incidents,
                                broken,
                                model,
                                version=version,
                            )
                            for m, t in zip(moments, ts, strict=True)
                        ]
                        if len(self._figures) > 4096:
                            self._figures.clear()
                        self._figures[key] = figures
                    values = tuple(_value(f, q.signal) for f in figures)
                    if all(math.isnan(v) for v in values):
                        continue
                    labels = self._labels(q.by, cluster_name, app, version)
                    out.append(Series(labels, tuple(ts), values))
        return out

    @staticmethod
    def _labels(by: tuple[str, ...], cluster: str, app: str, version: str | None) -> dict[str, str]:
        labels: dict[str, str] = {}
        for key in by:
            if key == APP:
                labels[APP] = app
            elif key == CLUSTER:
                labels[CLUSTER] = cluster
            elif key == VERSION and version is not None:
                labels[VERSION] = version
            elif key == DEPLOYMENT:
                labels[DEPLOYMENT] = "Model"
        return labels

    def close(self) -> None:
        self._world = None
        self._figures.clear()


__all__ = ["DemoMetrics", "parse"]
