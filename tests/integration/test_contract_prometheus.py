"""The Prometheus adapter against the ``MetricsSource`` contract, on a real Prometheus
holding the 7-day backfilled Ray Serve history of ``fixtures/health_tsdb.py`` (built once
and cached; the same TSDB ``test_health_prometheus.py`` uses). The known series is app
00's request counter, whose every sample the fixture's own formula gives."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.adapters.metrics import MetricsSource
from app.domain.models import Backend, BackendKind
from app.services.context import AppContext
from tests.integration.contracts import wiring
from tests.integration.contracts.metrics import KnownSeries, MetricsSourceContract
from tests.integration.fixtures import health_tsdb as tsdb
from tests.integration.servers import ServerProcess, closed_port, require, start_prometheus

pytestmark = pytest.mark.integration

SOURCE, DOWN = "prom-contract", "prom-contract-down"
#: the fixture's parameters as test_health_prometheus.py gives them (one cached TSDB)
N_APPS, DAYS, STEP_S = 20, 7, 60


@pytest.fixture(scope="module")
def history() -> tuple[Path, dict[str, Any]]:
    require(shutil.which("promtool") is not None, "no promtool (apt-get install prometheus)")
    return tsdb.ensure_tsdb(N_APPS, DAYS, STEP_S)


@pytest.fixture(scope="module")
def prometheus(
    tmp_path_factory: pytest.TempPathFactory, history: tuple[Path, dict[str, Any]]
) -> Iterator[ServerProcess]:
    server = start_prometheus(tmp_path_factory.mktemp("prom-contract"), data_dir=history[0])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def known(history: tuple[Path, dict[str, Any]]) -> KnownSeries:
    meta = history[1]
    start, end, step = int(meta["start"]), int(meta["end"]), int(meta["step"])
    assert step == STEP_S
    ts = np.arange(start, end + 1, step, dtype=np.int64)
    # what health_tsdb writes for app 0's request counter: the running sum of
    # round(rps × step) (app 0 is neither the canary nor the gap)
    counts = np.cumsum(np.round(tsdb.rps(0, ts.astype(float)) * step))
    by_time = {int(t): float(c) for t, c in zip(ts, counts, strict=True)}

    def value_at(t: float) -> float:
        return by_time[int(t)]

    app, model = tsdb.app_name(0), tsdb.model_name(0)
    return KnownSeries(
        promql=f'ray_serve_num_http_requests_total{{application="{app}"}}',
        labels={"application": app, "deployment": f"{model}-v1"},
        start=float(start),
        end=float(end),
        step_s=step,
        value_at=value_at,
    )


@pytest.fixture(scope="module")
def ctx(
    prometheus: ServerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppContext]:
    interval = {"scrape_interval": f"{STEP_S}s"}  # the history's sample interval
    with wiring.configured(
        tmp_path_factory.mktemp("contract-prom-home"),
        Backend(SOURCE, BackendKind.PROMETHEUS, prometheus.url, options=interval),
        Backend(DOWN, BackendKind.PROMETHEUS, f"http://127.0.0.1:{closed_port()}"),
    ) as ctx:
        yield ctx


@pytest.fixture
def source(ctx: AppContext) -> Iterator[MetricsSource]:
    src = wiring.metrics_source(ctx, SOURCE)
    yield src
    src.close()


@pytest.fixture
def unreachable_source(ctx: AppContext) -> Iterator[MetricsSource]:
    src = wiring.metrics_source(ctx, DOWN)
    yield src
    src.close()


class TestPrometheusMetricsSource(MetricsSourceContract):
    """Every MetricsSource test, on the Prometheus adapter."""


def test_wiring_gives_the_prometheus_adapter(ctx: AppContext) -> None:
    """The contract above runs against what the health service really connects."""
    from app.adapters.prometheus import PrometheusSource

    src = wiring.metrics_source(ctx, SOURCE)
    try:
        assert isinstance(src, PrometheusSource)
        assert src.scrape_interval_s == STEP_S
    finally:
        src.close()
