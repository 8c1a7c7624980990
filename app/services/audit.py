"""The audit trail: an append-only, hash-chained log of every deploy action.

Each row stores sha256(previous row's hash + the canonical row), so editing, removing or
reordering a row breaks the chain at that row (``verify``).
"""

from __future__ import annotations

import csv
import getpass
import json
from datetime import UTC, datetime
from pathlib import Path

from app.domain.deploy import AuditEntry, verify_chain
from app.domain.errors import ConfigError
from app.store import deploy as store
from app.store.db import Cache

FIELDS = (
    "id",
    "at",
    "user",
    "identity",
    "action",
    "target",
    "app",
    "diff",
    "result",
    "detail",
    "prev_hash",
    "hash",
)


def now_iso() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry / no login name
        return "unknown"


class AuditService:
    def __init__(self, cache: Cache, user: str | None = None) -> None:
        self._cache = cache
        self.user = user or os_user()

    def record(
        self,
        *,
        action: str,
        target: str,
        app: str,
        diff: str,
        result: str,
        detail: str = "",
        identity: str = "",
    ) -> AuditEntry:
        fields = {
            "at": now_iso(),
            "user": self.user,
            "identity": identity,
            "action": action,
            "target": target,
            "app": app,
            "diff": diff,
            "result": result,
            "detail": detail,
        }
        with self._cache.write() as con:
            return store.append_audit(con, fields)

    def list(self, since: str | None = None) -> list[AuditEntry]:
        if since is not None:
            since = _normalize(since)
        with self._cache.read() as con:
            return store.audit_entries(con, since)

    def verify(self) -> str | None:
        """``None`` when the whole trail is intact, else the first broken row."""
        return verify_chain(self.list())

    def export(self, path: Path) -> int:
        entries = self.list()
        rows = [{f: getattr(e, f) for f in FIELDS} for e in entries]
        suffix = path.suffix.lower()
        if suffix == ".json":
            path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        elif suffix == ".csv":
            with path.open("w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=FIELDS)
                writer.writeheader()
                writer.writerows(rows)
        else:
            raise ConfigError(f"{path}: export to a .csv or .json file")
        return len(rows)


def _normalize(since: str) -> str:
    try:
        when = datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {since!r}: use an ISO time such as 2026-11-01T12:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
