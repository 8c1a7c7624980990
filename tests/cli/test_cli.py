"""The real `modeldeck` entry point, run as a subprocess, against real cache files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.services.catalog import CatalogService
from app.store.db import Cache
from app.store.schema import HEAD_REVISION

MODELDECK = [sys.executable, "-m", "app"]


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MODELDECK_HOME"}
    proc = subprocess.run(
        [*MODELDECK, "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


@pytest.fixture
def demo_home(tmp_path: Path, demo_cache_file: Path) -> Path:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    shutil.copy(demo_cache_file, home / "data" / "cache.sqlite")
    return home


def test_version(tmp_path: Path) -> None:
    from app import __version__

    out = subprocess.run([*MODELDECK, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"modeldeck {__version__}"


def test_models_list_search_json_matches_the_cache(demo_home: Path) -> None:
    proc = run(demo_home, "models", "list", "--search", "fraud tag:region=eu-west", "--json")
    doc = json.loads(proc.stdout)
    cache = Cache.open(demo_home / "data" / "cache.sqlite")
    expected = CatalogService(cache).search("fraud tag:region=eu-west")
    cache.close()
    assert doc["count"] == len(expected) > 0
    assert [(m["source"], m["name"]) for m in doc["models"]] == [
        (m.source, m.name) for m in expected
    ]
    assert all(m["tags"]["region"] == "eu-west" for m in doc["models"])


def test_models_list_limit_alias_and_tag_flags(demo_home: Path) -> None:
    doc = json.loads(
        run(
            demo_home,
            "models",
            "list",
            "--alias",
            "challenger",
            "--tag",
            "team=nlp",
            "--limit",
            "5",
            "--json",
        ).stdout
    )
    assert doc["count"] == 5
    assert all("challenger" in m["aliases"] and m["tags"]["team"] == "nlp" for m in doc["models"])


def test_models_list_human_output_has_a_header_and_rows(demo_home: Path) -> None:
    proc = run(demo_home, "models", "list", "--limit", "3")
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["NAME", "SOURCE", "LATEST"]
    assert len(lines) == 4
    assert "3 of 2000 models" in proc.stderr


def test_models_show_json_has_every_version(demo_home: Path) -> None:
    first = json.loads(
        run(
            demo_home, "models", "list", "--limit", "1", "--sort", "versions", "--desc", "--json"
        ).stdout
    )["models"][0]
    detail = json.loads(
        run(
            demo_home, "models", "show", first["name"], "--source", first["source"], "--json"
        ).stdout
    )
    assert detail["model"]["name"] == first["name"]
    assert len(detail["versions"]) == first["version_count"] > 1
    numbers = [int(v["version"]) for v in detail["versions"]]
    assert numbers == sorted(numbers, reverse=True)
    champion = detail["model"]["aliases"].get("champion")
    if champion:
        tagged = [v["version"] for v in detail["versions"] if "champion" in v["aliases"]]
        assert tagged == [champion]


def test_unknown_model_is_a_one_line_error(demo_home: Path) -> None:
    proc = run(demo_home, "models", "show", "no-such-model", check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.strip() == "modeldeck: error: no model named 'no-such-model' in the cache"


def test_bad_flag_is_a_usage_error(tmp_path: Path) -> None:
    proc = run(tmp_path, "models", "list", "--limitt", "3", check=False)
    assert proc.returncode == 2
    assert "unrecognized arguments: --limitt" in proc.stderr
    assert run(tmp_path, "models", "list", "--limit", "-1", check=False).returncode == 2


def test_cache_info_json(demo_home: Path) -> None:
    info = json.loads(run(demo_home, "cache", "info", "--json").stdout)
    assert info["models"] == 2000
    assert info["schema_version"] == HEAD_REVISION
    assert info["path"] == str(demo_home / "data" / "cache.sqlite")
    assert {s["name"] for s in info["sources"]} == {"mlflow-prod", "mlflow-research"}
    assert all(s["last_sync_at"].endswith("Z") for s in info["sources"])


def test_unreadable_cache_is_set_aside_and_the_command_still_works(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "cache.sqlite").write_bytes(b"\x00garbage" * 1000)
    proc = run(tmp_path, "cache", "info", "--json")
    assert "could not be used" in proc.stderr
    assert json.loads(proc.stdout)["models"] == 0
    assert len(list(data.glob("cache.sqlite.corrupt-*"))) == 1


def test_home_env_var_is_honoured(tmp_path: Path, demo_cache_file: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(demo_cache_file, tmp_path / "data" / "cache.sqlite")
    env = {**os.environ, "MODELDECK_HOME": str(tmp_path)}
    proc = subprocess.run(
        [*MODELDECK, "cache", "info", "--json"], capture_output=True, text=True, env=env, check=True
    )
    assert json.loads(proc.stdout)["models"] == 2000


def test_demo_generates_its_own_cache_apart_from_real_data(tmp_path: Path) -> None:
    doc = json.loads(run(tmp_path, "demo", "--no-gui", "--models", "300", "--json").stdout)
    assert doc["models"] == 300
    assert doc["generated"] is True
    assert Path(doc["cache"]).is_relative_to(tmp_path / "data" / "demo")
    again = json.loads(run(tmp_path, "demo", "--no-gui", "--json").stdout)
    assert again["generated"] is False
    assert again["models"] == 300
    real = json.loads(run(tmp_path, "cache", "info", "--json").stdout)
    assert real["models"] == 0


def test_headless_commands_never_import_qt(demo_home: Path) -> None:
    code = (
        "import sys; from app.__main__ import main; "
        f"rc = main(['--home', {str(demo_home)!r}, 'models', 'list', '--limit', '1']); "
        "qt = ('PySide6', 'pyqtgraph', 'shiboken6'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in qt]; "
        "print(rc, bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"
