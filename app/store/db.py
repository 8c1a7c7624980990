"""Open the cache file: check it, set a bad one aside, migrate, hand out connections.

The check before opening uses the plain ``sqlite3`` driver (cheap); SQLAlchemy
is imported and the engine built on first use, and alembic only when a migration
is actually due, so opening an up-to-date cache costs a few milliseconds and the
GUI can paint its first screen (through ``app.store.browse``) before either loads.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.domain.errors import CacheCorrupt, CacheError
from app.store.revisions import head_revision, known_revisions

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

_SQLITE_MAGIC = b"SQLite format 3\x00"
_MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class CacheProbe:
    """What a quick look at a cache file found."""

    revision: str | None  # None: no file or an empty database
    problem: str | None  # why the file cannot be used, or None


def probe(path: Path) -> CacheProbe:
    """Look at ``path`` without changing it: is it a usable cache, which revision?"""
    if not path.exists() or path.stat().st_size == 0:
        return CacheProbe(None, None)
    with path.open("rb") as fh:
        if fh.read(16) != _SQLITE_MAGIC:
            return CacheProbe(None, "it is not an SQLite database")
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables:
                if tables:
                    return CacheProbe(None, "it is a database of some other program")
                return CacheProbe(None, None)
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
            if "models" in tables:
                con.execute("SELECT count(*) FROM models").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return CacheProbe(None, f"SQLite cannot read it ({exc})")
    if revision is not None and revision not in known_revisions():
        return CacheProbe(revision, f"it was written by a newer Modeldeck (schema {revision})")
    return CacheProbe(revision, None)


def set_aside(path: Path, reason: str) -> Path:
    """Move ``path`` (and its -wal/-shm companions) to a dated name beside it; never delete."""
    stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.{reason}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.{reason}-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


def _on_connect(dbapi_con: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(path: Path) -> Engine:
    from sqlalchemy import create_engine, event

    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _on_connect)
    return engine


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as con:
        cfg.attributes["connection"] = con
        command.upgrade(cfg, "head")


class Cache:
    """The open cache: an engine plus what happened while opening it.

    ``notice`` is a one-line message for the user when the file had to be set
    aside (the CLI prints it on stderr, the GUI shows it in a banner).
    """

    def __init__(self, path: Path, engine: Engine | None = None, notice: str | None = None) -> None:
        self.path = path
        self._engine = engine
        self.notice = notice

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, built (and SQLAlchemy imported) on first use."""
        if self._engine is None:
            self._engine = make_engine(self.path)
        return self._engine

    @classmethod
    def open(cls, path: Path) -> Cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        found = probe(path)
        notice = None
        if found.problem is not None:
            reason = "newer" if found.revision is not None else "corrupt"
            moved = set_aside(path, reason)
            notice = (
                f"The cache {path} could not be used: {found.problem}. It was moved to "
                f"{moved.name} and a fresh cache was created; run a sync to fill it."
            )
            log.warning("%s", notice)
            found = CacheProbe(None, None)
        cache = cls(path, None, notice)
        if found.revision != head_revision():
            from sqlalchemy.exc import DatabaseError as SADatabaseError

            try:
                _upgrade(cache.engine)
            except SADatabaseError as exc:
                cache.close()
                raise CacheCorrupt(f"cannot create or migrate the cache {path}: {exc}") from exc
        return cache

    @property
    def schema_version(self) -> str:
        return head_revision()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads (autobegin; rolled back at the end)."""
        from sqlalchemy.exc import DatabaseError as SADatabaseError

        try:
            with self.engine.connect() as con:
                yield con
        except SADatabaseError as exc:
            raise CacheError(f"cannot read the cache {self.path}: {exc.orig}") from exc

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed whole at the end, or rolled back whole."""
        from sqlalchemy.exc import DatabaseError as SADatabaseError

        try:
            with self.engine.begin() as con:
                yield con
        except SADatabaseError as exc:
            raise CacheError(f"cannot write the cache {self.path}: {exc.orig}") from exc

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
