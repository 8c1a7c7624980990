"""Benchmark: making the demo workspace (``modeldeck demo``) and reading it.

Generates the whole 2,000-model demo workspace (catalog cache, simulated backends,
world, weeks of audit history) several times in fresh directories and reports the
median; then one fleet health poll and one deployment's 30-day charts through the
demo metrics source. The budget is 2 s for the generation.

    python bench/demo.py [--models N] [--runs N]

Prints its figures in words and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services import demo
from app.services.context import AppContext
from app.services.workspace import Workspace

BUDGET_MS = 2000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    # warm the imports the first run would otherwise pay alone (pydantic, tomlkit ...)
    import app.services.doctor
    import app.services.settings  # noqa: F401

    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="modeldeck-bench-demo-") as tmp:
        for i in range(args.runs):
            ws = Workspace.under(Path(tmp) / f"run{i}")
            t0 = time.perf_counter()
            stats = demo.create(ws, args.models)
            times.append((time.perf_counter() - t0) * 1000)
        ctx = AppContext.build(ws)
        try:
            t0 = time.perf_counter()
            report = ctx.health.fleet()
            fleet_ms = (time.perf_counter() - t0) * 1000
            dep = report.deployments[-1].deployment
            t0 = time.perf_counter()
            ctx.health.deployment(dep.target, dep.app, window="30d")
            model_ms = (time.perf_counter() - t0) * 1000
        finally:
            ctx.close()
    gen = statistics.median(times)
    print(
        f"demo workspace of {stats.models} models, {stats.versions} versions, "
        f"{stats.deployments} deployments, {stats.audit_entries} audit entries: "
        f"{gen:.0f} ms median of {args.runs} (budget {BUDGET_MS} ms)"
    )
    print(f"fleet health poll of {len(report.deployments)} deployments: {fleet_ms:.0f} ms")
    print(f"one deployment's 30-day charts: {model_ms:.0f} ms")
    print(
        json.dumps(
            {
                f"demo_generate_{args.models}_ms": round(gen),
                "demo_generate_runs_ms": [round(t) for t in times],
                "demo_fleet_health_ms": round(fleet_ms),
                "demo_model_30d_ms": round(model_ms),
                "budget_ms": BUDGET_MS,
            }
        )
    )


if __name__ == "__main__":
    main()
