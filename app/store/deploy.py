"""Deploy journal and audit trail in the local cache (migration 0005). The caller owns
the transaction; functions return domain objects."""

from __future__ import annotations

import json
from typing import cast

from sqlalchemy import Integer, String, Table, Text, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.deploy import GENESIS, AuditEntry, ServeConfig, chain_hash
from app.store.schema import Base


class JournalRow(Base):
    __tablename__ = "deploy_journal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str] = mapped_column(String, index=True)
    applied_at: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    app: Mapped[str] = mapped_column(String)
    fingerprint: Mapped[str] = mapped_column(String)
    config_json: Mapped[str] = mapped_column(Text)


class AuditRow(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String)
    user: Mapped[str] = mapped_column(String)
    identity: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    target: Mapped[str] = mapped_column(String)
    app: Mapped[str] = mapped_column(String)
    diff: Mapped[str] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String)
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String)
    hash: Mapped[str] = mapped_column(String)


journal_t = cast(Table, JournalRow.__table__)
audit_t = cast(Table, AuditRow.__table__)


def record_applied(
    con: Connection, *, target: str, at: str, action: str, app: str, config: ServeConfig
) -> None:
    con.execute(
        insert(journal_t).values(
            target=target,
            applied_at=at,
            action=action,
            app=app,
            fingerprint=config.fingerprint(),
            config_json=json.dumps(config.body(), sort_keys=True),
        )
    )


def journal(con: Connection, target: str) -> list[tuple[str, str, ServeConfig]]:
    """(applied_at, action, config) of every config applied to ``target``, newest first."""
    rows = con.execute(
        select(journal_t.c.applied_at, journal_t.c.action, journal_t.c.config_json)
        .where(journal_t.c.target == target)
        .order_by(journal_t.c.id.desc())
    ).all()
    out = []
    for at, action, raw in rows:
        body = json.loads(raw)
        apps = tuple(body.pop("applications", []))
        out.append((at, action, ServeConfig(body, apps)))
    return out


def append_audit(con: Connection, fields: dict[str, str]) -> AuditEntry:
    """Append one row chained to the last one (call inside a write transaction)."""
    last = con.execute(select(audit_t.c.hash).order_by(audit_t.c.id.desc()).limit(1)).scalar()
    prev = last or GENESIS
    digest = chain_hash(prev, fields)
    new_id = con.execute(
        insert(audit_t).values(**fields, prev_hash=prev, hash=digest)
    ).inserted_primary_key
    assert new_id is not None
    return AuditEntry(id=int(new_id[0]), prev_hash=prev, hash=digest, **fields)


def audit_entries(con: Connection, since: str | None = None) -> list[AuditEntry]:
    q = select(audit_t).order_by(audit_t.c.id)
    if since is not None:
        q = q.where(audit_t.c.at >= since)
    return [AuditEntry(**dict(r._mapping)) for r in con.execute(q)]
