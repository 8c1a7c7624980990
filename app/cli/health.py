"""``modeldeck health [--target NAME] [--window 1h|6h|24h|7d|30d] [--at ISO] [--json]``:
the fleet's statuses and figures, worst first — the same ``HealthService`` as the GUI.
``--app NAME`` shows one deployment as its page does: every series at full resolution,
split by model version during a canary (``--series`` adds the points to ``--json``).

Exit code 0 when the statuses could be computed (whatever they are); 1 when a
metrics source could not be used (the statuses are then unknown, from the cache
when it has a copy) or on an error.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.output import Exit, Parser, emit_json, parse_at, table
from app.domain.errors import ConfigError, NotFound
from app.domain.health import (
    WINDOWS,
    DeploymentHealth,
    FleetReport,
    compare_versions,
    format_value,
    versions_line,
)
from app.domain.text import counted, iso_time

if TYPE_CHECKING:
    from collections.abc import Sequence

    from app.cli.output import Subcommands
    from app.services.context import AppContext


def register(sub: Subcommands, common: Parser) -> None:
    h = sub.add_parser(
        "health",
        parents=[common],
        help="status of every deployment from its metrics (worst first)",
        description="Judge every cached deployment from its metrics source (Prometheus): "
        "healthy, degraded, failing or unknown, with the reason and the latest figures.",
    )
    h.add_argument("--target", metavar="NAME", help="only deployments on this cluster")
    h.add_argument(
        "--app",
        metavar="NAME",
        help="one deployment at full resolution, its series split by model version "
        "during a canary (what its page in the app charts)",
    )
    h.add_argument(
        "--window",
        default="1h",
        choices=tuple(WINDOWS),
        help="window of the figures and series (default 1h)",
    )
    h.add_argument(
        "--at",
        metavar="ISO",
        help="judge as of this time (e.g. 2026-11-01T12:00Z) instead of now",
    )
    h.add_argument(
        "--series", action="store_true", help="with --json: include every series' points"
    )
    h.set_defaults(handler=_cmd_health)


def _iso(ts: float) -> str:
    return iso_time(datetime.fromtimestamp(ts, tz=UTC))


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def health_json(h: DeploymentHealth, *, series: bool = False) -> dict[str, Any]:
    d = h.deployment
    out: dict[str, Any] = {
        "target": d.target,
        "app": d.app,
        "model": d.model_name,
        "versions": dict(d.traffic),
        "status": h.status.value,
        "why": list(h.verdict.reasons),
        "figures": {k: _finite(v) for k, v in h.verdict.figures.items()},
        "units": {k: s.spec.unit.value for k, s in h.signals.items()},
        "promql": {k: s.promql for k, s in h.signals.items()},
        "stale": h.stale,
        "source": h.source,
        "fetched_at": _iso(h.fetched_at),
        # a canary's versions side by side (split series only: ``--app``)
        "by_version": [
            {
                "version": row.version,
                "percent": row.percent,
                "figures": {k: _finite(v) for k, v in row.figures.items()},
                "over": list(row.over),
            }
            for row in compare_versions(h)
        ],
    }
    if series:
        out["series"] = {
            k: [
                {
                    "labels": dict(s.labels),
                    "points": [[t, _finite(v)] for t, v in zip(s.t, s.v, strict=True)],
                }
                for s in data.series
            ]
            for k, data in h.signals.items()
        }
    return out


def report_json(report: FleetReport, *, series: bool = False) -> dict[str, Any]:
    return {
        "window": report.window,
        "at": _iso(report.at),
        "counts": {k.value: v for k, v in report.counts().items()},
        "errors": dict(report.errors),
        "deployments": [health_json(h, series=series) for h in report.deployments],
    }


def _cmd_health(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    if args.app:
        return _cmd_health_app(ctx, args, out)
    report = ctx.health.fleet(target=args.target, window=args.window, at=parse_at(args.at))
    for source, why in report.errors.items():
        print(f"modeldeck: {source}: {why}", file=sys.stderr)
    if args.json:
        emit_json(report_json(report, series=args.series), out)
    else:
        rows = []
        for h in report.deployments:
            f = h.verdict.figures
            units = {k: s.spec.unit for k, s in h.signals.items()}
            rows.append(
                (
                    h.status.value.upper() + (" (stale)" if h.stale else ""),
                    h.deployment.target,
                    h.deployment.app,
                    *(
                        format_value(f.get(k), units[k]) if k in units else "—"
                        for k in ("latency_p95", "error_rate", "rps", "replicas")
                    ),
                    h.verdict.why,
                )
            )
        table(rows, ("STATUS", "TARGET", "APP", "P95", "ERRORS", "RPS", "REPLICAS", "WHY"), out)
        counts = report.counts()
        print(
            f"{counted(len(report.deployments), 'deployment')}: "
            + ", ".join(f"{v} {k.value}" for k, v in counts.items() if v),
            file=sys.stderr,
        )
    if not report.deployments:
        print(
            "modeldeck: no deployments in the cache"
            + (f" on {args.target!r}" if args.target else ""),
            file=sys.stderr,
        )
    return Exit.ERROR if report.errors else Exit.OK


def _cmd_health_app(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    """``modeldeck health --app NAME``: one deployment, each series labelled by version."""
    targets = sorted({d.target for d in ctx.catalog.deployments(args.target) if d.app == args.app})
    if not targets:
        where = f" on {args.target!r}" if args.target else ""
        raise NotFound(f"no deployment {args.app!r}{where} in the cache (modeldeck deployments)")
    if len(targets) > 1:
        raise ConfigError(f"{args.app!r} runs on {', '.join(targets)}: choose one with --target")
    h = ctx.health.deployment(targets[0], args.app, window=args.window, at=parse_at(args.at))
    if args.json:
        emit_json(health_json(h, series=args.series), out)
    else:
        d = h.deployment
        split = ", ".join(f"v{v} {p} %" for v, p in d.traffic.items())
        print(f"{d.app} on {d.target}: {h.status.value.upper()} — {h.verdict.why}", file=out)
        print(f"model {d.model_name} ({split}); window {h.window}, from {h.source}", file=out)
        if line := versions_line(h, compare_versions(h)):
            print(line, file=out)
        for data in h.signals.values():
            for series in data.series:
                version = series.labels.get("model_version") or series.labels.get("deployment", "")
                print(
                    f"  {data.spec.title:<18} {version:<10} "
                    f"{format_value(_last(series.v), data.spec.unit)}",
                    file=out,
                )
    return Exit.OK


def _last(values: Sequence[float]) -> float | None:
    """The newest finite value of a series."""
    return next((v for v in reversed(values) if math.isfinite(v)), None)
