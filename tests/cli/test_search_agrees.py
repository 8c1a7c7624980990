"""The real `modeldeck models list --search` returns what the catalog browser shows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.services.browse import BrowseRequest, BrowseService
from tests.cli.test_cli import run


@pytest.fixture
def demo_home(tmp_path: Path, demo_cache_file: Path) -> Path:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    shutil.copy(demo_cache_file, home / "data" / "cache.sqlite")
    return home


def _gui(cache: Path, text: str, sort: str = "name", descending: bool = False) -> list[list[str]]:
    browse = BrowseService(cache)
    try:
        index = browse.load()
        rows = browse.search(index, BrowseRequest(text, sort=sort, descending=descending)).rows
        return [[index.source[r], index.name[r]] for r in rows]
    finally:
        browse.close()


def test_models_list_owner_prefix_returns_the_guis_models(demo_home: Path) -> None:
    proc = run(demo_home, "models", "list", "--search", "owner:ana", "--json")
    doc = json.loads(proc.stdout)
    want = _gui(demo_home / "data" / "cache.sqlite", "owner:ana")
    assert len(want) >= 1
    assert doc["count"] == len(want)
    assert [[m["source"], m["name"]] for m in doc["models"]] == want
    assert {m["owner"] for m in doc["models"]} == {"ana.silva"}


def test_models_list_sorted_by_a_computed_key_pages_like_the_gui(demo_home: Path) -> None:
    args = ["--search", "Stage:arch tag:pii", "--sort", "aliases", "--desc", "--limit", "20"]
    doc = json.loads(run(demo_home, "models", "list", *args, "--json").stdout)
    want = _gui(demo_home / "data" / "cache.sqlite", "Stage:arch tag:pii", "aliases", True)
    assert [[m["source"], m["name"]] for m in doc["models"]] == want[:20]
