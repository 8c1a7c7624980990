"""The catalog's one query engine: what a ``CatalogQuery`` matches, and how matches sort.

Two evaluators run it — the CLI (``CatalogService.search`` → ``queries.search_models``,
SQL with ``ORDER BY``/``LIMIT``) and the GUI (``BrowseService.search``, numpy over the
in-memory index, a few ms per keystroke at 100,000 models) — and both take every
definition from here, so they cannot disagree:

* **Free words**: ``text_ids`` (GUI) and ``text_clause`` (CLI) share one FTS5 lookup
  (every word a prefix of a name, description, tag value or alias name) and one
  fallback when that finds nothing: the whole text as a literal, case-insensitive
  substring of a name or description.
* **Field terms** (``tag:``, ``alias:``, ``owner:``, ``flavor:``, ``source:``,
  ``stage:``, ``deployed:``): a model matches when one of its values for that field
  satisfies ``value_matches`` — the only definition of what a term means (``owner:ana``
  finds ``ana.silva``). The GUI applies it to its facet value labels (→ codes →
  masks); the CLI lists the field's distinct values in SQL (``FIELD_VALUES_SQL``),
  keeps those that match and filters by them (``field_clause``).
* **Sort keys**: ``SORT_KEYS``, one list. A key orders by its value (``None``
  lowest), then by name, then by registry, ascending; ``descending`` reverses the
  value only, ties stay by name and registry. Keys in ``SQL_SORT_COLUMNS`` are a
  column of ``models``; the others are computed from a model's fields by
  ``sort_value``, in Python, in both evaluators.

Plain SQL over any connection with ``execute(sql, params)`` (``sqlite3`` for the GUI,
an adapter over SQLAlchemy's for the CLI): no SQLAlchemy import here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from app.domain.models import CatalogQuery, fts_match_expression


class Rows(Protocol):
    def fetchone(self) -> Any: ...

    def fetchall(self) -> Sequence[Any]: ...


class Reader(Protocol):
    """What this module needs of a connection (``sqlite3.Connection`` has it)."""

    def execute(self, sql: str, parameters: Sequence[Any], /) -> Rows: ...


# ------------------------------------------------------------------ free words
_FTS_ROWS = "SELECT rowid FROM models_fts WHERE models_fts MATCH ?"
_SUBSTRING = (
    "(lower(models.name) LIKE ? ESCAPE '\\' OR lower(models.description) LIKE ? ESCAPE '\\')"
)


def _like(text: str) -> str:
    needle = text.strip('"').lower()
    for ch in ("\\", "%", "_"):
        needle = needle.replace(ch, "\\" + ch)
    return f"%{needle}%"


def text_ids(db: Reader, text: str, *, fallback: bool = True) -> tuple[str, bool] | None:
    """Comma-separated ids of the models free ``text`` matches, and whether the
    substring fallback found them. ``None`` when FTS found nothing and ``fallback``
    is False (the GUI runs the slower fallback on a worker). One string rather than
    a row per id: half the cost when a one-letter prefix matches 100,000 models."""
    expression = fts_match_expression(text)
    ids = ""
    if expression:
        row = db.execute(f"SELECT group_concat(rowid) FROM ({_FTS_ROWS})", (expression,)).fetchone()
        ids = str(row[0]) if row and row[0] is not None else ""
    if ids:
        return ids, False
    if not fallback:
        return None
    like = _like(text)
    row = db.execute(
        f"SELECT group_concat(id) FROM models WHERE {_SUBSTRING}", (like, like)
    ).fetchone()
    return (str(row[0]) if row and row[0] is not None else ""), True


def text_clause(db: Reader, text: str) -> tuple[str, list[Any], bool]:
    """The same match as ``text_ids`` as a condition on ``models`` (and whether it is
    the substring fallback)."""
    expression = fts_match_expression(text)
    if expression and db.execute(f"{_FTS_ROWS} LIMIT 1", (expression,)).fetchone():
        return f"models.id IN ({_FTS_ROWS})", [expression], False
    like = _like(text)
    return _SUBSTRING, [like, like], True


# ------------------------------------------------------------------ field terms
#: field → how its value labels read; a model's values for a field are these labels
FIELDS = ("tag", "alias", "owner", "flavor", "source", "stage", "deployed")
#: the ``deployed`` field's labels
DEPLOYED_LABELS = ("no", "yes")


@dataclass(frozen=True, slots=True)
class FieldTerm:
    """One field term of a query. ``tag:KEY`` has ``tag_value`` None, ``tag:KEY=V`` V."""

    field: str
    value: str
    tag_value: str | None = None


def field_terms(query: CatalogQuery) -> tuple[FieldTerm, ...]:
    """The field terms of ``query``, in a fixed order; empty values narrow nothing."""
    terms = [FieldTerm("tag", key, value) for key, value in query.tags]
    terms += [FieldTerm("alias", alias) for alias in query.aliases]
    for name, wanted in (
        ("owner", query.owner),
        ("flavor", query.flavor),
        ("source", query.source),
        ("stage", query.stage),
    ):
        if wanted:
            terms.append(FieldTerm(name, wanted))
    if query.deployed is not None:
        terms.append(FieldTerm("deployed", "yes" if query.deployed else "no"))
    return tuple(terms)


def tag_label(key: str, value: str) -> str:
    return f"{key}={value}"


def value_matches(term: FieldTerm, label: str) -> bool:
    """Does one value of a model (its label, e.g. ``ana.silva``, ``team=nlp``) satisfy
    ``term``? The single definition of every field term:

    * ``owner:``, ``flavor:``, ``source:``, ``stage:`` — the value or its beginning,
      case-insensitive (``owner:ana`` finds ``ana.silva``);
    * ``tag:KEY`` — any value of tag KEY; ``tag:KEY=VALUE`` — exactly that value;
    * ``alias:NAME`` — exactly that alias; ``deployed:yes|no`` — deployed or not.
    """
    if term.field == "tag":
        if term.tag_value is None:
            return label.startswith(f"{term.value}=")
        return label == tag_label(term.value, term.tag_value)
    if term.field in ("alias", "deployed"):
        return label == term.value
    return label.lower().startswith(term.value.lower())


#: the rows of ``deployments`` that are deployments of the model ``models`` (a
#: deployment that names no registry counts for every registry's model of its name)
DEPLOYMENTS_OF_MODEL = (
    "FROM deployments d WHERE d.model_name = models.name "
    "AND (d.model_source IS NULL OR d.model_source = models.source)"
)
#: ``(model_id, target, app)`` of every deployment of every cached model
MODEL_DEPLOYMENTS_SQL = (
    "SELECT models.id, d.target, d.app FROM deployments d JOIN models "
    "ON d.model_name = models.name AND (d.model_source IS NULL OR d.model_source = models.source) "
    "ORDER BY d.target, d.app"
)
#: ``(model_id, stage)`` for every stage some version of a model is in
MODEL_STAGES_SQL = (
    "SELECT DISTINCT model_id, stage FROM versions WHERE stage IS NOT NULL AND stage != ''"
)
#: field → the distinct value labels the cache holds (``deployed`` has fixed labels)
FIELD_VALUES_SQL = {
    "owner": "SELECT DISTINCT owner FROM models WHERE owner IS NOT NULL",
    "flavor": "SELECT DISTINCT flavor FROM models WHERE flavor IS NOT NULL",
    "source": "SELECT DISTINCT source FROM models",
    "stage": "SELECT DISTINCT stage FROM versions WHERE stage IS NOT NULL AND stage != ''",
    "tag": "SELECT DISTINCT key || '=' || value FROM model_tags",
    "alias": "SELECT DISTINCT alias FROM model_aliases",
}
_IN_LABELS = "IN (SELECT value FROM json_each(?))"
_FIELD_CONDITION = {
    "owner": f"models.owner {_IN_LABELS}",
    "flavor": f"models.flavor {_IN_LABELS}",
    "source": f"models.source {_IN_LABELS}",
    "stage": "EXISTS (SELECT 1 FROM versions v WHERE v.model_id = models.id "
    f"AND v.stage {_IN_LABELS})",
    "tag": "EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = models.id "
    f"AND t.key || '=' || t.value {_IN_LABELS})",
    "alias": "EXISTS (SELECT 1 FROM model_aliases a WHERE a.model_id = models.id "
    f"AND a.alias {_IN_LABELS})",
}


def _candidate_values(term: FieldTerm) -> tuple[str, list[Any]]:
    """The labels of ``term``'s field worth testing with ``value_matches``: all of them,
    or for ``tag:`` and ``alias:`` a superset narrowed through an index (a full scan of
    the tags costs ≈0.3 s at 100,000 models)."""
    if term.field == "alias":
        return f"{FIELD_VALUES_SQL['alias']} WHERE alias = ?", [term.value]
    if term.field == "tag":
        # a label KEY=VALUE starts with K= when KEY is K, starts with K=, or is a part
        # of K before one of its '=' (K 'a=b' and tag a=b=c)
        key = term.value
        keys = [key] + [key[:i] for i, ch in enumerate(key) if ch == "="]
        return (
            f"{FIELD_VALUES_SQL['tag']} WHERE key IN (SELECT value FROM json_each(?)) "
            "OR (key >= ? AND key < ?)",
            [json.dumps(keys, ensure_ascii=False), key + "=", key + ">"],
        )
    return FIELD_VALUES_SQL[term.field], []


def field_clause(db: Reader, term: FieldTerm) -> tuple[str, list[Any]]:
    """``term`` as a condition on ``models``: the labels of its field that
    ``value_matches``, looked up in the cache."""
    if term.field == "deployed":
        labels = [label for label in DEPLOYED_LABELS if value_matches(term, label)]
        if len(labels) == len(DEPLOYED_LABELS):
            return "1", []
        if not labels:
            return "0", []
        exists = f"EXISTS (SELECT 1 {DEPLOYMENTS_OF_MODEL})"
        return (exists if labels == ["yes"] else f"NOT {exists}"), []
    sql, params = _candidate_values(term)
    rows = db.execute(sql, params).fetchall()
    labels = [str(r[0]) for r in rows if r[0] is not None and value_matches(term, str(r[0]))]
    if not labels:
        return "0", []
    return _FIELD_CONDITION[term.field], [json.dumps(labels, ensure_ascii=False)]


def where(db: Reader, query: CatalogQuery) -> tuple[str, list[Any], bool]:
    """Every term of ``query`` ANDed, as a condition on ``models`` (and whether the
    free text fell back to a substring match)."""
    parts: list[str] = []
    params: list[Any] = []
    substring = False
    if query.text:
        sql, ps, substring = text_clause(db, query.text)
        parts.append(sql)
        params += ps
    for term in field_terms(query):
        sql, ps = field_clause(db, term)
        parts.append(sql)
        params += ps
    return (" AND ".join(f"({p})" for p in parts) or "1"), params, substring


# ------------------------------------------------------------------ sorting
#: every key results sort by, for the CLI's ``--sort`` and the GUI's columns
SORT_KEYS = (
    "name",
    "latest",
    "aliases",
    "owner",
    "flavor",
    "tags",
    "updated",
    "source",
    "deployed",
    "created",
    "versions",
)
#: keys that are a column of ``models`` (indexed ones make the CLI's first page cheap)
SQL_SORT_COLUMNS = {
    "name": "name",
    "owner": "owner",
    "flavor": "flavor",
    "updated": "updated_at",
    "source": "source",
    "created": "created_at",
    "versions": "version_count",
}
#: tags not in the Tags column (they have columns of their own), nor in its sort value
HIDDEN_TAGS = frozenset({"framework", "task"})


def alias_order(item: tuple[str, str]) -> tuple[bool, str]:
    """Aliases read ``champion`` first, then by name."""
    return (item[0] != "champion", item[0])


def version_number(v: str | None) -> int:
    """Numeric version (MLflow versions are integers as strings); -1 when not one."""
    if v is None:
        return -1
    try:
        return int(v)
    except ValueError:
        return -1


def aliases_text(aliases: Mapping[str, str] | Iterable[tuple[str, str]]) -> str:
    items = aliases.items() if isinstance(aliases, Mapping) else aliases
    return " ".join(a for a, _v in sorted(items, key=alias_order))


def tags_text(tags: Mapping[str, str]) -> str:
    """The Tags column: ``key=value`` pairs by key, ``HIDDEN_TAGS`` left out."""
    return ", ".join(tag_label(k, v) for k, v in sorted(tags.items()) if k not in HIDDEN_TAGS)


def deployed_text(targets: Iterable[str]) -> str:
    """The Deployed column: the targets a model runs on, by name."""
    return ", ".join(sorted(set(targets)))


#: computed keys → the extra column ``ordered_ids`` reads to compute them
_SORT_SOURCE = {
    "latest": "models.latest_version",
    "aliases": "models.aliases_json",
    "tags": "models.tags_json",
    "deployed": f"(SELECT group_concat(d.target, char(10)) {DEPLOYMENTS_OF_MODEL})",
}


def sort_value(key: str, raw: Any) -> int | str:
    """A computed key's value from what ``_SORT_SOURCE`` reads (also what the GUI holds)."""
    if key == "latest":
        return version_number(raw)
    if key == "aliases":
        return aliases_text(json.loads(raw or "{}"))
    if key == "tags":
        return tags_text(json.loads(raw or "{}"))
    return deployed_text(str(raw).split("\n") if raw else ())


