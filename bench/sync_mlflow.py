"""Benchmark: ``modeldeck sync`` against a real local MLflow with 10,000 models /
30,000 versions, compared with merely paging the same REST endpoints.

The registry is built once in process by ``tests/integration/fixtures/mlflow_registry.py``
(MLflow venv), cached under ``$MODELDECK_BACKENDS_DIR/fixtures`` and copied for the
server. Then, alternately (twice each, best kept):

- raw paging: one ``httpx.Client`` requests exactly what a full sync requests
  (``registered-models/search`` by 1000, newest first, and for each page the
  ``model-versions/search`` ``name IN (...)`` batches) and decodes the JSON;
- a full sync: the real CLI (``modeldeck sync --full --json``) into a fresh cache;
  its time is the sync's own ``duration_s`` (interpreter start-up and imports are
  reported apart), its peak RSS comes from ``wait4`` on that process.

Then a no-change incremental sync (timestamp scans + header sweep) and a no-change
quick sync (timestamp scans only).

    python bench/sync_mlflow.py [--keep DIR]

Prints its figures in words and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.adapters.mlflow import MODEL_PAGE, name_filters  # noqa: E402
from tests.integration.mlflow_support import copy_registry, registry_counts  # noqa: E402
from tests.integration.servers import start_mlflow  # noqa: E402

API = "/api/2.0/mlflow"


def raw_paging(url: str) -> tuple[float, int, int, int]:
    """Seconds to page what a full sync pages; (seconds, models, versions, requests)."""
    models = versions = requests = 0
    t0 = time.perf_counter()
    with httpx.Client(base_url=url + API, timeout=120) as c:
        token = None
        while True:
            params: dict[str, Any] = {
                "max_results": MODEL_PAGE,
                "order_by": "last_updated_timestamp DESC",
            }
            if token:
                params["page_token"] = token
            page = c.get("/registered-models/search", params=params).raise_for_status().json()
            requests += 1
            names = [m["name"] for m in page.get("registered_models", [])]
            models += len(names)
            for f in name_filters(names):
                vtoken = None
                while True:
                    vparams: dict[str, Any] = {"max_results": 200_000, "filter": f}
                    if vtoken:
                        vparams["page_token"] = vtoken
                    body = c.get("/model-versions/search", params=vparams).raise_for_status()
                    got = body.json()
                    requests += 1
                    versions += len(got.get("model_versions", []))
                    vtoken = got.get("next_page_token")
                    if not vtoken:
                        break
            token = page.get("next_page_token")
            if not token:
                break
    return time.perf_counter() - t0, models, versions, requests


def modeldeck(home: Path, *args: str) -> tuple[dict[str, Any], float, float]:
    """Run the CLI; returns (its JSON, wall seconds, peak RSS in MB)."""
    env = {**os.environ, "MODELDECK_HOME": str(home)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args, "--json"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"modeldeck {' '.join(args)} failed: {err.decode()[-2000:]}")
    return json.loads(out), wall, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="keep the work dir (server DB, caches) here")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-sync-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    db = copy_registry("bench", work / "mlflow")
    n_models, n_versions = registry_counts(db)
    print(
        f"registry: {n_models:,} models, {n_versions:,} versions (ready in "
        f"{time.perf_counter() - t0:.1f} s)"
    )
    server = start_mlflow(work / "mlflow", db_path=db)
    try:
        url = server.url
        httpx.get(f"{url}{API}/registered-models/search", params={"max_results": 1}, timeout=60)
        raws: list[float] = []
        syncs: list[dict[str, Any]] = []
        walls: list[float] = []
        rss: list[float] = []
        home = work / "home-0"
        for i in range(2):
            seconds, models, versions, requests = raw_paging(url)
            raws.append(seconds)
            print(
                f"raw paging #{i + 1}: {models:,} models, {versions:,} versions in "
                f"{requests} requests, {seconds:.2f} s"
            )
            home = work / f"home-{i}"
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "app",
                    "backends",
                    "add",
                    "bench",
                    "--kind",
                    "mlflow",
                    "--url",
                    url,
                ],
                cwd=ROOT,
                env={**os.environ, "MODELDECK_HOME": str(home)},
                check=True,
                capture_output=True,
            )
            body, wall, peak = modeldeck(home, "sync", "--full")
            (result,) = body["results"]
            assert result["ok"], result
            assert result["models_added"] == n_models, result
            assert result["versions_added"] == n_versions, result
            syncs.append(result)
            walls.append(wall)
            rss.append(peak)
            print(
                f"full sync #{i + 1}: {result['models_added']:,} models, "
                f"{result['versions_added']:,} versions, {result['pages']} pages, "
                f"{result['requests']} requests in {result['duration_s']:.2f} s "
                f"(CLI process {wall:.2f} s), peak RSS {peak:.0f} MB"
            )
        raw_s = min(raws)
        full_s = min(r["duration_s"] for r in syncs)

        incs = []
        for _ in range(3):
            body, wall, inc_rss = modeldeck(home, "sync")
            (inc,) = body["results"]
            assert inc["ok"], inc
            assert inc["mode"] == "incremental", inc
            assert inc["models_added"] + inc["models_updated"] + inc["models_removed"] == 0, inc
            incs.append((inc["duration_s"], wall, inc["requests"]))
        quicks = []
        for _ in range(3):
            body, wall, _rss = modeldeck(home, "sync", "--quick")
            (quick,) = body["results"]
            assert quick["ok"], quick
            assert quick["mode"] == "quick", quick
            quicks.append((quick["duration_s"], wall, quick["requests"]))
        inc_s, inc_wall, inc_req = min(incs)
        quick_s, quick_wall, quick_req = min(quicks)
        print(
            f"no-change incremental sync (timestamp scans + sweep of every model header): "
            f"{inc_s:.2f} s in {inc_req} requests (CLI process {inc_wall:.2f} s)"
        )
        print(
            f"no-change quick sync (timestamp scans only): {quick_s:.2f} s in {quick_req} "
            f"requests (CLI process {quick_wall:.2f} s)"
        )
        print(
            f"full sync / raw paging = {full_s:.2f} s / {raw_s:.2f} s = {full_s / raw_s:.2f} "
            f"(target ≤ 1.3)"
        )
        figures = {
            "models": n_models,
            "versions": n_versions,
            "full_sync_s": round(full_s, 3),
            "full_sync_cli_wall_s": round(min(walls), 3),
            "raw_paging_s": round(raw_s, 3),
            "ratio": round(full_s / raw_s, 3),
            "incremental_s": round(inc_s, 3),
            "incremental_cli_wall_s": round(inc_wall, 3),
            "quick_incremental_s": round(quick_s, 3),
            "quick_incremental_cli_wall_s": round(quick_wall, 3),
            "peak_rss_mb": round(max(rss), 1),
            "incremental_peak_rss_mb": round(inc_rss, 1),
        }
    finally:
        server.stop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
