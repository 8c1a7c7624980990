"""The metrics-source role: what the health service needs from Prometheus or a look-alike.

An adapter validates every response at its edge and returns domain ``Series``;
it raises only the domain error tree (``Unreachable``, ``BadQuery``,
``BadResponse`` ...), each naming the backend (and the PromQL where it helps).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.domain.health import Series


@runtime_checkable
class MetricsSource(Protocol):
    #: the configured backend's name (errors and the UI name it)
    name: str
    #: how often the source scrapes its targets; the smallest useful step
    scrape_interval_s: float

    def instant(self, promql: str, at: float | None = None) -> list[Series]:
        """Evaluate ``promql`` at ``at`` (seconds since the epoch; now when None).

        Each result is a one-point series."""
        ...

    def range(self, promql: str, start: float, end: float, step_s: int) -> list[Series]:
        """Evaluate ``promql`` over [start, end] every ``step_s`` seconds.

        Implementations refuse a step that would exceed the source's point limit."""
        ...

    def close(self) -> None: ...
