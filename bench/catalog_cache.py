"""Benchmark: the local catalog cache at 100,000 models / 500,000 versions.

Builds the cache with the demo generator (the same bulk upsert a sync uses),
then measures search latency in process and a cold CLI process.

    python bench/catalog_cache.py [--models N] [--versions N] [--keep DIR]

Prints its figures in words and, as its last line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.services.catalog import CatalogService
from app.services.demo import generate
from app.store.db import Cache

QUERIES = [
    "fraud",
    "sentiment",
    "rank",
    "tag:team=nlp",
    "alias:challenger",
    "owner:ana.silva",
    "forecast eu",
    "vision ocr",
    "churn",
    "bid",
    "flavor:xgboost fraud",
    "tect",
    "latam",
    "pricing dynamic",
    "summarizer",
    "tag:pii=true",
    "autocomplete",
    "ctr",
    "kyc",
    "segmenter",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=500_000)
    parser.add_argument("--keep", type=Path, help="build the cache here and keep it")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="modeldeck-bench-"))
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    path = data / "cache.sqlite"
    for p in data.glob("cache.sqlite*"):
        p.unlink()

    t0 = time.perf_counter()
    cache = Cache.open(path)
    stats = generate(cache, args.models, args.versions, batch=2000)
    cache.close()
    build_s = time.perf_counter() - t0
    size_mb = path.stat().st_size / 1e6
    print(
        f"built {stats.models:,} models / {stats.versions:,} versions in {build_s:.1f} s "
        f"({stats.models / build_s:,.0f} models/s); file {size_mb:.0f} MB"
    )

    cache = Cache.open(path)
    catalog = CatalogService(cache)
    catalog.search("warm-up", limit=50)
    search_ms: list[float] = []
    counts = []
    for q in QUERIES:
        t = time.perf_counter()
        found = catalog.search(q, limit=50)
        search_ms.append((time.perf_counter() - t) * 1000)
        counts.append(len(found))
    full_ms: list[float] = []
    for q in QUERIES[:5]:
        t = time.perf_counter()
        catalog.search(q)
        full_ms.append((time.perf_counter() - t) * 1000)
    cache.close()
    print(
        f"search (first 50 rows), {len(QUERIES)} queries: median "
        f"{statistics.median(search_ms):.1f} ms, p95 {percentile(search_ms, 0.95):.1f} ms"
    )
    print(f"search returning every match, 5 queries: median {statistics.median(full_ms):.1f} ms")

    env = {**os.environ, "MODELDECK_HOME": str(root)}
    cmd = [sys.executable, "-m", "app", "models", "list", "--limit", "50"]
    cold: list[float] = []
    for _ in range(7):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        cold.append(time.perf_counter() - t)
    cold_ms = statistics.median(cold) * 1000
    print(
        f"cold `modeldeck models list --limit 50` process: median {cold_ms:.0f} ms "
        f"(min {min(cold) * 1000:.0f} ms) over {len(cold)} runs"
    )

    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    print(
        json.dumps(
            {
                "models": stats.models,
                "versions": stats.versions,
                "build_s": round(build_s, 2),
                "file_mb": round(size_mb, 1),
                "search_ms_median": round(statistics.median(search_ms), 2),
                "search_ms_p95": round(percentile(search_ms, 0.95), 2),
                "search_all_ms_median": round(statistics.median(full_ms), 1),
                "cli_models_list_ms_median": round(cold_ms, 0),
            }
        )
    )


if __name__ == "__main__":
    main()
