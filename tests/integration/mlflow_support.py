"""Prebuilt MLflow registries for tests and benchmarks, and small helpers around them.

A registry is built IN PROCESS by ``fixtures/mlflow_registry.py`` run with the
MLflow venv's python (the app's venv never imports mlflow), once: the SQLite
file is cached under ``$MODELDECK_BACKENDS_DIR/fixtures/`` keyed by the build
script's hash and the profile, and every server gets its own copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.integration.servers import mlflow_venv, require

HERE = Path(__file__).parent
BUILD_SCRIPT = HERE / "fixtures" / "mlflow_registry.py"
REPO = HERE.parent.parent
API = "/api/2.0/mlflow"


def backends_dir() -> Path:
    return Path(
        os.environ.get("MODELDECK_BACKENDS_DIR", Path.home() / ".cache" / "modeldeck-backends")
    )


def registry_db(profile: str) -> Path:
    """The cached registry file for ``profile`` (``catalog`` or ``bench``); built when
    missing. Read-only by convention: copy it before pointing a server at it."""
    digest = hashlib.sha256(BUILD_SCRIPT.read_bytes() + profile.encode()).hexdigest()[:16]
    out_dir = backends_dir() / "fixtures"
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"mlflow-{profile}-{digest}.db"
    python = mlflow_venv() / "bin" / "python"
    require(python.exists(), f"no MLflow venv at {mlflow_venv()} (make backend-venvs)")
    with (out_dir / f".mlflow-{profile}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel sessions build it once
        if target.exists():
            return target
        tmp = target.with_suffix(".building")
        tmp.unlink(missing_ok=True)
        t0 = time.monotonic()
        print(f"building the {profile!r} MLflow registry (once) …", file=sys.stderr)
        proc = subprocess.run(
            [str(python), str(BUILD_SCRIPT), profile, str(tmp)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "MLFLOW_TRACKING_URI": ""},
            cwd=out_dir,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"building {profile} failed:\n{proc.stderr[-3000:]}")
        tmp.rename(target)
        print(
            f"built {target.name} in {time.monotonic() - t0:.0f} s: {proc.stdout.strip()}",
            file=sys.stderr,
        )
    return target


def copy_registry(profile: str, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / "mlflow.db"
    shutil.copy(registry_db(profile), dest)
    return dest


def registry_counts(db: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        models = con.execute("SELECT count(*) FROM registered_models").fetchone()[0]
        versions = con.execute(
            "SELECT count(*) FROM model_versions WHERE current_stage != 'Deleted_Internal'"
        ).fetchone()[0]
    finally:
        con.close()
    return int(models), int(versions)


# ------------------------------------------------------------------ REST, independently
class Rest:
    """Plain httpx calls to a real MLflow, for setting up and for checking what the
    server reports — deliberately not through the adapter under test."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(base_url=url + API, timeout=120)

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **params: Any) -> Any:
        r = self.client.get(path, params=params)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.post(path, json=body)
        r.raise_for_status()
        return r.json() if r.content else None

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.patch(path, json=body)
        r.raise_for_status()
        return r.json() if r.content else None

    def delete(self, path: str, body: dict[str, Any]) -> Any:
        r = self.client.request("DELETE", path, json=body)
        r.raise_for_status()
        return r.json() if r.content else None

    def all_models(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token = None
        while True:
            params: dict[str, Any] = {"max_results": 1000}
            if token:
                params["page_token"] = token
            body = self.get("/registered-models/search", **params)
            out += body.get("registered_models", [])
            token = body.get("next_page_token")
            if not token:
                return out

    def all_versions(self) -> list[dict[str, Any]]:
        body = self.get("/model-versions/search", max_results=200000)
        assert not body.get("next_page_token")
        return list(body.get("model_versions", []))


# ------------------------------------------------------------------ the real CLI
def modeldeck(
    home: Path, *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real ``modeldeck`` CLI in a subprocess with ``MODELDECK_HOME=home``."""
    env = {**os.environ, "MODELDECK_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
        check=False,
    )


def cli_json(home: Path, *args: str, stdin: str | None = None) -> Any:
    proc = modeldeck(home, *args, "--json", stdin=stdin)
    assert proc.returncode == 0, f"modeldeck {' '.join(args)} failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def cache_dump(cache_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every catalog row of a cache file (sorted), to prove a cache did not change."""
    con = sqlite3.connect(f"file:{cache_path}?mode=ro", uri=True)
    try:
        return {
            "models": sorted(con.execute("SELECT * FROM models").fetchall()),
            "versions": sorted(con.execute("SELECT * FROM versions").fetchall()),
            "model_tags": sorted(con.execute("SELECT * FROM model_tags").fetchall()),
            "model_aliases": sorted(con.execute("SELECT * FROM model_aliases").fetchall()),
            "sources": sorted(
                con.execute("SELECT name, kind, url, cursor, last_full_sync_at FROM sources")
            ),
        }
    finally:
        con.close()


@contextlib.contextmanager
def gateway_to(upstream: str, token: str) -> Iterator[Any]:
    from tests.integration.servers import Gateway

    with Gateway(upstream, token=token) as gw:
        yield gw
