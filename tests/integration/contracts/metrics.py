"""What every ``MetricsSource`` (``app.adapters.metrics``) must do, against a real server.

Guarantees checked here, for any metrics adapter (PromQL is the query language of
the role):

* ``instant(q, at)`` gives each matching series as one point at ``at`` with the
  value the server holds; ``at=None`` means now; a query matching nothing is ``[]``;
* ``range(q, start, end, step)`` gives points in time order, inside [start, end],
  exactly ``step`` apart, with the values the server holds;
* a step that would give more than ``MAX_POINTS`` points per series is refused with
  a domain error (``ModeldeckError``) saying the smallest usable step; that step works;
* PromQL the server refuses raises ``BadQuery`` carrying the exact query;
* a closed port raises ``Unreachable``; every error names the backend;
* ``close()`` may be called twice.

Adding a backend = one adapter module + one registry entry + one contract subclass.

A subclass ``Test…(MetricsSourceContract)`` (the base has no ``Test`` prefix, so it is
not collected itself) runs them; it or its module provides the fixtures

``source``
    a connected adapter, built the way the health service builds it (``wiring``);
``unreachable_source``
    the same kind of adapter configured at a loopback port where nothing listens;
``known``
    a :class:`KnownSeries`: one series whose every sample the test knows (e.g. a
    history backfilled into the server's storage), at least 200 steps long.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from app.adapters.metrics import MetricsSource
from app.domain.errors import BackendError, BadQuery, ModeldeckError, Unreachable
from app.domain.health import MAX_POINTS, Series, range_step

#: PromQL that no server accepts (an unclosed call)
BAD_PROMQL = "sum(rate(contract_requests_total[5m]"


@dataclass(frozen=True)
class KnownSeries:
    """One series with a sample every ``step_s`` seconds over [start, end]."""

    #: selects exactly this one series
    promql: str
    #: labels the series carries (at least these)
    labels: Mapping[str, str]
    start: float
    end: float
    step_s: int
    #: the stored value at a sample time (``start + k * step_s``)
    value_at: Callable[[float], float]

    def __post_init__(self) -> None:
        assert (self.end - self.start) / self.step_s >= 200, "give at least 200 steps"

    def sample_time(self, k: int) -> float:
        t = self.start + k * self.step_s
        assert t <= self.end
        return t


def only(found: list[Series], promql: str) -> Series:
    assert len(found) == 1, f"{promql}: expected one series, got {len(found)}"
    return found[0]


def assert_range(series: Series, known: KnownSeries, start: float, end: float, step: int) -> None:
    """Points in order, inside [start, end], ``step`` apart, with the stored values."""
    t = list(series.t)
    assert t, "no points"
    assert t[0] == pytest.approx(start), "the first point is at the start"
    assert all(start <= x <= end for x in t), "points outside [start, end]"
    assert all(b - a == pytest.approx(step) for a, b in itertools.pairwise(t)), (
        "points are not one step apart, in order"
    )
    assert len(t) == math.floor((end - start) / step) + 1, "points missing at the end"
    assert list(series.v) == [pytest.approx(known.value_at(x)) for x in t]


class MetricsSourceContract:
    """The tests every ``MetricsSource`` passes; see the module docstring."""

    def test_has_a_name_and_a_scrape_interval(self, source: MetricsSource) -> None:
        assert source.name
        assert source.scrape_interval_s > 0

    def test_instant_of_a_known_series_is_one_point_with_its_value(
        self, source: MetricsSource, known: KnownSeries
    ) -> None:
        for k in (0, 7, 100):
            at = known.sample_time(k)
            series = only(source.instant(known.promql, at), known.promql)
            assert dict(series.labels).items() >= dict(known.labels).items()
            assert len(series) == 1
            assert series.t[0] == pytest.approx(at)
            assert series.v[0] == pytest.approx(known.value_at(at))

    def test_instant_without_a_time_is_now(self, source: MetricsSource) -> None:
        before = time.time()
        series = only(source.instant("time()"), "time()")
        after = time.time()
        assert len(series.t) == 1
        assert before - 1 <= series.t[0] <= after + 1
        assert series.v[0] == pytest.approx(series.t[0], abs=1)

    def test_a_query_matching_nothing_is_empty(
        self, source: MetricsSource, known: KnownSeries
    ) -> None:
        promql = 'contract_no_such_metric{contract="none"}'
        assert source.instant(promql, known.end) == []
        assert source.range(promql, known.start, known.end, known.step_s * 10) == []

    def test_range_gives_the_points_in_order_within_the_window_at_the_step(
        self, source: MetricsSource, known: KnownSeries
    ) -> None:
        start = known.sample_time(10)
        end = known.sample_time(130) + known.step_s / 2  # an end between two samples
        series = only(source.range(known.promql, start, end, known.step_s), known.promql)
        assert dict(series.labels).items() >= dict(known.labels).items()
        assert_range(series, known, start, end, known.step_s)

    def test_a_coarser_step_gives_every_nth_point(
        self, source: MetricsSource, known: KnownSeries
    ) -> None:
        step = known.step_s * 5
        start, end = known.sample_time(3), known.sample_time(200)
        series = only(source.range(known.promql, start, end, step), known.promql)
        assert_range(series, known, start, end, step)

    def test_a_step_over_the_point_limit_is_refused_with_the_smallest_usable_step(
        self, source: MetricsSource, known: KnownSeries
    ) -> None:
        span = known.end - known.start
        smallest = range_step(span, source.scrape_interval_s)
        too_fine = max(1, math.floor(span / MAX_POINTS))  # gives > MAX_POINTS points
        assert math.floor(span / too_fine) + 1 > MAX_POINTS
        with pytest.raises(ModeldeckError) as err:
            source.range(known.promql, known.start, known.end, too_fine)
        assert str(smallest) in str(err.value), "the refusal says which step works"
        # the smallest usable step is accepted and stays within the limit
        series = only(source.range(known.promql, known.start, known.end, smallest), "smallest")
        assert 0 < len(series.t) <= MAX_POINTS

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda s, k: s.instant(BAD_PROMQL, k.end), id="instant"),
            pytest.param(lambda s, k: s.range(BAD_PROMQL, k.start, k.end, 600), id="range"),
        ],
    )
    def test_bad_promql_is_a_bad_query_naming_it(
        self,
        source: MetricsSource,
        known: KnownSeries,
        call: Callable[[MetricsSource, KnownSeries], Any],
    ) -> None:
        with pytest.raises(BadQuery) as err:
            call(source, known)
        assert err.value.query == BAD_PROMQL
        assert BAD_PROMQL in str(err.value)
        assert err.value.backend == source.name
        assert str(err.value).startswith(f"{source.name}: ")

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda s: s.instant("up"), id="instant"),
            pytest.param(lambda s: s.range("up", time.time() - 3600, time.time(), 60), id="range"),
        ],
    )
    def test_a_closed_port_is_unreachable_naming_the_backend(
        self, unreachable_source: MetricsSource, call: Callable[[MetricsSource], Any]
    ) -> None:
        with pytest.raises(Unreachable) as err:
            call(unreachable_source)
        assert isinstance(err.value, BackendError)
        assert err.value.backend == unreachable_source.name
        assert str(err.value).startswith(f"{unreachable_source.name}: ")

    def test_close_is_safe_twice(self, source: MetricsSource, known: KnownSeries) -> None:
        assert source.instant(known.promql, known.end)
        source.close()
        source.close()

    def test_close_of_an_unused_source(self, unreachable_source: MetricsSource) -> None:
        unreachable_source.close()
        unreachable_source.close()
