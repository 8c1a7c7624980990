"""``modeldeck demo`` through the real entry point: the demo workspace is made apart
from the real one, every command runs on it with ``--home <data dir>/demo``, and the
real workspace's files are byte-identical afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MODELDECK = [sys.executable, "-m", "app"]


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MODELDECK_HOME"}
    proc = subprocess.run(
        [*MODELDECK, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _files(root: Path) -> dict[str, bytes]:
    demo = root / "data" / "demo"
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_relative_to(demo)
    }


def test_demo_commands_run_on_the_demo_and_leave_the_real_workspace_alone(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    run(home, "backends", "add", "prod-mlflow", "--kind", "mlflow", "--url", "https://m.example")
    refused = run(
        home,
        "backends",
        "add",
        "x",
        "--kind",
        "demo-cluster",
        "--url",
        "https://x.demo.invalid",
        check=False,
    )
    assert refused.returncode == 1
    assert "cannot be added to a real workspace" in refused.stderr
    assert "modeldeck demo" in refused.stderr
    before = _files(home)

    made = json.loads(run(home, "demo", "--no-gui", "--json").stdout)
    demo = Path(made["workspace"])
    assert demo == home / "data" / "demo"
    assert made["generated"] is True
    assert isinstance(made["generate_ms"], int | float)  # timed by bench/demo.py, not here
    assert {b["kind"] for b in made["backends"]} == {
        "demo-registry",
        "demo-cluster",
        "demo-metrics",
    }

    health = json.loads(run(demo, "health", "--json").stdout)
    assert not health["errors"]
    statuses = [d["status"] for d in health["deployments"]]
    assert statuses.count("unknown") == 1  # the exporter the demo stopped
    assert {"healthy", "degraded", "failing"} <= set(statuses)

    listed = run(demo, "backends", "test", "metrics")
    assert "demo backend (simulated)" in listed.stdout

    models = json.loads(
        run(
            demo,
            "models",
            "list",
            "--search",
            "source:mlflow-prod deployed:no",
            "--limit",
            "50",
            "--json",
        ).stdout
    )["models"]
    world = json.loads((demo / "data" / "demo-world.json").read_text())
    model = next(m for m in models if m["name"] not in world["broken"])
    shown = json.loads(run(demo, "models", "show", model["name"], "--json").stdout)
    version = next(v["version"] for v in shown["versions"] if v["status"] == "READY")
    out = run(demo, "deploy", model["name"], version, "--target", "staging", "--yes", "--json")
    assert json.loads(out.stdout)["status"] == "RUNNING"
    deps = json.loads(run(demo, "deployments", "list", "--target", "staging", "--json").stdout)
    assert model["name"] in json.dumps(deps)
    assert "intact" in run(demo, "audit", "verify").stdout + run(demo, "audit", "verify").stderr

    assert _files(home) == before
