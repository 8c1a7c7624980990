"""One query engine: the CLI's search (SQL) and the GUI's (in-memory) agree on every query.

On the real 2,000-model demo cache: ``CatalogService.search`` (what ``models list``
calls) against ``BrowseService.load()`` + ``search``, the same models and, for every
shared sort key, the same order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.browse import SORT_KEYS, BrowseRequest, BrowseService, CatalogIndex
from app.services.catalog import CatalogService
from app.services.demo import OWNERS, REGIONS
from app.store import catalog_query, queries
from app.store.db import Cache

Key = tuple[str, str]


@pytest.fixture(scope="module")
def cache_path(demo_cache_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("engine") / "cache.sqlite"
    shutil.copy(demo_cache_file, path)
    return path


@pytest.fixture(scope="module")
def catalog(cache_path: Path) -> Iterator[CatalogService]:
    cache = Cache.open(cache_path)
    yield CatalogService(cache)
    cache.close()


@pytest.fixture(scope="module")
def gui(cache_path: Path) -> Iterator[tuple[BrowseService, CatalogIndex]]:
    browse = BrowseService(cache_path)
    yield browse, browse.load()
    browse.close()


def _cli(catalog: CatalogService, text: str, sort: str = "name", desc: bool = False) -> list[Key]:
    return [(m.source, m.name) for m in catalog.search(text, sort=sort, descending=desc)]


def _gui(
    gui: tuple[BrowseService, CatalogIndex], text: str, sort: str = "name", desc: bool = False
) -> list[Key]:
    browse, index = gui
    rows = browse.search(index, BrowseRequest(text, sort=sort, descending=desc)).rows
    return [(index.source[r], index.name[r]) for r in rows]


# ------------------------------------------------------------------ the vocabulary
NAME_WORDS = ["fraud", "sentiment", "nlp", "risk", "ranker", "churn", "forecast", "vision"]
FLAVORS = ["sklearn", "xgboost", "pytorch", "onnx", "lightgbm", "transformers", "prophet"]
TEAMS = ["nlp", "risk", "search", "vision", "pricing", "ads", "growth", "nope"]


def _odd_case(draw: st.DrawFn, text: str) -> str:
    style = draw(st.sampled_from(["same", "upper", "title", "swap"]))
    return {"same": text, "upper": text.upper(), "title": text.title(), "swap": text.swapcase()}[
        style
    ]


def _cut(draw: st.DrawFn, text: str) -> str:
    """The whole word, a prefix of it, or a piece from its middle."""
    how = draw(st.sampled_from(["whole", "prefix", "middle"]))
    if how == "whole" or len(text) < 3:
        return text
    if how == "prefix":
        return text[: draw(st.integers(1, len(text)))]
    start = draw(st.integers(1, len(text) - 2))
    return text[start : draw(st.integers(start + 1, len(text)))]


@st.composite
def term(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            [
                "word",
                "phrase",
                "owner",
                "flavor",
                "tag",
                "tagkey",
                "alias",
                "stage",
                "source",
                "deployed",
                "field-case",
            ]
        )
    )
    if kind == "word":
        return _odd_case(draw, _cut(draw, draw(st.sampled_from(NAME_WORDS))))
    if kind == "phrase":
        words = draw(st.lists(st.sampled_from([*NAME_WORDS, "detector", "model"]), max_size=2))
        return '"' + " ".join(words) + '"'
    if kind == "owner":
        return "owner:" + _odd_case(draw, _cut(draw, draw(st.sampled_from(OWNERS))))
    if kind == "flavor":
        return "flavor:" + _odd_case(draw, _cut(draw, draw(st.sampled_from(FLAVORS))))
    if kind == "tag":
        pair = draw(
            st.sampled_from(
                [("team", t) for t in TEAMS] + [("region", r) for r in REGIONS] + [("pii", "true")]
            )
        )
        return f"tag:{pair[0]}={draw(st.sampled_from([pair[1], pair[1].upper()]))}"
    if kind == "tagkey":
        return "tag:" + draw(st.sampled_from(["pii", "team", "tier", "nope", "Team"]))
    if kind == "alias":
        return "alias:" + draw(st.sampled_from(["champion", "challenger", "shadow", "champ"]))
    if kind == "stage":
        return "stage:" + _odd_case(draw, _cut(draw, "Archived"))
    if kind == "source":
        return "source:" + _odd_case(
            draw, _cut(draw, draw(st.sampled_from(["mlflow-prod", "mlflow-research"])))
        )
    if kind == "deployed":
        return "deployed:" + draw(st.sampled_from(["yes", "no", "Yes", "y", "true", "0"]))
    field = draw(st.sampled_from(["OWNER", "Flavor", "TAG", "Alias"]))
    value = {"OWNER": "ana", "Flavor": "xgb", "TAG": "pii", "Alias": "champion"}[field]
    return f"{field}:{value}"


queries_st = st.lists(term(), min_size=1, max_size=3).map(" ".join)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=queries_st, sort=st.sampled_from(SORT_KEYS), desc=st.booleans())
def test_cli_and_gui_find_the_same_models_in_the_same_order(
    catalog: CatalogService,
    gui: tuple[BrowseService, CatalogIndex],
    text: str,
    sort: str,
    desc: bool,
) -> None:
    cli = _cli(catalog, text, sort, desc)
    shown = _gui(gui, text, sort, desc)
    assert set(cli) == set(shown), text
    assert cli == shown, (text, sort, desc)
    assert catalog.count(text) == len(shown)


@pytest.mark.parametrize("sort", SORT_KEYS)
@pytest.mark.parametrize("desc", [False, True])
def test_every_shared_sort_key_orders_the_whole_catalog_alike(
    catalog: CatalogService, gui: tuple[BrowseService, CatalogIndex], sort: str, desc: bool
) -> None:
    assert _cli(catalog, "", sort, desc) == _gui(gui, "", sort, desc)


def test_owner_prefix_finds_the_same_models_in_both(
    catalog: CatalogService, gui: tuple[BrowseService, CatalogIndex]
) -> None:
    cli = _cli(catalog, "owner:ana")
    assert cli == _gui(gui, "owner:ana")
    assert len(cli) >= 1
    _browse, index = gui
    owners = {index.owner[index.row(s, n) or 0] for s, n in cli}
    assert owners == {"ana.silva"}


def test_a_page_is_a_slice_of_the_whole_order(catalog: CatalogService) -> None:
    for sort in ("name", "tags", "updated"):
        whole = catalog.search("tag:pii", sort=sort)
        assert catalog.search("tag:pii", sort=sort, limit=7, offset=5) == whole[5:12]


def test_an_unknown_sort_key_is_refused_with_the_list(catalog: CatalogService) -> None:
    from app.domain.errors import ConfigError

    with pytest.raises(ConfigError, match="deployed"):
        catalog.search("", sort="colour")
    assert queries.SORT_KEYS == catalog_query.SORT_KEYS == SORT_KEYS


def test_field_terms_have_one_definition() -> None:
    t = catalog_query.FieldTerm
    assert catalog_query.value_matches(t("owner", "ANA"), "ana.silva")
    assert not catalog_query.value_matches(t("owner", "silva"), "ana.silva")
    assert catalog_query.value_matches(t("tag", "team"), "team=nlp")
    assert not catalog_query.value_matches(t("tag", "tea"), "team=nlp")
    assert catalog_query.value_matches(t("tag", "team", "nlp"), "team=nlp")
    assert not catalog_query.value_matches(t("tag", "team", "nl"), "team=nlp")
    assert not catalog_query.value_matches(t("alias", "champ"), "champion")
