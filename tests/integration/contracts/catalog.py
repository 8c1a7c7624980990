"""What every ``CatalogSource`` (``app.adapters.catalog``) must do, against a real registry.

Guarantees checked here, for any registry adapter:

* ``pages()`` hands out *complete* models: every version of each model, on one page,
  once per pass, with the model's header (tags, aliases, description) as seeded;
* a full pass finds every model; ``pages(since=cursor)`` finds at least every model
  created or given a new version after the pass that produced ``cursor``;
* ``heads()`` lists every model (the same names as a full pass) with its header;
* ``complete(names)`` returns exactly the existing models among ``names`` (odd names
  included, unknown ones left out); ``get_model`` of an unknown name is ``None``;
* ``run_data`` returns a run's params and latest metrics, and raises
  ``BackendNotFound`` for a run that does not exist;
* failures are only ``app.domain.errors.BackendError`` subclasses naming the backend
  (a closed port: ``Unreachable``); ``close()`` may be called twice.

Adding a backend = one adapter module + one registry entry + one contract subclass.

A subclass ``Test…(CatalogSourceContract)`` (the base has no ``Test`` prefix, so it is
not collected itself) runs them; it or its module provides the fixtures

``source``
    a connected adapter, built the way the sync service builds it (``wiring``);
``unreachable_source``
    the same kind of adapter configured at a loopback port where nothing listens;
``seeded``
    a :class:`SeededCatalog`: what the subclass created on the server through the
    backend's own API (not through the adapter) — models with and without versions,
    tags, aliases, odd names, and a run behind one version;
``writer``
    a :class:`CatalogWriter`: the backend's own API, to change the server mid-test.

The server may hold other models too (a session server is shared); every check is
about the seeded models, or compares two views of the same server.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pytest

from app.adapters.catalog import CatalogEntry, CatalogSource
from app.domain.errors import BackendError, BackendNotFound, Unreachable
from app.domain.models import RegisteredModel

#: names no registry holds, chosen to trip up filters: quotes, a backslash, LIKE
#: wildcards, unicode, spaces
ODD_UNKNOWN = (
    "no-such-model-{id}",
    "no such 'model' \"{id}\" \\ here",
    "no_such_%_{id}*",
    "ünïcödé {id} ✓",
)


@dataclass(frozen=True)
class SeededModel:
    """One model as the subclass created it."""

    name: str
    #: version identifiers (MLflow: "1", "2", ...)
    versions: frozenset[str] = frozenset()
    tags: Mapping[str, str] = field(default_factory=dict)
    #: alias → version
    aliases: Mapping[str, str] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class SeededRun:
    """A training run behind a seeded version."""

    run_id: str
    params: Mapping[str, str]
    #: the latest value of each metric
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class SeededCatalog:
    models: tuple[SeededModel, ...]
    run: SeededRun

    def __post_init__(self) -> None:
        assert any(m.versions for m in self.models), "seed a model with versions"
        assert any(not m.versions for m in self.models), "seed a model without versions"

    @property
    def names(self) -> set[str]:
        return {m.name for m in self.models}


class CatalogWriter(Protocol):
    """Changes made through the backend's own API (someone else using the registry)."""

    def create_model(self, name: str) -> None:
        """A new model without versions."""
        ...

    def add_version(self, name: str) -> str:
        """A new version of model ``name``; returns its identifier."""
        ...


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def full_pass(source: CatalogSource) -> tuple[dict[str, CatalogEntry], str | None]:
    """Every entry of one full pass by name (a name twice fails), and its cursor."""
    entries: dict[str, CatalogEntry] = {}
    cursors: set[str | None] = set()
    for page in source.pages():
        cursors.add(page.cursor)
        for entry in page.entries:
            assert entry.model.name not in entries, f"{entry.model.name!r} came twice in a pass"
            entries[entry.model.name] = entry
    assert len(cursors) <= 1, f"one pass gave different cursors: {cursors}"
    return entries, next(iter(cursors), None)


