"""Health rules without I/O: step choice, thresholds, the status and its explanation,
settings parsing, response validation at the Prometheus adapter's edge, cache round trip."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from app.adapters.http import HttpBackend
from app.adapters.prometheus import PrometheusSource
from app.domain.errors import BadQuery, BadResponse, ConfigError
from app.domain.health import (
    DEFAULT_THRESHOLDS,
    ERROR_RATE,
    LATENCY_P95,
    RAY_SERVE_SIGNALS,
    REPLICAS,
    RPS,
    CachedSignal,
    DeploymentHealth,
    Direction,
    FleetReport,
    HealthStatus,
    KnownStatus,
    Series,
    SignalData,
    Threshold,
    Verdict,
    changes,
    compare_versions,
    evaluate,
    format_value,
    parse_duration,
    range_step,
    rate_range,
    render_promql,
    replica_threshold,
    version_of,
    versions_line,
)
from app.domain.kinds import metrics_of
from app.domain.models import Backend, BackendKind, Deployment
from app.services.health import HealthSettings

SPECS = {s.key: s for s in RAY_SERVE_SIGNALS}
NOW = 1_800_000_000.0
STEP = 30


def _data(key: str, values: list[float], *, step: int = STEP, end: float = NOW) -> SignalData:
    t = tuple(end - step * (len(values) - 1 - i) for i in range(len(values)))
    return SignalData(SPECS[key], "q", (Series({}, t, tuple(values)),), step)


def _healthy_signals(**over: list[float]) -> dict[str, SignalData]:
    base = {
        LATENCY_P95: [120.0] * 60,
        ERROR_RATE: [0.001] * 60,
        RPS: [10.0] * 60,
        REPLICAS: [2.0] * 60,
    }
    base.update(over)
    return {k: _data(k, v) for k, v in base.items()}


DEP = Deployment("ray", "app", "model", {"1": 100}, 2)
THRESHOLDS = {**DEFAULT_THRESHOLDS, REPLICAS: replica_threshold(DEP)}


def _judge(signals: dict[str, SignalData], **kw: object):
    return evaluate(signals, THRESHOLDS, at=NOW, stale_after_s=300, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("range_s", "scrape", "step"),
    [(3600, 15, 15), (30 * 86400, 15, 236), (11_000, 1, 1), (11_001, 1, 2), (7 * 86400, 60, 60)],
)
def test_step_never_exceeds_11000_points(range_s: int, scrape: float, step: int):
    assert range_step(range_s, scrape) == step
    assert range_s / range_step(range_s, scrape) <= 11_000


def test_durations():
    assert parse_duration("90s") == 90
    assert parse_duration("5m") == 300
    assert parse_duration("2h") == 7200
    assert parse_duration("7d") == 7 * 86400
    for bad in ("", "x", "-5m", "0"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


def test_healthy_explains_its_bounds():
    v = _judge(_healthy_signals())
    assert v.status is HealthStatus.HEALTHY
    assert v.why.startswith("within thresholds")
    assert "p95 latency 120 ms ≤ 300 ms" in v.why
    assert v.figures[RPS] == 10.0


def test_breach_for_long_enough_is_degraded_with_duration():
    lat = [120.0] * 40 + [412.0] * 20  # 20 points × 30 s = 10 min
    v = _judge(_healthy_signals(**{LATENCY_P95: lat}))
    assert v.status is HealthStatus.DEGRADED
    assert v.reasons[0] == "p95 latency 412 ms > 300 ms for 10 min"


def test_short_breach_is_pending_not_degraded():
    lat = [120.0] * 57 + [412.0] * 3
    v = _judge(_healthy_signals(**{LATENCY_P95: lat}))
    assert v.status is HealthStatus.HEALTHY
    assert "counts after 5 min" in v.why
    # the summary never claims a breaching signal is within its bound
    assert "412 ms ≤" not in v.why
    assert "p95 latency 412 ms > 300 ms for 2 min (counts after 5 min)" in v.why
    assert "error rate 0.1 % ≤ 1.0 %" in v.reasons[0]


def test_ray_rate_range_spans_several_exports():
    # Ray's agent exports every 10 s: a 4 × 5 s range would zig-zag
    ray = metrics_of(BackendKind.RAY_SERVE)
    assert rate_range(15, 5, ray.min_rate_s) == 120
    assert rate_range(300, 5, ray.min_rate_s) == 300
    assert rate_range(15, 5) == 20


def test_failing_beats_degraded_and_lists_both():
    v = _judge(_healthy_signals(**{LATENCY_P95: [450.0] * 60, ERROR_RATE: [0.2] * 60}))
    assert v.status is HealthStatus.FAILING
    assert v.reasons[0].startswith("error rate 20.0 % > 5.0 %")
    assert v.reasons[1].startswith("p95 latency 450 ms > 300 ms")


def test_missing_data_is_never_green():
    lat = [120.0] * 30 + [math.nan] * 30  # no value for the last 15 min
    v = _judge(_healthy_signals(**{LATENCY_P95: lat}))
    assert v.status is HealthStatus.UNKNOWN
    assert "no p95 latency data for" in v.why
    assert v.figures[LATENCY_P95] is None
    empty = {k: SignalData(SPECS[k], "q", (), STEP) for k in (LATENCY_P95, ERROR_RATE, RPS)}
    assert _judge(empty).status is HealthStatus.UNKNOWN


def test_known_failure_beats_missing_data():
    v = _judge(_healthy_signals(**{LATENCY_P95: [math.nan] * 60, REPLICAS: [0.0] * 60}))
    assert v.status is HealthStatus.FAILING
    assert "healthy replicas 0 < 1" in v.reasons[0]
    assert any("no p95 latency data" in r for r in v.reasons)


def test_idle_is_not_missing():
    v = _judge(
        _healthy_signals(
            **{RPS: [0.0] * 60, LATENCY_P95: [math.nan] * 60, ERROR_RATE: [math.nan] * 60}
        )
    )
    assert v.status is HealthStatus.HEALTHY
    assert v.why.startswith("idle")


def test_unreachable_source_is_unknown_even_with_good_data():
    v = _judge(_healthy_signals(), source_error="prom: connection refused")
    assert v.status is HealthStatus.UNKNOWN
    assert v.reasons == ("prom: connection refused",)


def test_replicas_below_wanted():
    v = _judge(_healthy_signals(**{REPLICAS: [2.0] * 50 + [1.0] * 10}))
    assert v.status is HealthStatus.DEGRADED
    assert v.reasons[0] == "healthy replicas 1 < 2 for 5 min"


def test_threshold_overrides():
    th = DEFAULT_THRESHOLDS[LATENCY_P95].merged({"degraded": 200, "for": "10m"})
    assert th.degraded == 200.0
    assert th.failing == 1000.0
    assert th.for_s == 600
    below = Threshold("x").merged({"direction": "below", "failing": 1, "for_minutes": 2})
    assert below.direction is Direction.BELOW
    assert below.for_s == 120
    with pytest.raises(ValueError, match="unknown threshold keys"):
        th.merged({"warn": 1})
    with pytest.raises(ValueError, match="must be a number"):
        th.merged({"degraded": "high"})


def test_render_promql():
    q = render_promql(
        SPECS[LATENCY_P95].promql, selector='application="a\\"b"', by=["application"], rate_s=240
    )
    assert q == (
        "histogram_quantile(0.95, sum by (application, le) "
        '(rate(ray_serve_http_request_latency_ms_bucket{application="a\\"b"}[240s])))'
    )


def test_format_value():
    assert format_value(412.3, SPECS[LATENCY_P95].unit) == "412 ms"
    assert format_value(1900, SPECS[LATENCY_P95].unit) == "1.90 s"
    assert format_value(0.0812, SPECS[ERROR_RATE].unit) == "8.1 %"
    assert format_value(None, SPECS[RPS].unit) == "—"


def test_changes_for_the_worse():
    from app.domain.health import DeploymentHealth, Verdict

    def row(app: str, status: HealthStatus) -> DeploymentHealth:
        d = Deployment("ray", app, "m")
        return DeploymentHealth(d, Verdict(status, ("why",)), {}, "1h", NOW, NOW)

    report = FleetReport(
        (
            row("a", HealthStatus.FAILING),
            row("b", HealthStatus.HEALTHY),
            row("c", HealthStatus.UNKNOWN),
        ),
        "1h",
        NOW,
    )
    before = {("ray", "a"): HealthStatus.DEGRADED, ("ray", "b"): HealthStatus.FAILING}
    got = changes(before, report)
    assert [(c.app, c.worse) for c in got] == [("a", True), ("b", False)]


def test_settings_parse_and_errors(tmp_path: Path):
    path = tmp_path / "settings.toml"
    assert HealthSettings.load(path).poll_seconds == 60
    path.write_text(
        "[health]\npoll_seconds = 30\n"
        "[health.thresholds.latency_p95]\ndegraded = 250\n"
        "[health.models.fraud.promql]\nrps = 'sum(x)'\n"
        "[health.models.fraud.signals.drift]\npromql = 'max(drift)'\nfailing = 0.4\n"
    )
    s = HealthSettings.load(path)
    assert s.poll_seconds == 30
    assert s.models["fraud"].promql["rps"] == "sum(x)"
    spec, th = s.models["fraud"].signals[0]
    assert spec.key == "drift"
    assert th is not None
    assert th.failing == 0.4
    path.write_text("[health.models.fraud.signals.drift]\ntitle = 'x'\n")
    with pytest.raises(ConfigError, match="promql"):
        HealthSettings.load(path)
    path.write_text("[health]\nbogus = 1\n")
    with pytest.raises(ConfigError, match="bogus"):
        HealthSettings.load(path)


# ------------------------------------------------------------------ adapter edge
def _source(handler) -> PrometheusSource:
    backend = Backend("prom", BackendKind.PROMETHEUS, "http://127.0.0.1:9")
    return PrometheusSource(HttpBackend(backend, transport=httpx.MockTransport(handler), retries=0))


def _reply(body: object, status: int = 200):
    return lambda request: httpx.Response(status, content=json.dumps(body).encode())


def _matrix(result: object) -> dict:
    return {"status": "success", "data": {"resultType": "matrix", "result": result}}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"status": "weird"}, "status"),
        ({"status": "success"}, "data"),
        (_matrix("nope"), "data.result"),
        (_matrix([{"values": []}]), "data.result[0].metric"),
        (_matrix([{"metric": {"a": 1}, "values": []}]), "data.result[0].metric.a"),
        (_matrix([{"metric": {}, "values": [[1, "1"], [2, "x"]]}]), "data.result[0].values[1][1]"),
        (
            _matrix([{"metric": {}, "values": [[1, "1"], ["2", "1"]]}]),
            "data.result[0].values[1][0]",
        ),
        (_matrix([{"metric": {}, "values": [[1]]}]), "data.result[0].values[0]"),
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, "data.resultType"),
    ],
)
def test_hostile_responses_name_the_field(body: object, field: str):
    src = _source(_reply(body))
    with pytest.raises(BadResponse) as err:
        src.range("up", 0, 600, 60)
    assert err.value.field == field
    assert "prom" in str(err.value)


def test_well_formed_range_reply():
    body = _matrix([{"metric": {"application": "a"}, "values": [[0, "1.5"], [60, "NaN"]]}])
    (s,) = _source(_reply(body)).range("up", 0, 60, 60)
    assert s.labels == {"application": "a"}
    assert s.t == (0.0, 60.0)
    assert s.v[0] == 1.5
    assert math.isnan(s.v[1])


def test_refused_query_names_the_promql():
    body = {"status": "error", "errorType": "bad_data", "error": "parse error at char 4"}
    src = _source(_reply(body, 400))
    with pytest.raises(BadQuery) as err:
        src.instant("sum(")
    assert err.value.query == "sum("
    assert "parse error" in str(err.value)
    assert str(err.value).endswith("query: sum(")


# ------------------------------------------------------------------ cache
def test_cache_round_trip(tmp_path: Path):
    from app.store import health as store
    from app.store.db import Cache

    cache = Cache.open(tmp_path / "c.sqlite")
    sig = CachedSignal(
        "ray",
        "app",
        "1h",
        LATENCY_P95,
        "q",
        60,
        NOW,
        (Series({"deployment": "v1"}, (1.0, 2.0), (3.0, math.nan)),),
    )
    with cache.write() as con:
        store.save_signals(con, [sig], replace_window=("ray", "1h"))
        store.save_statuses(con, [KnownStatus("ray", "app", HealthStatus.FAILING, "why", NOW)])
    with cache.read() as con:
        (got,) = store.load_signals(con, "ray", "1h")
        (status,) = store.load_statuses(con)
    assert got.series[0].labels == {"deployment": "v1"}
    assert got.series[0].t == (1.0, 2.0)
    assert math.isnan(got.series[0].v[1])
    assert got.promql == "q"
    assert status.status is HealthStatus.FAILING
    cache.close()


@pytest.mark.parametrize(
    ("labels", "version"),
    [
        ({"model_version": "2"}, "2"),  # Modeldeck's serving app counts per version
        ({"deployment": "model-v2"}, "2"),  # one Ray deployment per version
        ({"deployment": "v1"}, "1"),
        ({"deployment": "2"}, "2"),
        ({"deployment": "Model"}, ""),  # one Ray deployment serving every version
        ({"model_version": "7"}, ""),  # not one of the deployment's versions
        ({}, ""),
    ],
)
def test_version_of_a_series(labels: dict[str, str], version: str):
    assert version_of(labels, Deployment("ray", "app", "model", {"1": 75, "2": 25}, 1)) == version


def _canary(p95: dict[str, list[float]], errors: dict[str, list[float]]) -> DeploymentHealth:
    """A 75/25 canary whose split series hold one value a minute, the newest at NOW."""

    def split(key: str, by_version: dict[str, list[float]]) -> SignalData:
        series = []
        for version, values in by_version.items():
            t = tuple(NOW - 60 * (len(values) - 1 - i) for i in range(len(values)))
            series.append(Series({"model_version": version}, t, tuple(values)))
        return SignalData(SPECS[key], "q", tuple(series), 60)

    dep = Deployment("ray", "app", "model", {"1": 75, "2": 25}, 1)
    return DeploymentHealth(
        dep,
        Verdict(HealthStatus.HEALTHY, ("ok",)),
        {LATENCY_P95: split(LATENCY_P95, p95), ERROR_RATE: split(ERROR_RATE, errors)},
        "1h",
        NOW,
        NOW,
        thresholds=THRESHOLDS,
    )


def test_canary_versions_side_by_side_over_the_last_ten_minutes():
    # 20 minutes: the first ten were bad for v2, the last ten are what counts
    h = _canary(
        {"1": [100.0] * 20, "2": [900.0] * 10 + [150.0, math.nan] * 5},
        {"1": [0.0] * 20, "2": [0.0] * 10 + [0.04] * 10},
    )
    stable, canary = compare_versions(h)
    assert (stable.version, stable.percent, canary.version, canary.percent) == ("1", 75, "2", 25)
    assert stable.figures[LATENCY_P95] == pytest.approx(100.0)
    assert canary.figures[LATENCY_P95] == pytest.approx(150.0)  # gaps skipped, old data out
    assert canary.figures[ERROR_RATE] == pytest.approx(0.04)
    assert stable.over == ()
    assert canary.over == (ERROR_RATE,)  # 4 % > the 1 % error-rate bound
    line = versions_line(h, [stable, canary])
    assert line.startswith("By version, last 10 min: v1 (75 %) p95 latency 100 ms")
    assert "v2 (25 %) p95 latency 150 ms, error rate 4.0 % (over 1.0 %)" in line


def test_no_side_by_side_without_a_canary_or_version_labels():
    one = _canary({"1": [100.0] * 5}, {"1": [0.0] * 5})
    one = replace(one, deployment=replace(one.deployment, traffic={"1": 100}))
    assert compare_versions(one) == []
    unsplit = _canary({"Model": [100.0] * 5}, {"Model": [0.0] * 5})  # no version in labels
    assert compare_versions(unsplit) == []
    assert versions_line(unsplit, []) == ""