def check_sort(key: str) -> None:
    if key not in SORT_KEYS:
        raise ValueError(f"cannot sort by {key!r}; choose one of {', '.join(SORT_KEYS)}")


def order_by(key: str, descending: bool) -> str:
    """``ORDER BY`` terms for a column key (see the module doc for the rule)."""
    column = SQL_SORT_COLUMNS[key]
    direction = " DESC" if descending else ""
    return f"models.{column}{direction}, models.name, models.source"


def ordered_rows(
    db: Reader,
    query: CatalogQuery,
    *,
    columns: str = "models.id",
    sort: str = "name",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Any]:
    """``columns`` of the models matching ``query``, in ``sort`` order, one page of
    them (for a computed key, each row carries three more columns after those)."""
    check_sort(sort)
    condition, params, _substring = where(db, query)
    if sort in SQL_SORT_COLUMNS:
        sql = (
            f"SELECT {columns} FROM models WHERE {condition} ORDER BY {order_by(sort, descending)}"
        )
        if limit is not None or offset:
            sql += f" LIMIT {int(limit) if limit is not None else -1} OFFSET {int(offset)}"
        return list(db.execute(sql, params).fetchall())
    rows = db.execute(
        f"SELECT {columns}, models.name AS _sort_name, models.source AS _sort_source, "
        f"{_SORT_SOURCE[sort]} AS _sort_raw FROM models WHERE {condition}",
        params,
    ).fetchall()
    ranked = sorted(rows, key=lambda r: (r[-3], r[-2]))
    ranked.sort(key=lambda r: sort_value(sort, r[-1]), reverse=descending)
    end = None if limit is None else offset + int(limit)
    return ranked[offset:end]


def ordered_ids(
    db: Reader,
    query: CatalogQuery,
    *,
    sort: str = "name",
    descending: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[int]:
    """Ids of the models matching ``query``, in ``sort`` order, one page of them."""
    rows = ordered_rows(db, query, sort=sort, descending=descending, limit=limit, offset=offset)
    return [int(r[0]) for r in rows]


def count(db: Reader, query: CatalogQuery) -> int:
    condition, params, _substring = where(db, query)
    row = db.execute(f"SELECT count(*) FROM models WHERE {condition}", params).fetchone()
    return int(row[0])