def assert_complete(entry: CatalogEntry, source_name: str) -> None:
    """``entry`` is one whole model: its versions are its own, each once, counted."""
    model = entry.model
    numbers = [v.version for v in entry.versions]
    assert len(numbers) == len(set(numbers)), f"{model.name}: a version twice: {numbers}"
    assert model.source == source_name
    assert model.version_count == len(entry.versions), model.name
    for v in entry.versions:
        assert (v.source, v.model_name) == (source_name, model.name)
    if entry.versions:
        assert model.latest_version == max(entry.versions, key=lambda v: v.number).version
    else:
        assert model.latest_version is None, model.name
    for alias, version in model.aliases.items():
        holder = next((v for v in entry.versions if v.version == version), None)
        assert holder is not None, f"{model.name}: alias {alias} → missing version {version}"
        assert alias in holder.aliases, f"{model.name} v{version} lacks alias {alias}"


def assert_header(model: RegisteredModel, seeded: SeededModel) -> None:
    """The fields a user sees on the model's row are what was seeded."""
    assert model.name == seeded.name
    assert dict(model.tags) == dict(seeded.tags), model.name
    assert dict(model.aliases) == dict(seeded.aliases), model.name
    assert model.description == seeded.description, model.name


def assert_matches(entry: CatalogEntry, seeded: SeededModel, source_name: str) -> None:
    assert_complete(entry, source_name)
    assert_header(entry.model, seeded)
    assert {v.version for v in entry.versions} == set(seeded.versions), seeded.name


def backend_errors_only(call: Callable[[], Any]) -> Any:
    """Run ``call``; anything it raises must be a ``BackendError`` (re-raised as is)."""
    try:
        return call()
    except BackendError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: nothing else escapes an adapter
        pytest.fail(f"raised {type(exc).__name__} (not a BackendError): {exc}")


def _drain(items: Iterable[Any]) -> list[Any]:
    return list(items)


