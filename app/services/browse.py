"""The catalog browser's engine: every cached model in memory, searched per keystroke.

Design (docs/performance.md, measured at 100,000 models):

* The display columns of all models are read once (``load``, on a worker
  thread) into plain lists for painting and numpy arrays for filtering and
  sorting. Before that, ``first_screen`` reads one screenful through the plain
  ``sqlite3`` driver so the window can paint before numpy is imported.
* A keystroke is one FTS5 lookup (row ids) mapped into those columns, combined
  with facet masks; a sort is a cached permutation per column; the view is
  ``perm[mask[perm]]``. No SQL ``ORDER BY``, no proxy model.
* Facet counts are disjunctive (Algolia/Linear style): values of one facet
  combine with OR, facets with AND, and each facet's counts ignore its own
  selection so the other values stay reachable.

Synchronous and Qt-free like every service; the UI decides what runs where.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from app.domain.errors import CacheError
from app.domain.models import CatalogQuery
from app.store import browse as store
from app.store import catalog_query as engine

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from app.domain.health import HealthStatus

    BoolArray = npt.NDArray[np.bool_]
    IntArray = npt.NDArray[np.int64]

#: facet id → title, in sidebar order
FACETS: dict[str, str] = {
    "owner": "Owner",
    "flavor": "Flavor",
    "tag": "Tag",
    "alias": "Alias",
    "stage": "Stage",
    "source": "Registry",
    "deployed": "Deployed",
}
SINGLE_VALUED = ("owner", "flavor", "source", "deployed")
MULTI_VALUED = ("tag", "alias", "stage")
#: keys the browser can sort by: the CLI's too, one list (``app.store.catalog_query``)
SORT_KEYS = engine.SORT_KEYS
#: tags shown in the table's Tags column are all but these (they have columns of their own)
HIDDEN_TAGS = engine.HIDDEN_TAGS
NONE_LABEL = "(none)"
_alias_order = engine.alias_order


@dataclass
class CatalogIndex:
    """The display columns of the cached models, row ``i`` across every list.

    ``complete`` is False for the first screen (a few rows, lists only); a
    complete index also has the numpy arrays that filtering and sorting use.
    """

    ids: list[int]
    source: list[str]
    name: list[str]
    latest: list[str | None]
    owner: list[str | None]
    flavor: list[str | None]
    updated_ms: list[int | None]
    version_count: list[int]
    tags_json: list[str]
    tags_text: list[str]
    aliases: list[tuple[tuple[str, str], ...]]
    deployed_on: list[str]
    total: int
    #: row → the ``(target, app)`` of each of its deployments (deployed rows only)
    deployments: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    complete: bool = False
    #: facet → value labels by code (code order = sorted value order)
    values: dict[str, list[str]] = field(default_factory=dict)
    #: single-valued facet → code per row (-1: none)
    codes: dict[str, Any] = field(default_factory=dict)
    #: multi-valued facet → (rows, codes) pairs
    pairs: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: global count per facet value (for the sidebar's order)
    global_counts: dict[str, list[int]] = field(default_factory=dict)
    created_ms: list[int | None] = field(default_factory=list)
    row_of_id: Any = None
    name_rank: Any = None
    _orders: dict[tuple[str, bool], Any] = field(default_factory=dict, repr=False)
    _rank_cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _names_blob: tuple[str, list[int]] | None = field(default=None, repr=False)
    _tag_pairs: tuple[list[int], list[str]] = field(default=([], []), repr=False)
    _row_by_key: dict[tuple[str, str], int] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def row(self, source: str, name: str) -> int | None:
        """The row of a model (a dict built on first use, not a scan per call)."""
        if self._row_by_key is None or len(self._row_by_key) != len(self.ids):
            self._row_by_key = {
                k: i for i, k in enumerate(zip(self.source, self.name, strict=True))
            }
        return self._row_by_key.get((source, name))


@dataclass(frozen=True)
class BrowseRequest:
    text: str = ""
    #: facet → selected values (labels as in ``CatalogIndex.values``)
    selections: Mapping[str, frozenset[str]] = field(default_factory=dict)
    sort: str = "updated"
    descending: bool = True


@dataclass(frozen=True)
class BrowseResult:
    #: index rows in view order (a numpy array: 100,000 of them are not turned into ints)
    rows: IntArray
    query: CatalogQuery
    #: lower-cased words to highlight in names
    terms: tuple[str, ...] = ()
    #: True when free text found nothing as a prefix and a substring search ran instead
    substring: bool = False
    #: facet → count per value code, with disjunctive semantics
    counts: dict[str, list[int]] = field(default_factory=dict)
    #: free text found no prefix match and the substring fallback has not run yet
    pending: bool = False
    #: what ``facet_counts`` needs when ``search(counts=False)`` left them out:
    #: the text/field mask and the mask of each selected facet
    scope: tuple[BoolArray | None, dict[str, BoolArray]] | None = field(
        default=None, repr=False, compare=False
    )


class BrowseService:
    """Loads and searches the catalog browser's in-memory index of the cache file."""

    FIRST_SCREEN_ROWS = 80

    def __init__(self, cache_path: Path) -> None:
        self._path = cache_path
        self._local = threading.local()
        self._fts_memo: dict[str, tuple[str, bool]] = {}
        self._memo_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def _con(self) -> sqlite3.Connection | None:
        """This thread's read-only connection (None while the cache file is absent)."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            if not self._path.exists():
                return None
            try:
                con = store.connect(self._path)
            except sqlite3.OperationalError:
                return None
            self._local.con = con
        return con

    def invalidate(self) -> None:
        """Forget memoized lookups (after a sync changed the cache)."""
        with self._memo_lock:
            self._fts_memo.clear()

    # ---------------------------------------------------------------- loading
    def first_screen(self, sort: str = "updated", descending: bool = True) -> CatalogIndex:
        """One screenful in the requested order, cheap enough to run before first paint."""
        with _cache_errors(self._path):
            return self._first_screen(sort, descending)

    def _first_screen(self, sort: str, descending: bool) -> CatalogIndex:
        con = self._con()
        if con is None or not store.has_models_table(con):
            return _build_lists([], [], total=0)
        rows = store.read_models(
            con, order=sort, descending=descending, limit=self.FIRST_SCREEN_ROWS
        )
        total = store.count_models(con)
        return _build_lists(rows, store.read_model_deployments(con), total=total)

    def load(self) -> CatalogIndex:
        """Every cached model, with facet codes and sort ranks (≈1 s at 100k; a worker's job)."""
        with _cache_errors(self._path):
            return self._load()

    def _load(self) -> CatalogIndex:
        con = self._con()
        if con is None or not store.has_models_table(con):
            index = _build_lists([], [], total=0)
            _add_arrays(index, [])
            return index
        self.invalidate()
        rows = store.read_models(con)
        index = _build_lists(rows, store.read_model_deployments(con), total=len(rows))
        _add_arrays(index, store.read_stages(con))
        return index

    # ---------------------------------------------------------------- search
    def search(
        self,
        index: CatalogIndex,
        request: BrowseRequest,
        *,
        fallback: bool = True,
        counts: bool = True,
    ) -> BrowseResult:
        """The rows of ``index`` matching ``request``, in its sort order, and facet counts.

        Runs inline on the UI thread: at 100,000 models a keystroke costs a few
        ms here (bench/catalog_ui.py measures it end to end). The substring fallback
        scans every description (≈70 ms): with ``fallback=False`` it is skipped and
        the result says ``pending`` so the caller can run it on a worker. With
        ``counts=False`` the facet counts are left for ``facet_counts`` (the UI
        computes them after the table has painted)."""
        import numpy as np

        query = CatalogQuery.parse(request.text)
        if not index.complete:
            rows = np.arange(len(index) if query.is_empty else 0, dtype=np.int64)
            return BrowseResult(rows, query)
        n = len(index)
        base: BoolArray | None = None
        substring = False
        terms: tuple[str, ...] = ()
        if query.text:
            found = self._text_ids(query.text, fallback)
            if found is None:
                return BrowseResult(np.empty(0, dtype=np.int64), query, pending=True)
            ids, substring = found
            mask = np.zeros(n, dtype=bool)
            if ids:
                id_arr = np.fromstring(ids, dtype=np.int64, sep=",")
                id_arr = id_arr[id_arr < len(index.row_of_id)]
                hit = index.row_of_id[id_arr]
                mask[hit[hit >= 0]] = True
            base = mask
            if substring:
                terms = (query.text.strip('"').lower(),)
            else:
                terms = tuple(w.strip('"').lower() for w in query.text.split() if w.strip('"'))
        for extra in _query_masks(index, query):
            base = extra if base is None else base & extra
        facet_masks = {
            facet: _facet_mask(index, facet, values)
            for facet, values in request.selections.items()
            if values and facet in FACETS
        }
        final = base
        for m in facet_masks.values():
            final = m if final is None else final & m
        perm = self.order(index, request.sort, request.descending)
        view = perm if final is None else perm[final[perm]]
        return BrowseResult(
            view,
            query,
            terms,
            substring,
            _facet_counts(index, base, facet_masks) if counts else {},
            scope=(base, facet_masks),
        )

    def facet_counts(self, index: CatalogIndex, result: BrowseResult) -> dict[str, list[int]]:
        """Facet → count per value code for ``result``, with disjunctive semantics."""
        if result.counts or result.scope is None or not index.complete:
            return result.counts
        return _facet_counts(index, *result.scope)

    def _text_ids(self, text: str, fallback: bool = True) -> tuple[str, bool] | None:
        """FTS prefix match, else the substring fallback; memoized per text, since a
        facet click or a sort re-runs the same words."""
        key = text.strip()
        with self._memo_lock:
            hit = self._fts_memo.get(key)
        if hit is not None:
            return hit
        con = self._con()
        if con is None:
            return "", False
        found = engine.text_ids(con, text, fallback=fallback)
        if found is None:
            return None
        with self._memo_lock:
            if len(self._fts_memo) > 256:
                self._fts_memo.clear()
            self._fts_memo[key] = found
        return found

    def warm_orders(self, index: CatalogIndex) -> None:
        """Compute every sort permutation ahead of the first click (worker thread)."""
        for key in SORT_KEYS:
            for descending in (False, True):
                self.order(index, key, descending)

    def order(self, index: CatalogIndex, key: str, descending: bool) -> IntArray:
        """The permutation of every row sorted by ``key`` as ``catalog_query`` defines
        it (ties by name, then registry, ascending either way; the CLI's order),
        cached per (key, direction): the second sort by a column is a lookup."""
        import numpy as np

        if key not in SORT_KEYS:
            key = "updated"
        cached = index._orders.get((key, descending))
        if cached is not None:
            return cast("IntArray", cached)
        primary = _primary(index, key)
        perm = np.lexsort((index.name_rank, -primary if descending else primary)).astype(np.int64)
        index._orders[(key, descending)] = perm
        return perm

    # ------------------------------------------------------------------ misc
    def description(self, index: CatalogIndex, row: int) -> str:
        con = self._con()
        return store.description_of(con, index.ids[row]) if con is not None else ""

    def find_names(self, index: CatalogIndex, text: str, limit: int = 20) -> list[int]:
        """Rows whose name contains ``text`` (case-insensitive), prefix matches first —
        for the command palette's "Go to model"."""
        needle = text.strip().lower()
        if not needle or not index.complete:
            return []
        if index._names_blob is None:
            starts: list[int] = []
            pos = 0
            for name in index.name:
                starts.append(pos)
                pos += len(name) + 1
            index._names_blob = ("\n".join(index.name).lower(), starts)
        blob, starts = index._names_blob
        hits: list[int] = []
        at = blob.find(needle)
        while at != -1 and len(hits) < limit * 20:
            row = bisect_right(starts, at) - 1
            if not hits or hits[-1] != row:
                hits.append(row)
            at = blob.find(needle, starts[row + 1] if row + 1 < len(starts) else len(blob))
        hits.sort(key=lambda r: (not index.name[r].lower().startswith(needle), len(index.name[r])))
        return hits[:limit]

    def cached_runs(self, source: str, run_ids: Sequence[str]) -> dict[str, store.CachedRun]:
        """Run params/metrics already in the cache; never asks a registry."""
        con = self._con()
        return store.read_runs(con, source, run_ids) if con is not None else {}

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


def model_health(
    index: CatalogIndex, statuses: Mapping[tuple[str, str], HealthStatus]
) -> dict[tuple[str, str], HealthStatus]:
    """``(source, name)`` → the worst known status over the model's deployments.

    ``statuses`` is by deployment ``(target, app)`` (``HealthService.known_statuses``,
    a fleet report); a deployment maps to models as the Deployed column does (a
    deployment without a registry counts for every registry's model of that name).
    Models none of whose deployments has a known status are left out."""
    if not statuses:
        return {}
    out: dict[tuple[str, str], HealthStatus] = {}
    for row, apps in index.deployments.items():
        known = [statuses[a] for a in apps if a in statuses]
        if known:
            out[(index.source[row], index.name[row])] = max(known, key=lambda s: s.severity)
    return out


# ------------------------------------------------------------------ building
def _build_lists(
    rows: Sequence[store.ModelTuple],
    deployments: Sequence[tuple[int, str, str]],
    *,
    total: int,
) -> CatalogIndex:
    where: dict[int, list[tuple[str, str]]] = {}
    for model_id, target, app in deployments:
        where.setdefault(model_id, []).append((target, app))
    loads = json.loads
    n = len(rows)
    ids: list[int] = [0] * n
    source: list[str] = [""] * n
    name: list[str] = [""] * n
    latest: list[str | None] = [None] * n
    owner: list[str | None] = [None] * n
    flavor: list[str | None] = [None] * n
    updated: list[int | None] = [None] * n
    created: list[int | None] = [None] * n
    count: list[int] = [0] * n
    tags_json: list[str] = [""] * n
    tags_text: list[str] = [""] * n
    aliases: list[tuple[tuple[str, str], ...]] = [()] * n
    deployed: list[str] = [""] * n
    apps: dict[int, tuple[tuple[str, str], ...]] = {}
    alias_memo: dict[str, tuple[tuple[str, str], ...]] = {}
    tag_rows: list[int] = []
    tag_vals: list[str] = []
    for i, r in enumerate(rows):
        ids[i], source[i], name[i], latest[i], owner[i], flavor[i] = (
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
        )
        updated[i], count[i], tags_json[i], created[i] = r[6], r[7], r[8], r[10]
        tags = loads(r[8])
        pairs = [engine.tag_label(k, v) for k, v in sorted(tags.items())]
        tag_vals += pairs
        tag_rows += [i] * len(pairs)
        tags_text[i] = engine.tags_text(tags)
        a = alias_memo.get(r[9])
        if a is None:
            a = tuple(sorted(loads(r[9]).items(), key=engine.alias_order))
            alias_memo[r[9]] = a
        aliases[i] = a
        mine = where.get(r[0])
        if mine:
            deployed[i] = engine.deployed_text(t for t, _a in mine)
            apps[i] = tuple(mine)
    return CatalogIndex(
        ids=ids,
        source=source,
        name=name,
        latest=latest,
        owner=owner,
        flavor=flavor,
        updated_ms=updated,
        version_count=count,
        tags_json=tags_json,
        tags_text=tags_text,
        aliases=aliases,
        deployed_on=deployed,
        total=total,
        deployments=apps,
        created_ms=created,
        _tag_pairs=(tag_rows, tag_vals),
    )


def _codes(values: Sequence[str | None]) -> tuple[list[str], list[int]]:
    labels = sorted({v for v in values if v is not None})
    lookup = {v: i for i, v in enumerate(labels)}
    return labels, [lookup[v] if v is not None else -1 for v in values]


def _add_arrays(index: CatalogIndex, stages: Sequence[tuple[int, str]]) -> None:
    import numpy as np

    n = len(index)
    ids = np.asarray(index.ids, dtype=np.int64)
    row_of_id = np.full(int(ids.max()) + 1 if n else 1, -1, dtype=np.int64)
    row_of_id[ids] = np.arange(n, dtype=np.int64)
    index.row_of_id = row_of_id
    for facet, column in (
        ("owner", index.owner),
        ("flavor", index.flavor),
        ("source", index.source),
    ):
        labels, codes = _codes(column)
        index.values[facet] = labels
        index.codes[facet] = np.asarray(codes, dtype=np.int64)
    index.values["deployed"] = list(engine.DEPLOYED_LABELS)
    index.codes["deployed"] = np.asarray([1 if d else 0 for d in index.deployed_on], dtype=np.int64)

    # multi-valued facets: (row, code) pairs
    tag_rows, tag_vals = index._tag_pairs
    index._tag_pairs = ([], [])
    alias_rows = [i for i, a in enumerate(index.aliases) for _ in a]
    alias_vals = [alias for a in index.aliases for alias, _v in a]
    stage_rows: list[int] = []
    stage_vals: list[str] = []
    for model_id, stage in stages:
        if model_id < len(row_of_id) and row_of_id[model_id] >= 0:
            stage_rows.append(int(row_of_id[model_id]))
            stage_vals.append(stage)
    for facet, rows, vals in (
        ("tag", tag_rows, tag_vals),
        ("alias", alias_rows, alias_vals),
        ("stage", stage_rows, stage_vals),
    ):
        labels, codes = _codes(vals)
        index.values[facet] = labels
        index.pairs[facet] = (
            np.asarray(rows, dtype=np.int64),
            np.asarray(codes, dtype=np.int64),
        )
    for facet in FACETS:
        index.global_counts[facet] = _count(index, facet, None)
    # ties break by (name, registry), as the cache's ORDER BY does
    index.name_rank = _rank(
        index, "name_source", [f"{a}\0{b}" for a, b in zip(index.name, index.source, strict=True)]
    )
    index.complete = True


def _rank(index: CatalogIndex, key: str, values: Sequence[Any]) -> IntArray:
    """Dense rank of ``values`` (None first, as SQLite sorts NULL)."""
    import numpy as np

    cached = index._rank_cache.get(key)
    if cached is not None:
        return cast("IntArray", cached)
    distinct = sorted({v for v in values if v is not None})
    lookup = {v: i for i, v in enumerate(distinct)}
    ranked = np.fromiter(
        (lookup[v] if v is not None else -1 for v in values), dtype=np.int64, count=len(values)
    )
    index._rank_cache[key] = ranked
    return ranked


def _primary(index: CatalogIndex, key: str) -> IntArray:
    """Each row's value for sort ``key`` as an integer rank (None lowest)."""
    import numpy as np

    if key in ("owner", "flavor", "source"):
        return cast("IntArray", index.codes[key])  # codes follow sorted values, -1: None
    if key == "name":
        return _rank(index, key, index.name)
    if key in ("updated", "created", "versions"):
        column: Sequence[int | None] = index.updated_ms
        if key == "created":
            column = index.created_ms
        elif key == "versions":
            column = index.version_count
        if len(column) != len(index):  # an index built without the column
            return np.zeros(len(index), dtype=np.int64)
        return np.fromiter(
            (v if v is not None else -(2**62) for v in column), dtype=np.int64, count=len(index)
        )
    if key == "latest":
        return np.fromiter(
            (engine.version_number(v) for v in index.latest), dtype=np.int64, count=len(index)
        )
    if key == "aliases":
        return _rank(index, key, [engine.aliases_text(al) for al in index.aliases])
    if key == "tags":
        return _rank(index, key, index.tags_text)
    return _rank(index, key, index.deployed_on)  # deployed


# ------------------------------------------------------------------ filtering
def _value_codes(index: CatalogIndex, facet: str, wanted: Callable[[str], bool]) -> list[int]:
    return [i for i, label in enumerate(index.values.get(facet, ())) if wanted(label)]


def _rows_with(index: CatalogIndex, facet: str, codes: Sequence[int]) -> BoolArray:
    import numpy as np

    n = len(index)
    if facet in SINGLE_VALUED:
        return np.isin(index.codes[facet], codes)
    mask = np.zeros(n, dtype=bool)
    rows, pair_codes = index.pairs[facet]
    if codes and len(rows):
        mask[rows[np.isin(pair_codes, codes)]] = True
    return mask


def _facet_mask(index: CatalogIndex, facet: str, values: frozenset[str]) -> BoolArray:
    return _rows_with(index, facet, _value_codes(index, facet, values.__contains__))


def _query_masks(index: CatalogIndex, query: CatalogQuery) -> list[BoolArray]:
    """A mask per field term: the rows having a value of the term's field that
    ``catalog_query.value_matches`` (the CLI's definition) — over the facet labels."""
    return [
        _rows_with(
            index, term.field, _value_codes(index, term.field, partial(engine.value_matches, term))
        )
        for term in engine.field_terms(query)
    ]


def _facet_counts(
    index: CatalogIndex, base: BoolArray | None, facet_masks: Mapping[str, BoolArray]
) -> dict[str, list[int]]:
    counts: dict[str, list[int]] = {}
    for facet in FACETS:
        scope = base
        for other, m in facet_masks.items():
            if other != facet:
                scope = m if scope is None else scope & m
        counts[facet] = _count(index, facet, scope)
    return counts


def _count(index: CatalogIndex, facet: str, scope: BoolArray | None) -> list[int]:
    import numpy as np

    size = len(index.values.get(facet, ()))
    if size == 0:
        return []
    if facet in SINGLE_VALUED:
        codes = index.codes[facet]
        picked = codes if scope is None else codes[scope]
        picked = picked[picked >= 0]
    else:
        rows, pair_codes = index.pairs[facet]
        picked = pair_codes if scope is None else pair_codes[scope[rows]]
    counted: list[int] = np.bincount(picked, minlength=size).tolist()
    return counted


@contextmanager
def _cache_errors(path: Path) -> Iterator[None]:
    """A cache the driver cannot read is a ``CacheError`` the page can show, not a bug."""
    try:
        yield
    except sqlite3.Error as exc:
        raise CacheError(f"the catalog cache {path} cannot be read: {exc}") from exc
