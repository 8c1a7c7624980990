"""`modeldeck backends add --kind kserve` through the real entry point: refused with a
one-line message naming the kind and what is supported, and nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MODELDECK = [sys.executable, "-m", "app"]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MODELDECK_HOME"}
    return subprocess.run(
        [*MODELDECK, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_backends_add_kserve_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = run(home, "backends", "add", "x", "--kind", "kserve", "--url", "https://k8s.example")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].endswith(
        "KServe clusters are not supported yet: no adapter for kind 'kserve'; "
        "supported: mlflow, ray-serve, prometheus"
    ), proc.stderr
    assert "Traceback" not in proc.stderr
    listed = run(home, "backends", "list")
    assert listed.returncode == 0, listed.stderr
    assert "x" not in listed.stdout.split()
    settings = list(home.rglob("settings.toml"))
    assert all("kserve" not in p.read_text() for p in settings)


def test_backends_add_a_supported_kind_still_works(tmp_path: Path) -> None:
    home = tmp_path / "home"
    proc = run(home, "backends", "add", "reg", "--kind", "mlflow", "--url", "http://127.0.0.1:9")
    assert proc.returncode == 0, proc.stderr
