"""Health windows and last statuses in the local cache (migration 0003).

Series are stored as packed float64 arrays (``array('d')``), one row per
(target, app, window, signal, label set); a save replaces the rows it covers in
one statement each, inside the caller's transaction.
"""

from __future__ import annotations

import json
import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Float, LargeBinary, String, Table, Text, and_, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.health import CachedSignal, HealthStatus, KnownStatus, Series
from app.store.schema import Base


class HealthSeriesRow(Base):
    __tablename__ = "health_series"
    target: Mapped[str] = mapped_column(String, primary_key=True)
    app: Mapped[str] = mapped_column(String, primary_key=True)
    window: Mapped[str] = mapped_column(String, primary_key=True)
    signal: Mapped[str] = mapped_column(String, primary_key=True)
    labels_json: Mapped[str] = mapped_column(Text, primary_key=True)
    promql: Mapped[str] = mapped_column(Text)
    step_s: Mapped[int] = mapped_column()
    fetched_at: Mapped[float] = mapped_column(Float)
    t: Mapped[bytes] = mapped_column(LargeBinary)
    v: Mapped[bytes] = mapped_column(LargeBinary)


class HealthStatusRow(Base):
    __tablename__ = "health_status"
    target: Mapped[str] = mapped_column(String, primary_key=True)
    app: Mapped[str] = mapped_column(String, primary_key=True)
    status: Mapped[str] = mapped_column(String)
    why: Mapped[str] = mapped_column(Text, default="")
    evaluated_at: Mapped[float] = mapped_column(Float)


series_t = cast(Table, HealthSeriesRow.__table__)
status_t = cast(Table, HealthStatusRow.__table__)

_LITTLE = sys.byteorder == "little"


def _pack(values: Sequence[float]) -> bytes:
    a = array("d", values)
    if not _LITTLE:  # pragma: no cover - big-endian hosts
        a.byteswap()
    return a.tobytes()


def _unpack(blob: bytes) -> tuple[float, ...]:
    a = array("d")
    a.frombytes(blob)
    if not _LITTLE:  # pragma: no cover
        a.byteswap()
    return tuple(a)


def save_signals(
    con: Connection,
    signals: Iterable[CachedSignal],
    *,
    replace_window: tuple[str, str] | None = None,
    replace_apps: Sequence[tuple[str, str, str]] = (),
) -> int:
    """Store ``signals``. ``replace_window=(target, window)`` first drops every row of
    that target and window (a fleet save); ``replace_apps`` drops (target, app, window)."""
    if replace_window is not None:
        target, window = replace_window
        con.execute(
            delete(series_t).where(and_(series_t.c.target == target, series_t.c.window == window))
        )
    for target, app, window in replace_apps:
        con.execute(
            delete(series_t).where(
                and_(
                    series_t.c.target == target,
                    series_t.c.app == app,
                    series_t.c.window == window,
                )
            )
        )
    rows: list[dict[str, Any]] = []
    for s in signals:
        for one in s.series:
            rows.append(
                {
                    "target": s.target,
                    "app": s.app,
                    "window": s.window,
                    "signal": s.signal,
                    "labels_json": json.dumps(dict(one.labels), sort_keys=True),
                    "promql": s.promql,
                    "step_s": s.step_s,
                    "fetched_at": s.fetched_at,
                    "t": _pack(one.t),
                    "v": _pack(one.v),
                }
            )
    if rows:
        con.execute(insert(series_t).prefix_with("OR REPLACE"), rows)
    return len(rows)


def load_signals(
    con: Connection, target: str, window: str, app: str | None = None
) -> list[CachedSignal]:
    q = select(series_t).where(and_(series_t.c.target == target, series_t.c.window == window))
    if app is not None:
        q = q.where(series_t.c.app == app)
    q = q.order_by(series_t.c.app, series_t.c.signal, series_t.c.labels_json)
    grouped: dict[tuple[str, str], tuple[Any, list[Series]]] = {}
    for row in con.execute(q):
        r = row._mapping  # not attribute access: Row.t is the tuple accessor
        key = (r["app"], r["signal"])
        if key not in grouped:
            grouped[key] = (r, [])
        grouped[key][1].append(
            Series(json.loads(r["labels_json"]), _unpack(r["t"]), _unpack(r["v"]))
        )
    return [
        CachedSignal(
            target=target,
            app=first["app"],
            window=window,
            signal=first["signal"],
            promql=first["promql"],
            step_s=int(first["step_s"]),
            fetched_at=float(first["fetched_at"]),
            series=tuple(series),
        )
        for first, series in grouped.values()
    ]


def save_statuses(con: Connection, statuses: Iterable[KnownStatus]) -> None:
    rows = [
        {
            "target": s.target,
            "app": s.app,
            "status": s.status.value,
            "why": s.why,
            "evaluated_at": s.evaluated_at,
        }
        for s in statuses
    ]
    if rows:
        con.execute(insert(status_t).prefix_with("OR REPLACE"), rows)


def load_statuses(con: Connection, target: str | None = None) -> list[KnownStatus]:
    q = select(status_t)
    if target is not None:
        q = q.where(status_t.c.target == target)
    out = []
    for r in con.execute(q):
        try:
            status = HealthStatus(r.status)
        except ValueError:
            status = HealthStatus.UNKNOWN
        out.append(KnownStatus(r.target, r.app, status, r.why, float(r.evaluated_at)))
    return out