class CatalogSourceContract:
    """The tests every ``CatalogSource`` passes; see the module docstring."""

    def test_is_a_catalog_source(self, source: CatalogSource) -> None:
        assert isinstance(source, CatalogSource)
        assert source.name

    def test_full_pass_finds_every_seeded_model_complete(
        self, source: CatalogSource, seeded: SeededCatalog
    ) -> None:
        entries, _cursor = full_pass(source)
        assert seeded.names <= set(entries), f"missing: {seeded.names - set(entries)}"
        for model in seeded.models:
            assert_matches(entries[model.name], model, source.name)

    def test_every_page_holds_complete_models(
        self, source: CatalogSource, seeded: SeededCatalog
    ) -> None:
        pages = list(source.pages())
        assert pages, "a full pass yields at least one page"
        assert sum(len(p.entries) for p in pages) >= len(seeded.models)
        for page in pages:
            assert page.requests >= 0
            for entry in page.entries:
                assert_complete(entry, source.name)

    def test_get_model_gives_the_same_complete_model_as_a_pass(
        self, source: CatalogSource, seeded: SeededCatalog
    ) -> None:
        entries, _cursor = full_pass(source)
        for model in seeded.models:
            got = source.get_model(model.name)
            assert got is not None, model.name
            assert_matches(got, model, source.name)
            assert got == entries[model.name]

    def test_get_model_of_an_unknown_name_is_none(self, source: CatalogSource) -> None:
        token = uuid.uuid4().hex[:8]
        for pattern in ODD_UNKNOWN:
            name = pattern.format(id=token)
            assert backend_errors_only(functools.partial(source.get_model, name)) is None, name

    def test_incremental_pass_returns_at_least_the_changed_models(
        self, source: CatalogSource, writer: CatalogWriter
    ) -> None:
        grown, quiet = _unique("contract-grown"), _unique("contract-quiet")
        writer.create_model(grown)
        first = writer.add_version(grown)
        writer.create_model(quiet)
        before, cursor = full_pass(source)
        assert {grown, quiet} <= set(before)
        assert cursor is not None, "a pass over a non-empty registry gives a cursor"

        second = writer.add_version(grown)
        born = _unique("contract-born")
        writer.create_model(born)

        changed: dict[str, CatalogEntry] = {}
        for page in source.pages(since=cursor):
            for entry in page.entries:
                assert_complete(entry, source.name)
                changed[entry.model.name] = entry
        assert {grown, born} <= set(changed), f"got {sorted(changed)}"
        assert {v.version for v in changed[grown].versions} == {first, second}
        assert changed[born].versions == ()

    def test_a_cursor_that_does_not_fit_is_a_backend_error(self, source: CatalogSource) -> None:
        with pytest.raises(BackendError) as err:
            backend_errors_only(lambda: _drain(source.pages(since="not a cursor ✗")))
        assert source.name in str(err.value)

    def test_heads_cover_every_model_without_versions(
        self, source: CatalogSource, seeded: SeededCatalog
    ) -> None:
        entries, _cursor = full_pass(source)
        heads: dict[str, RegisteredModel] = {}
        for page in source.heads():
            for head in page:
                assert head.name not in heads, f"{head.name!r} came twice in heads()"
                assert head.source == source.name
                heads[head.name] = head
        assert set(heads) == set(entries)
        for model in seeded.models:
            assert_header(heads[model.name], model)

    def test_complete_returns_the_existing_models_and_leaves_out_unknown_names(
        self, source: CatalogSource, seeded: SeededCatalog
    ) -> None:
        token = uuid.uuid4().hex[:8]
        unknown = [p.format(id=token) for p in ODD_UNKNOWN]
        asked = [*unknown[:2], *sorted(seeded.names), *unknown[2:]]
        got = backend_errors_only(lambda: source.complete(asked))
        by_name = {e.model.name: e for e in got}
        assert len(by_name) == len(got), "a model twice"
        assert set(by_name) == seeded.names
        for model in seeded.models:
            assert_matches(by_name[model.name], model, source.name)
        assert backend_errors_only(lambda: source.complete(unknown)) == ()
        assert backend_errors_only(lambda: source.complete([])) == ()

    def test_complete_matches_each_name_exactly(
        self, source: CatalogSource, seeded: SeededCatalog
    ) -> None:
        """Names that a filter would have to escape or approximate (quotes, backslashes,
        wildcards) come back alone: never a look-alike neighbour."""
        for model in seeded.models:
            got = source.complete([model.name])
            assert [e.model.name for e in got] == [model.name]

    def test_run_data_of_a_seeded_run(self, source: CatalogSource, seeded: SeededCatalog) -> None:
        run = source.run_data(seeded.run.run_id)
        assert run.source == source.name
        assert run.run_id == seeded.run.run_id
        assert dict(run.params) == dict(seeded.run.params)
        assert dict(run.metrics) == pytest.approx(dict(seeded.run.metrics))

    def test_run_data_of_an_unknown_run_is_backend_not_found(self, source: CatalogSource) -> None:
        with pytest.raises(BackendNotFound) as err:
            backend_errors_only(lambda: source.run_data(uuid.uuid4().hex))
        assert err.value.backend == source.name
        assert source.name in str(err.value)

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda s: _drain(s.pages()), id="pages"),
            pytest.param(lambda s: _drain(s.heads()), id="heads"),
            pytest.param(lambda s: s.complete(["some-model"]), id="complete"),
            pytest.param(lambda s: s.get_model("some-model"), id="get_model"),
            pytest.param(lambda s: s.run_data(uuid.uuid4().hex), id="run_data"),
        ],
    )
    def test_a_closed_port_is_unreachable_naming_the_backend(
        self, unreachable_source: CatalogSource, call: Callable[[CatalogSource], Any]
    ) -> None:
        with pytest.raises(Unreachable) as err:
            backend_errors_only(lambda: call(unreachable_source))
        assert err.value.backend == unreachable_source.name
        assert str(err.value).startswith(f"{unreachable_source.name}: ")

    def test_close_is_safe_twice(self, source: CatalogSource, seeded: SeededCatalog) -> None:
        assert source.get_model(seeded.models[0].name) is not None
        source.close()
        source.close()

    def test_close_of_an_unused_source(self, unreachable_source: CatalogSource) -> None:
        unreachable_source.close()
        unreachable_source.close()
