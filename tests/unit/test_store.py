"""The local cache on real SQLite files: upserts, FTS, bad files, migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.models import CatalogQuery, ModelVersion, RegisteredModel, VersionStatus
from app.store import queries
from app.store.db import Cache, probe
from app.store.schema import HEAD_REVISION, SCHEMA_REVISIONS


def _model(name: str, **kw: object) -> RegisteredModel:
    base: dict[str, object] = {"source": "reg", "name": name, "description": f"about {name}"}
    base.update(kw)
    return RegisteredModel(**base)  # type: ignore[arg-type]


def _versions(name: str, n: int) -> list[ModelVersion]:
    return [
        ModelVersion("reg", name, str(i), VersionStatus.READY, source_uri=f"runs:/r{i}/model")
        for i in range(1, n + 1)
    ]


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    c = Cache.open(tmp_path / "cache.sqlite")
    yield c
    c.close()


def _names(cache: Cache, text: str) -> set[str]:
    with cache.read() as con:
        return {m.name for m in queries.search_models(con, CatalogQuery.parse(text))}


def test_fresh_cache_is_at_head_revision_in_wal_mode(cache: Cache) -> None:
    assert probe(cache.path).revision == HEAD_REVISION
    with cache.read() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        tables = {r[0] for r in con.exec_driver_sql("SELECT name FROM sqlite_master")}
    assert {"models", "versions", "models_fts", "sources", "deployments"} <= tables


def test_schema_revisions_match_the_migration_scripts() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path("app/store/migrations").resolve()))
    script = ScriptDirectory.from_config(cfg)
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert tuple(revisions) == SCHEMA_REVISIONS
    assert script.get_current_head() == HEAD_REVISION


def test_upsert_is_idempotent(cache: Cache) -> None:
    models = [_model(f"m{i}", tags={"team": "nlp"}, aliases={"champion": "2"}) for i in range(50)]
    versions = {m.name: _versions(m.name, 3) for m in models}
    with cache.write() as con:
        first = queries.upsert_models(con, models, versions)
    with cache.write() as con:
        again = queries.upsert_models(con, models, versions)
    assert (first.models_written, first.versions_written) == (50, 150)
    assert (again.models_written, again.versions_written, again.versions_removed) == (0, 0, 0)
    with cache.read() as con:
        assert queries.count_models(con) == 50
        assert queries.count_versions(con) == 150
        (m,) = queries.find_models(con, "m7")
    assert m.latest_version == "3"
    assert m.version_count == 3


def test_fts_finds_by_name_description_tag_and_alias(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(
            con,
            [
                _model("fraud-detector", description="flags card **chargebacks**"),
                _model("ranker", tags={"team": "search"}),
                _model("tagger", aliases={"challenger": "4"}),
                _model("Ünïcode model 🚀", description="résumé parser"),
            ],
        )
    assert _names(cache, "fraud") == {"fraud-detector"}
    assert _names(cache, "chargeback") == {"fraud-detector"}  # prefix
    assert _names(cache, "search") == {"ranker"}
    assert _names(cache, "challenger") == {"tagger"}
    assert _names(cache, "resume") == {"Ünïcode model 🚀"}  # diacritics folded
    assert _names(cache, "tect") == {"fraud-detector"}  # substring fallback
    assert _names(cache, 'AND "OR') == set()  # FTS syntax typed by a user is not an error


def test_fts_follows_updates_and_deletes(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(con, [_model("a", description="old words")])
    with cache.write() as con:
        queries.upsert_models(con, [_model("a", description="brand new text")])
    assert _names(cache, "old") == set()
    assert _names(cache, "brand") == {"a"}
    with cache.write() as con:
        assert queries.remove_models(con, "reg", ["a"]) == 1
    assert _names(cache, "brand") == set()


def test_field_filters_combine(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(
            con,
            [
                _model(
                    "a", tags={"team": "nlp", "tier": "1"}, aliases={"champion": "1"}, owner="ana"
                ),
                _model("b", tags={"team": "nlp", "tier": "2"}, owner="ana"),
                _model("c", tags={"team": "vision"}, aliases={"champion": "1"}, owner="bo"),
            ],
        )
    assert _names(cache, "tag:team=nlp") == {"a", "b"}
    assert _names(cache, "tag:team=nlp alias:champion") == {"a"}
    assert _names(cache, "owner:bo") == {"c"}
    assert _names(cache, "tag:tier") == {"a", "b"}


def test_versions_are_replaced_by_the_listed_set(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(con, [_model("m")], {"m": _versions("m", 4)})
    with cache.write() as con:
        res = queries.upsert_models(con, [_model("m")], {"m": _versions("m", 2)})
    assert res.versions_removed == 2
    with cache.read() as con:
        assert [v.version for v in queries.model_versions(con, "reg", "m")] == ["2", "1"]


def test_same_name_in_two_sources_is_two_models(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(con, [_model("shared")])
        queries.upsert_models(con, [RegisteredModel(source="other", name="shared")])
    with cache.read() as con:
        assert {m.source for m in queries.find_models(con, "shared")} == {"reg", "other"}


def test_full_pass_removes_models_gone_upstream(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(
            con, [_model(n) for n in "abcd"], {n: _versions(n, 2) for n in "abcd"}
        )
        assert queries.remove_models_except(con, "reg", ["a", "c"]) == 2
    with cache.read() as con:
        assert {m.name for m in queries.search_models(con, CatalogQuery())} == {"a", "c"}
        assert queries.count_versions(con) == 4  # versions went with their models


def test_failed_batch_leaves_the_last_good_state(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(con, [_model("keep")], {"keep": _versions("keep", 1)})

    def bad_page() -> None:
        with cache.write() as con:
            queries.upsert_models(con, [_model("half")], {"half": _versions("half", 3)})
            raise RuntimeError("page 2 was malformed")

    with pytest.raises(RuntimeError):
        bad_page()
    assert _names(cache, "") == {"keep"}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.write_bytes(b"this is not a database\n" * 100), id="garbage"),
        pytest.param(lambda p: p.write_bytes(p.read_bytes()[:1500]), id="truncated"),
        pytest.param(
            lambda p: p.write_bytes(p.read_bytes()[:100] + b"\xff" * 4000 + p.read_bytes()[4100:]),
            id="header-page-overwritten",
        ),
    ],
)
def test_corrupt_cache_is_set_aside_and_rebuilt(tmp_path: Path, damage) -> None:
    path = tmp_path / "cache.sqlite"
    c = Cache.open(path)
    with c.write() as con:
        queries.upsert_models(con, [_model(f"m{i}") for i in range(300)])
    c.close()
    damage(path)
    original = path.read_bytes()

    reopened = Cache.open(path)
    assert reopened.notice is not None
    assert "could not be used" in reopened.notice
    aside = [
        p
        for p in tmp_path.iterdir()
        if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(aside) == 1
    assert aside[0].read_bytes() == original  # moved, never deleted or changed
    with reopened.read() as con:
        assert queries.count_models(con) == 0
    reopened.close()


def test_newer_schema_is_set_aside_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    Cache.open(path).close()
    with sqlite3.connect(path) as con:
        con.execute("UPDATE alembic_version SET version_num = '9999'")
    reopened = Cache.open(path)
    assert reopened.notice is not None
    assert "newer Modeldeck" in reopened.notice
    assert any(".newer-" in p.name for p in tmp_path.iterdir())
    assert probe(path).revision == HEAD_REVISION
    reopened.close()


def test_another_programs_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE photos (id INTEGER)")
    reopened = Cache.open(path)
    assert reopened.notice is not None
    assert "some other program" in reopened.notice
    reopened.close()


def test_migration_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.touch()
    c = Cache.open(path)
    assert c.notice is None
    assert probe(path).revision == HEAD_REVISION
    c.close()


def test_tag_keys_are_not_search_words_but_values_are(cache: Cache) -> None:
    with cache.write() as con:
        queries.upsert_models(
            con,
            [
                _model("a", tags={"framework": "xgboost"}),
                _model("b", tags={"framework": "pytorch"}, aliases={"shadow": "1"}),
            ],
        )
    assert _names(cache, "framework") == set()  # a key: use tag:framework
    assert _names(cache, "xgb") == {"a"}
    assert _names(cache, "x") == {"a"}  # one-letter prefixes use the prefix index
    assert _names(cache, "shadow") == {"b"}
    assert _names(cache, "tag:framework") == {"a", "b"}


def test_upgrade_keeps_existing_rows_searchable(tmp_path: Path) -> None:
    """A cache written at revision 0003 (tag JSON indexed) is migrated in place."""
    from alembic import command
    from alembic.config import Config

    from app.store.db import make_engine

    path = tmp_path / "cache.sqlite"
    engine = make_engine(path)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path("app/store/migrations").resolve()))
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.upgrade(cfg, "0003")
    with engine.begin() as con:
        queries.upsert_models(con, [_model("old-model", tags={"team": "fraud"})])
    engine.dispose()
    assert probe(path).revision == "0003"

    c = Cache.open(path)
    assert probe(path).revision == HEAD_REVISION
    assert _names(c, "fraud") == {"old-model"}
    assert _names(c, "team") == set()
    c.close()
