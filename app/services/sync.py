"""Registries → local cache: full, incremental and quick syncs, and run data on demand.

Three kinds of pass, per registry:

``full``         every model with every version; models gone upstream are removed.
                 Chosen on request, on the first sync, and when the last full pass
                 is older than ``full_every`` (6 h by default).
``incremental``  models and versions changed since the stored cursor, then a sweep
                 of every model's header (tags, aliases, description) that fetches
                 complete models only where the cache differs, and removes models
                 gone upstream. Catches everything but version-tag edits, which
                 move no timestamp in MLflow (a full pass refreshes those).
``quick``        only the timestamp scans: two short requests when nothing changed.
                 For frequent background refreshes; misses alias/tag-only changes
                 and deletions until the next incremental or full pass.

Every page is committed in one transaction (a kill or a bad page never leaves
half a model; SQLite WAL lets the GUI read meanwhile). The cursor moves only
when a pass completes. A failure is recorded as the source's ``last_error``
and changes no data. Cancellation is checked between pages.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from app.adapters import registry
from app.adapters.catalog import CatalogSource
from app.adapters.http import HttpBackend
from app.domain.catalog import CatalogEntry, RunData, SyncProgress, SyncResult
from app.domain.errors import (
    BackendError,
    BackendNotFound,
    ConfigError,
    CredentialError,
    ModeldeckError,
)
from app.domain.kinds import Role
from app.domain.models import Backend, Credential, SourceState
from app.store import queries
from app.store import sync as sync_store
from app.store.db import Cache

log = logging.getLogger(__name__)

FULL, INCREMENTAL, QUICK = "full", "incremental", "quick"

#: ``threading.Event`` or any callable returning True once the caller wants to stop
Cancel = threading.Event | Callable[[], bool] | None
ProgressCallback = Callable[[SyncProgress], None]


class Backends(Protocol):
    """What the sync needs of the backends service (``app.services.backends``)."""

    def get(self, name: str) -> Backend: ...
    def list(self) -> list[Backend]: ...
    def connect_http(
        self, name: str, *, credential: Credential | None = None, retries: int = 3
    ) -> HttpBackend: ...


SourceFactory = Callable[[Backend, Backends], CatalogSource]


def default_source(backend: Backend, backends: Backends) -> CatalogSource:
    """The catalog adapter of ``backend``'s kind (``app.adapters.registry``); a kind with
    none is refused before anything is contacted."""
    registry.require(backend, Role.CATALOG)
    # without a usable keyring this connects with no secret (logged by connect_http)
    return registry.catalog_source(backend, backends.connect_http(backend.name))


class _Cancelled(Exception):
    pass


@dataclass
class _Tally:
    models_seen: int = 0
    models_added: int = 0
    models_updated: int = 0
    models_removed: int = 0
    versions_seen: int = 0
    versions_added: int = 0
    versions_updated: int = 0
    versions_removed: int = 0
    pages: int = 0
    requests: int = 0


T = TypeVar("T")


class SyncService:
    """Syncs configured registries into the cache. Synchronous and Qt-free: the GUI
    runs :meth:`sync` on a worker thread and passes ``progress`` and ``cancel``."""

    def __init__(
        self,
        cache: Cache,
        backends: Backends,
        *,
        source_factory: SourceFactory = default_source,
        full_every: timedelta = timedelta(hours=6),
        prefetch: bool = True,
        clock: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self._cache = cache
        self._backends = backends
        self._factory = source_factory
        self.full_every = full_every
        self._prefetch = prefetch
        self._clock = clock

    # ------------------------------------------------------------ public API
    def registries(self) -> list[Backend]:
        """Configured backends Modeldeck can sync as model registries."""
        return [b for b in self._backends.list() if registry.supports(b.kind, Role.CATALOG)]

    def sync(
        self,
        names: Sequence[str] | None = None,
        *,
        full: bool = False,
        quick: bool = False,
        progress: ProgressCallback | None = None,
        cancel: Cancel = None,
    ) -> list[SyncResult]:
        """Sync the registries ``names`` (all configured registries when empty), one
        after the other. Never raises for a registry that fails: its result carries
        the error (and the source's ``last_error`` records it). Raises ``ConfigError``
        / ``NotConfigured`` for a name that is not a configured registry."""
        if names:
            targets = [self._backends.get(n) for n in dict.fromkeys(names)]
            for b in targets:
                registry.require(b, Role.CATALOG)
        else:
            targets = self.registries()
        results: list[SyncResult] = []
        for backend in targets:
            if _is_set(cancel):
                results.append(
                    SyncResult(
                        backend.name, FULL if full else INCREMENTAL, ok=False, cancelled=True
                    )
                )
                continue
            results.append(
                self.sync_backend(backend, full=full, quick=quick, progress=progress, cancel=cancel)
            )
        return results

    def sync_backend(
        self,
        backend: Backend,
        *,
        full: bool = False,
        quick: bool = False,
        progress: ProgressCallback | None = None,
        cancel: Cancel = None,
    ) -> SyncResult:
        started = self._clock()
        t0 = time.monotonic()
        with self._cache.read() as con:
            state = queries.get_source(con, backend.name)
        mode = self._mode(state, full=full, quick=quick, now=started)
        tally = _Tally()
        run = _Run(self, backend, mode, tally, progress=progress, cancel=cancel, t0=t0)
        cursor: str | None = None
        try:
            source = self._factory(backend, self._backends)
            try:
                run.report("start")
                if mode == FULL:
                    cursor = run.full(source)
                else:
                    assert state is not None
                    assert state.cursor is not None
                    cursor = run.changed(source, state.cursor)
                    if mode == INCREMENTAL:
                        run.sweep(source)
            finally:
                source.close()
        except _Cancelled:
            log.info("%s: %s sync cancelled after %d pages", backend.name, mode, tally.pages)
            return self._result(backend, mode, tally, t0, started, ok=False, cancelled=True)
        except (BackendError, CredentialError, ConfigError) as exc:
            log.warning("%s: %s sync failed: %s", backend.name, mode, exc)
            self._record_error(backend, state, exc)
            return self._result(
                backend,
                mode,
                tally,
                t0,
                started,
                ok=False,
                error=str(exc),
                error_kind=type(exc).__name__,
            )
        with self._cache.write() as con:
            queries.save_source(
                con,
                SourceState(
                    name=backend.name,
                    kind=str(backend.kind),
                    url=backend.url,
                    last_sync_at=self._clock(),
                    last_full_sync_at=started
                    if mode == FULL
                    else (state.last_full_sync_at if state else None),
                    cursor=cursor,
                    last_error=None,
                ),
            )
        run.report("done")
        return self._result(backend, mode, tally, t0, started, cursor=cursor)

    def run_data(self, source: str, run_id: str, *, refresh: bool = True) -> RunData:
        """Params and metrics of ``run_id`` in registry ``source``: fetched (and cached)
        when the registry answers, else the cached copy marked ``stale``. With
        ``refresh=False`` a cached copy is returned without asking the registry."""
        with self._cache.read() as con:
            cached = sync_store.get_run(con, source, run_id)
        if cached is not None and not refresh:
            return cached
        try:
            backend = self._backends.get(source)
            src = self._factory(backend, self._backends)
            try:
                run = src.run_data(run_id)
            finally:
                src.close()
        except (BackendError, CredentialError, ConfigError) as exc:
            if cached is not None and not _is_missing(exc):
                log.info("%s: run %s from the cache (%s)", source, run_id, exc)
                return replace(cached, stale=True)
            raise
        run = replace(run, fetched_at=self._clock())
        with self._cache.write() as con:
            sync_store.save_run(con, run)
        return run

    # ------------------------------------------------------------ internals
    def _mode(self, state: SourceState | None, *, full: bool, quick: bool, now: datetime) -> str:
        if full or state is None or state.cursor is None or state.last_full_sync_at is None:
            return FULL
        if now - state.last_full_sync_at > self.full_every:
            return FULL
        return QUICK if quick else INCREMENTAL

    def _record_error(
        self, backend: Backend, state: SourceState | None, exc: ModeldeckError
    ) -> None:
        new = (
            replace(state, kind=str(backend.kind), url=backend.url, last_error=str(exc))
            if state
            else SourceState(
                name=backend.name, kind=str(backend.kind), url=backend.url, last_error=str(exc)
            )
        )
        with self._cache.write() as con:
            queries.save_source(con, new)

    def _result(
        self,
        backend: Backend,
        mode: str,
        tally: _Tally,
        t0: float,
        started: datetime,
        **kw: object,
    ) -> SyncResult:
        return SyncResult(
            source=backend.name,
            mode=mode,
            duration_s=round(time.monotonic() - t0, 3),
            started_at=started,
            models_seen=tally.models_seen,
            models_added=tally.models_added,
            models_updated=tally.models_updated,
            models_removed=tally.models_removed,
            versions_seen=tally.versions_seen,
            versions_added=tally.versions_added,
            versions_updated=tally.versions_updated,
            versions_removed=tally.versions_removed,
            pages=tally.pages,
            requests=tally.requests,
            **kw,  # type: ignore[arg-type]
        )


class _Run:
    """One pass over one registry: commits pages, counts, reports, honours cancel."""

    def __init__(
        self,
        service: SyncService,
        backend: Backend,
        mode: str,
        tally: _Tally,
        *,
        progress: ProgressCallback | None,
        cancel: Cancel,
        t0: float,
    ) -> None:
        self.s = service
        self.backend = backend
        self.name = backend.name
        self.mode = mode
        self.tally = tally
        self.progress = progress
        self.cancel = cancel
        self.t0 = t0

    def report(self, phase: str) -> None:
        if self.progress is None:
            return
        t = self.tally
        self.progress(
            SyncProgress(
                source=self.name,
                phase=phase,
                full=self.mode == FULL,
                pages=t.pages,
                models=t.models_seen,
                versions=t.versions_seen,
                requests=t.requests,
                elapsed_s=time.monotonic() - self.t0,
            )
        )

    def check(self) -> None:
        if _is_set(self.cancel):
            raise _Cancelled

    def commit(self, entries: Sequence[CatalogEntry], requests: int, phase: str) -> None:
        """Write one page of complete models in one transaction."""
        self.check()
        t = self.tally
        t.pages += 1
        t.requests += requests
        if entries:
            names = [e.model.name for e in entries]
            models = [e.model for e in entries]
            versions = {e.model.name: list(e.versions) for e in entries}
            with self.s._cache.write() as con:
                had = set(sync_store.cached_headers(con, self.name, names))
                had_versions = sync_store.cached_versions(con, self.name, names)
                r = queries.upsert_models(con, models, versions)
            added = len(set(names) - had)
            pairs = {(e.model.name, v.version) for e in entries for v in e.versions}
            v_added = len(pairs - had_versions)
            t.models_seen += len(entries)
            t.models_added += added
            t.models_updated += max(0, r.models_written - added)
            t.versions_seen += len(pairs)
            t.versions_added += v_added
            t.versions_updated += max(0, r.versions_written - v_added)
            t.versions_removed += r.versions_removed
        self.report(phase)

    def _pages(self, it: Iterator[T]) -> Iterator[T]:
        return _prefetched(it, self.cancel, f"sync-{self.name}") if self.s._prefetch else it

    def full(self, source: CatalogSource) -> str | None:
        seen: set[str] = set()
        cursor: str | None = None
        for page in self._pages(source.pages()):
            self.commit(page.entries, page.requests, "models")
            seen.update(e.model.name for e in page.entries)
            cursor = page.cursor
        self.remove_missing(source, seen)
        return cursor

    def changed(self, source: CatalogSource, since: str) -> str | None:
        cursor: str | None = since
        for page in self._pages(source.pages(since=since)):
            self.commit(page.entries, page.requests, "models")
            cursor = page.cursor or cursor
        return cursor

    def sweep(self, source: CatalogSource) -> None:
        """Compare every model's header with the cache; refetch only those that differ."""
        seen: set[str] = set()
        for heads in self._pages(source.heads()):
            self.check()
            self.tally.requests += 1
            names = [h.name for h in heads]
            seen.update(names)
            with self.s._cache.read() as con:
                cached = sync_store.cached_headers(con, self.name, names)
            differ = [
                h.name
                for h in heads
                if h.name not in cached or sync_store.header_of(h) != cached[h.name]
            ]
            if differ:
                self.commit(source.complete(differ), 1, "sweep")
            else:
                self.report("sweep")
        self.remove_missing(source, seen)

    def remove_missing(self, source: CatalogSource, seen: set[str]) -> None:
        """Remove cached models the pass did not see — after asking for them by name:
        MLflow pages by offset, so a deletion during the pass can shift a model
        past a page boundary; those still there are refreshed instead."""
        self.check()
        with self.s._cache.read() as con:
            missing = sorted(sync_store.cached_names(con, self.name) - seen)
        if not missing:
            return
        self.report("removing")
        still = source.complete(missing)
        if still:
            self.commit(still, 1, "removing")
        gone = set(missing) - {e.model.name for e in still}
        self.check()
        with self.s._cache.write() as con:
            self.tally.models_removed += queries.remove_models(con, self.name, sorted(gone))


def _is_set(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _is_missing(exc: ModeldeckError) -> bool:
    """Errors that say the run does not exist (no cached copy should hide that)."""
    return isinstance(exc, BackendNotFound)


_END = object()


def _prefetched(it: Iterator[T], cancel: Cancel, name: str, depth: int = 2) -> Iterator[T]:
    """Run ``it`` on a worker thread, ``depth`` items ahead: the next page is fetched
    and parsed while the current one is written (the server and SQLite overlap)."""
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in it:
                if stop.is_set() or _is_set(cancel) or not put(("item", item)):
                    return
            put(("end", _END))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises it
            put(("error", exc))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, value = q.get(timeout=0.1)
            except queue.Empty:
                if _is_set(cancel):
                    raise _Cancelled from None
                if not worker.is_alive() and q.empty():
                    raise _Cancelled from None
                continue
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        worker.join(timeout=30)
