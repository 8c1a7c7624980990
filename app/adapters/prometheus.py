"""Prometheus as a metrics source: ``/api/v1/query`` and ``/api/v1/query_range``.

Every response is validated here and turned into domain ``Series``; a reply
that does not fit raises ``BadResponse`` naming the field (``data.result[3].values[7]``).
A query Prometheus refuses (HTTP 400/422, ``bad_data``) raises ``BadQuery`` with
the exact PromQL; a server-side query timeout and transport failures raise
``Unreachable``. The step of a range query is checked against Prometheus's
11,000-points-per-series limit before anything is sent.
"""

from __future__ import annotations

import math
from typing import Any

from app.adapters.http import HttpBackend
from app.domain.errors import BackendError, BadQuery, BadResponse, Unreachable
from app.domain.health import MAX_POINTS, Series, parse_duration, range_step
from app.domain.models import Backend

DEFAULT_SCRAPE_INTERVAL_S = 15.0
_NUMBER = (int, float)


def scrape_interval_of(backend: Backend) -> float:
    """The ``scrape_interval`` option of a Prometheus backend (default 15 s)."""
    raw = backend.options.get("scrape_interval")
    if raw is None:
        return DEFAULT_SCRAPE_INTERVAL_S
    return float(parse_duration(str(raw)))


class PrometheusSource:
    """A ``MetricsSource`` over one Prometheus server (one reused ``httpx.Client``)."""

    def __init__(self, http: HttpBackend, *, scrape_interval_s: float | None = None) -> None:
        self._http = http
        self.name = http.name
        self.scrape_interval_s = (
            scrape_interval_s if scrape_interval_s is not None else scrape_interval_of(http.backend)
        )

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------- queries
    def instant(self, promql: str, at: float | None = None) -> list[Series]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = _fmt_time(at)
        data = self._get("/api/v1/query", params, promql)
        kind = data["resultType"]
        if kind == "scalar":
            t, v = _point(self.name, data["result"], "data.result")
            return [Series({}, (t,), (v,))]
        if kind != "vector":
            raise BadResponse(self.name, "data.resultType", f"expected 'vector', got {kind!r}")
        out = []
        for i, item in enumerate(_result_list(self.name, data)):
            where = f"data.result[{i}]"
            labels = _labels(self.name, item, where)
            t, v = _point(self.name, item.get("value"), f"{where}.value")
            out.append(Series(labels, (t,), (v,)))
        return out

    def range(self, promql: str, start: float, end: float, step_s: int) -> list[Series]:
        # refused here, before a request: Prometheus would refuse it too, less clearly
        if end <= start:
            raise BadQuery(self.name, promql, "the end of a range query must be after its start")
        points = math.floor((end - start) / step_s) + 1
        if points > MAX_POINTS:
            smallest = range_step(end - start, self.scrape_interval_s)
            raise BadQuery(
                self.name,
                promql,
                f"a {step_s} s step gives {points} points per series (limit {MAX_POINTS}); "
                f"use at least {smallest} s",
            )
        params = {
            "query": promql,
            "start": _fmt_time(start),
            "end": _fmt_time(end),
            "step": str(int(step_s)),
        }
        data = self._get("/api/v1/query_range", params, promql)
        if data["resultType"] != "matrix":
            raise BadResponse(
                self.name, "data.resultType", f"expected 'matrix', got {data['resultType']!r}"
            )
        out = []
        for i, item in enumerate(_result_list(self.name, data)):
            where = f"data.result[{i}]"
            labels = _labels(self.name, item, where)
            t, v = _values(self.name, item.get("values"), f"{where}.values")
            out.append(Series(labels, t, v))
        return out

    # ------------------------------------------------------------- plumbing
    def _get(self, path: str, params: dict[str, Any], promql: str) -> dict[str, Any]:
        try:
            body = self._http.get_json(path, params)
        except (Unreachable, BadResponse):
            raise
        except BackendError as exc:
            detail = exc.detail
            if detail.startswith(("HTTP 400", "HTTP 422")):
                raise BadQuery(self.name, promql, detail.split(": ", 1)[-1]) from exc
            if detail.startswith("HTTP 503") and "timeout" in detail.lower():
                raise Unreachable(
                    self.name, f"the query timed out on the server — query: {promql}"
                ) from exc
            raise
        return _envelope(self.name, body, promql)


def _fmt_time(ts: float) -> str:
    return f"{ts:.3f}"


def _envelope(name: str, body: Any, promql: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadResponse(name, "body", f"expected a JSON object, got {type(body).__name__}")
    status = body.get("status")
    if status == "error":
        error_type = str(body.get("errorType", ""))
        message = str(body.get("error", "unknown error"))
        if error_type == "timeout":
            raise Unreachable(name, f"the query timed out on the server — query: {promql}")
        raise BadQuery(name, promql, f"{error_type}: {message}" if error_type else message)
    if status != "success":
        raise BadResponse(name, "status", f"expected 'success', got {status!r}")
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadResponse(name, "data", "missing or not an object")
    if not isinstance(data.get("resultType"), str):
        raise BadResponse(name, "data.resultType", "missing or not text")
    return data


def _result_list(name: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    result = data.get("result")
    if not isinstance(result, list):
        raise BadResponse(name, "data.result", "missing or not a list")
    for i, item in enumerate(result):
        if not isinstance(item, dict):
            raise BadResponse(name, f"data.result[{i}]", "not an object")
    return result


def _labels(name: str, item: dict[str, Any], where: str) -> dict[str, str]:
    metric = item.get("metric")
    if not isinstance(metric, dict):
        raise BadResponse(name, f"{where}.metric", "missing or not an object")
    for k, v in metric.items():
        if not isinstance(v, str):
            raise BadResponse(name, f"{where}.metric.{k}", "label value is not text")
    return metric


def _point(name: str, raw: Any, where: str) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) != 2:
        raise BadResponse(name, where, "expected [timestamp, value]")
    t, v = raw
    if not isinstance(t, int | float) or isinstance(t, bool):
        raise BadResponse(name, f"{where}[0]", "timestamp is not a number")
    if not isinstance(v, str):
        raise BadResponse(name, f"{where}[1]", "value is not a string")
    try:
        return float(t), float(v)
    except ValueError:
        raise BadResponse(name, f"{where}[1]", f"{v[:40]!r} is not a number") from None


def _values(name: str, raw: Any, where: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if not isinstance(raw, list):
        raise BadResponse(name, where, "missing or not a list")
    try:
        # fast path: a well-formed reply is converted in two passes over plain lists
        t = tuple([float(p[0]) for p in raw])
        v = tuple([float(p[1]) for p in raw])
        if all(
            type(p) is list and len(p) == 2 and type(p[0]) in _NUMBER and type(p[1]) is str
            for p in raw
        ):
            return t, v
    except (TypeError, ValueError, IndexError, KeyError):
        pass
    for j, p in enumerate(raw):  # slow path: find and name the bad point
        _point(name, p, f"{where}[{j}]")
    raise BadResponse(name, where, "malformed points")  # pragma: no cover
