"""How model names become MLflow search filters (sqlparse cannot take every name
as a literal; those get an over-matching LIKE, filtered exactly by the adapter)."""

from __future__ import annotations

from urllib.parse import quote

from app.adapters.mlflow import FILTER_BUDGET, NAMES_PER_FILTER, name_filters


def test_plain_names_share_in_filters():
    assert name_filters(["a", "b c", "🚀"]) == ["name IN ('a','b c','🚀')"]


def test_single_quotes_use_double_quotes():
    assert name_filters(["it's"]) == ['name IN ("it\'s")']


def test_names_sqlparse_cannot_quote_use_like():
    assert name_filters(["both ' and \" q", "back\\slash", "x"]) == [
        "name LIKE 'both _ and _ q'",
        "name LIKE 'back_slash'",
        "name IN ('x')",
    ]


def test_batches_respect_the_count_and_the_url_budget():
    names = [f"model-{i:05d}" for i in range(1000)]
    filters = name_filters(names)
    assert len(filters) == 1000 // NAMES_PER_FILTER
    long = ["é" * 300 + str(i) for i in range(100)]
    for f in name_filters(long):
        assert len(quote(f, safe="")) <= FILTER_BUDGET + 2000
    covered = "".join(name_filters(long))
    assert all(f"'{n}'" in covered for n in long)
