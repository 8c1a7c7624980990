"""Writes to model registries — aliases, tags, descriptions — through the ``CatalogSource``
role, the same plan → confirm → write once → re-read pattern as deploys.

``plan(change)`` reads the model from the registry itself (never the cache), refuses
what cannot be done (a write the registry has no capability for, an unknown version,
removing an alias or tag that is not there) and returns the readable diff with the
fingerprint of the one piece of state it read. ``apply(plan)`` re-reads; when that
piece moved upstream it raises ``Conflict`` and writes nothing. Otherwise it writes
once (never retried: when the reply is lost it re-reads to tell whether the write
took effect), re-reads the model into the cache (seen without a sync) and appends an
audit entry with the plan, the actor and any ``evidence`` (a policy gate's table).
An unreachable registry is an error: nothing is recorded as done, nothing is queued.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from app.adapters import registry
from app.adapters.catalog import CatalogSource
from app.domain.catalog import CatalogEntry
from app.domain.errors import (
    BackendError,
    CacheError,
    ConfigError,
    Conflict,
    CredentialError,
    ModeldeckError,
    NotFound,
    Unreachable,
)
from app.domain.kinds import Role
from app.domain.registry import (
    Capability,
    ChangeKind,
    Identity,
    NotSupported,
    RegistryChange,
    WriteOutcome,
    WritePlan,
    fingerprint,
    moved,
    plan_change,
    shown,
    shown_text,
    shown_version,
    state_of,
)
from app.services.audit import AuditService, os_user
from app.services.backends import BackendService
from app.store import queries
from app.store.db import Cache

log = logging.getLogger(__name__)

__all__ = [
    "Capability",
    "Identity",
    "RegistryChange",
    "RegistryWriteService",
    "WriteOutcome",
    "WritePlan",
]

#: opens the catalog adapter of a configured registry (tests inject their own)
SourceFactory = Callable[[str], CatalogSource]


class RegistryWriteService:
    """Plans and applies registry writes; synchronous and Qt-free (the GUI runs it on
    a worker)."""

    def __init__(
        self,
        cache: Cache,
        backends: BackendService,
        audit: AuditService,
        *,
        source_factory: SourceFactory | None = None,
    ) -> None:
        self._cache = cache
        self._backends = backends
        self._audit = audit
        self._factory = source_factory or self._connect

    # ------------------------------------------------------------ plumbing
    def _connect(self, name: str) -> CatalogSource:
        backend = self._backends.get(name)
        registry.require(backend, Role.CATALOG)
        return registry.catalog_source(backend, self._backends.connect_http(name))

    def registries(self) -> list[str]:
        """Names of the configured backends that are model registries."""
        return [b.name for b in self._backends.with_role(Role.CATALOG)]

    def resolve_source(self, model: str, source: str | None = None) -> str:
        """The registry a change to ``model`` goes to: ``source`` when given (it must be
        a configured registry), else the only registry configured, else the one
        registry the cache knows ``model`` in. Otherwise ``ConfigError`` asking for
        ``--source``."""
        if source is not None:
            registry.require(self._backends.get(source), Role.CATALOG)
            return source
        names = self.registries()
        if len(names) == 1:
            return names[0]
        if not names:
            raise ConfigError(
                "no model registry is configured; add one with: "
                "modeldeck backends add NAME --kind mlflow --url URL"
            )
        with self._cache.read() as con:
            found = [m.source for m in queries.find_models(con, model) if m.source in names]
        if len(found) == 1:
            return found[0]
        where = f"in several registries ({', '.join(found)})" if found else "not in the cache"
        raise ConfigError(
            f"{model} is {where}; say which registry with --source NAME "
            f"(registries: {', '.join(names)})"
        )

    def capabilities(self, source: str) -> frozenset[Capability]:
        """What registry ``source`` can write (asks the adapter; no network)."""
        src = self._factory(source)
        try:
            return frozenset(src.capabilities)
        finally:
            src.close()

    def identity(self, source: str) -> Identity:
        """Who a write to ``source`` is made as: the registry's user when the registry
        itself authenticates one (MLflow's auth app confirms our basic-auth user), else
        the OS login, unverified (``verified_by`` None). A user name the server never
        checks is not an identity. Raises ``BackendError`` when the registry cannot be
        asked (wrong password: ``Unauthorized``)."""
        try:
            cred = self._backends.credential(source)
        except CredentialError as exc:
            log.info("%s: no credential readable for the identity: %s", source, exc)
            cred = None
        if cred is not None and cred.username:
            src = self._factory(source)
            try:
                user = src.authenticated_user()
            finally:
                src.close()
            if user:
                return Identity(user, f"basic auth on {source}")
        return Identity(os_user(), None)

    @staticmethod
    def _require(src: CatalogSource, change: RegistryChange) -> None:
        if change.capability not in src.capabilities:
            raise NotSupported(src.name, change.capability)

    # ------------------------------------------------------------ plans
    def plan(self, change: RegistryChange) -> WritePlan:
        """Read ``change``'s model from the registry and plan it; nothing is written.
        Raises one line for what cannot be done (see module doc), ``BackendError`` when
        the registry cannot be read."""
        change.check()
        src = self._factory(change.source)
        try:
            self._require(src, change)
            entry = src.get_model(change.model)
        finally:
            src.close()
        return plan_change(change, entry)

    def plan_alias_move(
        self, model: str, alias: str, version: str, *, source: str | None = None
    ) -> WritePlan:
        """Plan pointing ``alias`` of ``model`` at ``version`` (creating or moving it).
        ``modeldeck models alias set`` plans through here, so a policy gate can sit
        between this plan and ``apply``."""
        source = self.resolve_source(model, source)
        return self.plan(RegistryChange.set_alias(source, model, alias, version))

    # ------------------------------------------------------------ apply
    def apply(
        self,
        plan: WritePlan,
        *,
        audit_action: str | None = None,
        evidence: Mapping[str, Any] | None = None,
    ) -> WriteOutcome:
        """Write ``plan`` once, re-read the model into the cache, audit it.

        Raises ``Conflict`` (nothing written) when the planned state moved upstream,
        ``Unreachable``/``BackendError`` when the registry cannot be read or refuses the
        write; a lost reply is resolved by re-reading (never by resending). Every
        attempt is audited, as ``audit_action`` (default: the change kind, e.g.
        ``alias-set``) with ``evidence`` when given; only a write that took effect is
        recorded ``ok``.
        """
        change = plan.change
        who = self.identity(change.source)
        action = audit_action or str(change.what)
        extra = dict(evidence) if evidence is not None else {}

        def audit(result: str, message: str) -> int:
            detail = {
                "summary": plan.summary,
                "message": message,
                "before": plan.before,
                "after": plan.after,
                "change": change.to_json(),
                "actor": who.actor,
                "verified_by": who.verified_by,
            }
            if evidence is not None:
                detail["evidence"] = _jsonable(extra)
            entry = self._audit.record(
                action=action,
                target=change.source,
                app=change.model,
                diff=plan.text(),
                result=result,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=False),
                identity=who.label,
            )
            return entry.id

        def outcome(**kw: Any) -> WriteOutcome:
            return WriteOutcome(
                plan=plan, actor=who.actor, verified_by=who.verified_by, evidence=extra, **kw
            )

        if plan.no_op:
            return outcome(
                written=False,
                reply_lost=False,
                cached=False,
                message=f"{plan.summary}: nothing to write",
            )
        src = self._factory(change.source)
        try:
            try:
                self._require(src, change)
            except NotSupported as exc:
                audit("refused", str(exc))
                raise
            self._check_unmoved(src, plan, audit)
            reply_lost = False
            after: CatalogEntry | str | None
            try:
                _send(src, change)
            except Unreachable as exc:
                # the request may or may not have reached the registry: never resend;
                # re-read to learn which
                after = self._after_lost_reply(src, plan, exc, audit)
                reply_lost = True
            except ModeldeckError as exc:
                audit("failed", f"not written: {exc}")
                raise
            else:
                after = self._reread(src, change)
        finally:
            src.close()

        cached = False
        notes: list[str] = []
        if reply_lost:
            notes.append("the write's reply was lost; a re-read shows it took effect")
        if isinstance(after, CatalogEntry):
            cached = self._cache_model(after, notes)
            now = _state_or_none(change, after)
            if now != change.wanted():
                notes.append(f"a re-read already shows {_shown(change, now)} (changed again?)")
        elif after is not None:
            notes.append(f"written; it could not be re-read ({after}): the next sync shows it")
        message = plan.summary + (" — " + "; ".join(notes) if notes else "")
        audit_id = audit("ok", message)
        return outcome(
            written=True,
            reply_lost=reply_lost,
            cached=cached,
            message=message,
            entry=after if isinstance(after, CatalogEntry) else None,
            audit_id=audit_id,
        )

    def _check_unmoved(
        self, src: CatalogSource, plan: WritePlan, audit: Callable[[str, str], int]
    ) -> None:
        change = plan.change
        try:
            entry = src.get_model(change.model)
        except ModeldeckError as exc:
            audit("failed", f"nothing written: the model could not be re-read: {exc}")
            raise
        if entry is None:
            why = f"{change.model} was deleted upstream since the plan; nothing was written"
        else:
            try:
                now = state_of(change, entry)
            except NotFound:
                why = f"v{change.version} was deleted upstream since the plan; nothing was written"
            else:
                if fingerprint(change, now) == plan.fingerprint:
                    return
                why = moved(plan, now) + "; nothing was written"
        audit("refused", why)
        raise Conflict(change.source, why)

    def _after_lost_reply(
        self,
        src: CatalogSource,
        plan: WritePlan,
        lost: Unreachable,
        audit: Callable[[str, str], int],
    ) -> CatalogEntry:
        change = plan.change
        try:
            entry = src.get_model(change.model)
        except ModeldeckError as exc:
            why = (
                f"the write's reply was lost ({lost.detail}) and the model cannot be re-read "
                f"({exc}); whether it took effect is unknown — check with "
                f"'modeldeck models show {change.model} --source {change.source}' "
                "once the registry answers"
            )
            audit("unknown", why)
            raise Unreachable(change.source, why) from lost
        now = _state_or_none(change, entry) if entry is not None else None
        if entry is None or now != change.wanted():
            why = (
                f"not written: the write's reply was lost ({lost.detail}) and a re-read "
                f"shows {_shown(change, now)}, not {plan.after}"
            )
            audit("failed", why)
            raise Unreachable(change.source, why) from lost
        log.warning("%s: %s: reply lost, but the write took effect", change.source, plan.summary)
        return entry

    @staticmethod
    def _reread(src: CatalogSource, change: RegistryChange) -> CatalogEntry | str | None:
        """The model after the write; a one-line reason when it cannot be read."""
        try:
            return src.get_model(change.model)
        except BackendError as exc:
            log.warning("%s: written, but the re-read failed: %s", change.source, exc)
            return str(exc)

    def _cache_model(self, entry: CatalogEntry, notes: list[str]) -> bool:
        """Put the re-read model into the cache (the sync's own upsert, for one model)."""
        try:
            with self._cache.write() as con:
                queries.upsert_models(con, [entry.model], {entry.model.name: entry.versions})
        except CacheError as exc:
            notes.append(f"the cache could not be updated ({exc}); the next sync does it")
            return False
        return True


# ------------------------------------------------------------------ helpers
def _send(src: CatalogSource, change: RegistryChange) -> None:
    """The one write of ``change`` (the adapter sends it exactly once)."""
    key, value, version = change.key or "", change.value, change.version
    if change.what is ChangeKind.ALIAS_SET:
        src.set_alias(change.model, key, str(value))
    elif change.what is ChangeKind.ALIAS_REMOVE:
        src.delete_alias(change.model, key)
    elif change.what is ChangeKind.TAG_SET:
        if version is None:
            src.set_model_tag(change.model, key, str(value))
        else:
            src.set_version_tag(change.model, version, key, str(value))
    elif change.what is ChangeKind.TAG_REMOVE:
        if version is None:
            src.delete_model_tag(change.model, key)
        else:
            src.delete_version_tag(change.model, version, key)
    elif version is None:
        src.update_model_description(change.model, value or "")
    else:
        src.update_version_description(change.model, version, value or "")


def _state_or_none(change: RegistryChange, entry: CatalogEntry) -> str | None:
    try:
        return state_of(change, entry)
    except NotFound:
        return None


def _shown(change: RegistryChange, value: str | None) -> str:
    if change.capability is Capability.ALIAS:
        return f"{change.key} at {shown_version(value)}"
    if change.what is ChangeKind.DESCRIBE:
        return f"the description as {shown_text(value)}"
    return f"tag {change.key} = {shown(value)} ({change.where})"


def _jsonable(value: Any) -> Any:
    """Evidence (a gate's table: dataclasses, enums, datetimes, mappings) as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
