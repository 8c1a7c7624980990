"""Writes to a model registry: what can be changed, a change, its plan and its outcome.

A registry write is planned from the registry's *own* current state (never the cache):
the plan holds the readable diff (``champion: v3 → v4``) and a fingerprint of exactly
the piece of state it was read from (that alias, that tag, that description), so a
write can refuse with ``Conflict`` when that piece moved upstream since the plan —
and only then. No I/O here: ``plan_change`` and the wording are pure functions of a
``CatalogEntry``.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from app.domain.catalog import CatalogEntry
from app.domain.errors import ConfigError, NotFound
from app.domain.models import ModelVersion
from app.domain.text import counted

#: how long a value may be in a one-line summary before it is cut with "…"
SHOWN_CHARS = 40
ABSENT = "(none)"
REMOVED = "(removed)"
EMPTY = "(empty)"


class Capability(enum.StrEnum):
    """One kind of write a registry adapter can do (``CatalogSource.capabilities``)."""

    ALIAS = "alias"
    MODEL_TAG = "model-tag"
    VERSION_TAG = "version-tag"
    MODEL_DESCRIPTION = "model-description"
    VERSION_DESCRIPTION = "version-description"

    @property
    def doing(self) -> str:
        """What the capability does, for messages: ``set or remove aliases``."""
        return _DOING[self]


_DOING = {
    Capability.ALIAS: "set or remove aliases",
    Capability.MODEL_TAG: "set or remove tags on a model",
    Capability.VERSION_TAG: "set or remove tags on a version",
    Capability.MODEL_DESCRIPTION: "edit a model's description",
    Capability.VERSION_DESCRIPTION: "edit a version's description",
}


class NotSupported(ConfigError):
    """The registry (its adapter) cannot do this kind of write."""

    def __init__(self, registry: str, capability: Capability, why: str = "") -> None:
        self.registry = registry
        self.capability = capability
        super().__init__(
            f"{registry}: this registry cannot {capability.doing} "
            f"(no {capability} capability{'; ' + why if why else ''})"
        )


class ChangeKind(enum.StrEnum):
    ALIAS_SET = "alias-set"
    ALIAS_REMOVE = "alias-remove"
    TAG_SET = "tag-set"
    TAG_REMOVE = "tag-remove"
    DESCRIBE = "describe"


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """One write to one model (or one of its versions) in registry ``source``.

    ``key`` is the alias name or the tag key (``None`` for a description);
    ``value`` the alias's target version, the tag's value or the description text
    (``None`` when removing). ``version`` is the version a tag or description is on
    (``None``: the model itself; always ``None`` for aliases, whose target is ``value``).
    """

    what: ChangeKind
    model: str
    source: str
    version: str | None = None
    key: str | None = None
    value: str | None = None

    # ------------------------------------------------------------ constructors
    @classmethod
    def set_alias(cls, source: str, model: str, alias: str, version: str) -> RegistryChange:
        return cls(ChangeKind.ALIAS_SET, model, source, None, alias, version)

    @classmethod
    def remove_alias(cls, source: str, model: str, alias: str) -> RegistryChange:
        return cls(ChangeKind.ALIAS_REMOVE, model, source, None, alias, None)

    @classmethod
    def set_tag(
        cls, source: str, model: str, key: str, value: str, *, version: str | None = None
    ) -> RegistryChange:
        return cls(ChangeKind.TAG_SET, model, source, version, key, value)

    @classmethod
    def remove_tag(
        cls, source: str, model: str, key: str, *, version: str | None = None
    ) -> RegistryChange:
        return cls(ChangeKind.TAG_REMOVE, model, source, version, key, None)

    @classmethod
    def describe(
        cls, source: str, model: str, text: str, *, version: str | None = None
    ) -> RegistryChange:
        return cls(ChangeKind.DESCRIBE, model, source, version, None, text)

    # ------------------------------------------------------------ reading
    @property
    def capability(self) -> Capability:
        if self.what in (ChangeKind.ALIAS_SET, ChangeKind.ALIAS_REMOVE):
            return Capability.ALIAS
        if self.what in (ChangeKind.TAG_SET, ChangeKind.TAG_REMOVE):
            return Capability.MODEL_TAG if self.version is None else Capability.VERSION_TAG
        return (
            Capability.MODEL_DESCRIPTION if self.version is None else Capability.VERSION_DESCRIPTION
        )

    @property
    def removes(self) -> bool:
        return self.what in (ChangeKind.ALIAS_REMOVE, ChangeKind.TAG_REMOVE)

    @property
    def where(self) -> str:
        """``model`` or ``v4``: what a tag or description is on."""
        return "model" if self.version is None else f"v{self.version}"

    def check(self) -> None:
        """Raise ``ConfigError`` for a change that is malformed whatever the registry holds."""
        if not self.model:
            raise ConfigError("a registry change needs a model name")
        if not self.source:
            raise ConfigError(f"{self.model}: a registry change needs the registry (--source)")
        if self.what is ChangeKind.DESCRIBE:
            if self.key is not None or self.value is None:
                raise ConfigError("a description change carries the text and no key")
            return
        if not self.key or not self.key.strip():
            noun = "alias" if self.capability is Capability.ALIAS else "tag key"
            raise ConfigError(f"{self.model}: an empty {noun} cannot be written")
        if self.removes and self.value is not None:
            raise ConfigError(f"{self.model}: removing {self.key!r} takes no value")
        if not self.removes and self.value is None:
            raise ConfigError(f"{self.model}: setting {self.key!r} needs a value")
        if self.capability is Capability.ALIAS:
            if self.version is not None:
                raise ConfigError("an alias belongs to the model; its version is the value")
            if self.what is ChangeKind.ALIAS_SET and not str(self.value).isdigit():
                raise ConfigError(
                    f"{self.model}: alias {self.key!r} must point at a version number, "
                    f"not {self.value!r}"
                )

    def wanted(self) -> str | None:
        """The state this change leaves behind (``None``: absent)."""
        return None if self.removes else self.value

    def to_json(self) -> dict[str, Any]:
        return {
            "what": str(self.what),
            "model": self.model,
            "source": self.source,
            "version": self.version,
            "key": self.key,
            "value": self.value,
        }


class Identity(NamedTuple):
    """Who writes: ``actor`` and, when the registry authenticated that name, how
    (``verified_by``); ``None`` when it is only the OS login."""

    actor: str
    verified_by: str | None

    @property
    def label(self) -> str:
        how = self.verified_by or "os login, unverified"
        return f"{self.actor} ({how})"


@dataclass(frozen=True, slots=True)
class WritePlan:
    """A change as read against the registry's current state; nothing written yet."""

    change: RegistryChange
    #: the relevant state now / after the write, short and readable (``v3``, ``(none)``)
    before: str
    after: str
    #: one line: ``champion: v3 → v4``, ``tag team: nlp → vision (model)``
    summary: str
    #: of the piece of state the plan was read from (that alias / tag / description)
    fingerprint: str
    #: the registry already holds what the change asks for: nothing to write
    no_op: bool
    #: the raw value read (``None``: absent), to word a conflict or a lost reply
    current: str | None = None

    @property
    def title(self) -> str:
        """The summary with the model and registry: ``fraud (prod): champion: v3 → v4``."""
        return f"{self.change.model} ({self.change.source}): {self.summary}"

    def text(self) -> str:
        """The plan as the CLI shows it before asking (and as the audit trail keeps it)."""
        lines = [self.title, f"  before: {self.before}", f"  after:  {self.after}"]
        if self.no_op:
            lines.append("  nothing to write: the registry already holds this")
        if self.change.what is ChangeKind.DESCRIBE and not self.no_op:
            lines.append("  new text:")
            lines += [f"    | {line}" for line in (self.change.value or "").splitlines()]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change.to_json(),
            "before": self.before,
            "after": self.after,
            "summary": self.summary,
            "fingerprint": self.fingerprint,
            "no_op": self.no_op,
        }


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What ``apply`` did: the plan, whether a write went out and took effect, and the
    model as re-read from the registry (and put into the cache)."""

    plan: WritePlan
    #: a write was sent and the registry holds its result (False for a no-op plan)
    written: bool
    #: the write's reply was lost; a re-read showed it had taken effect
    reply_lost: bool
    #: the re-read model went into the cache (visible without a sync)
    cached: bool
    message: str
    actor: str
    verified_by: str | None = None
    entry: CatalogEntry | None = None
    audit_id: int | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_json(),
            "written": self.written,
            "reply_lost": self.reply_lost,
            "cached": self.cached,
            "message": self.message,
            "actor": self.actor,
            "verified_by": self.verified_by,
            "audit_id": self.audit_id,
        }


# ------------------------------------------------------------------ reading state
def state_of(change: RegistryChange, entry: CatalogEntry) -> str | None:
    """The piece of ``entry`` that ``change`` writes (``None``: absent). ``NotFound``
    when the version it is on does not exist."""
    cap = change.capability
    if cap is Capability.ALIAS:
        return entry.model.aliases.get(change.key or "")
    if cap is Capability.MODEL_TAG:
        return entry.model.tags.get(change.key or "")
    if cap is Capability.MODEL_DESCRIPTION:
        return entry.model.description or ""
    version = _version(change, entry, str(change.version))
    if cap is Capability.VERSION_TAG:
        return version.tags.get(change.key or "")
    return version.description or ""


def _version(change: RegistryChange, entry: CatalogEntry, number: str) -> ModelVersion:
    for v in entry.versions:
        if v.version == number:
            return v
    known = ", ".join(v.version for v in sorted(entry.versions, key=lambda v: v.number)) or "none"
    raise NotFound(
        f"{change.model} has no version {number} in {change.source} (its versions: {known})"
    )


def fingerprint(change: RegistryChange, current: str | None) -> str:
    """A digest of the one piece of state ``change`` writes, as it is now."""
    doc = [
        str(change.capability),
        change.source,
        change.model,
        change.version,
        change.key,
        current,
    ]
    raw = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


# ------------------------------------------------------------------ wording
def shown(value: str | None) -> str:
    """A tag value or version on one line: ``(none)`` when absent, cut at 40 chars."""
    if value is None:
        return ABSENT
    if value == "":
        return '""'
    one_line = " ".join(value.split())
    if len(one_line) > SHOWN_CHARS:
        return one_line[: SHOWN_CHARS - 1] + "…"
    return one_line


def shown_version(version: str | None) -> str:
    return ABSENT if version is None else f"v{version}"


def shown_text(text: str | None) -> str:
    """A description as a short line: ``(empty)`` or ``180 characters: "# Fraud de…"``."""
    if not text:
        return EMPTY
    return f'{counted(len(text), "character")}: "{shown(text)}"'


def described(change: RegistryChange, current: str | None) -> tuple[str, str, str]:
    """``(before, after, summary)`` of ``change`` over the state ``current``."""
    key = change.key or ""
    same = current == change.wanted()
    if change.capability is Capability.ALIAS:
        before = shown_version(current)
        after = REMOVED if change.removes else shown_version(change.value)
        summary = f"{key}: already {after}" if same else f"{key}: {before} → {after}"
        return before, after, summary
    if change.what in (ChangeKind.TAG_SET, ChangeKind.TAG_REMOVE):
        before = shown(current)
        after = REMOVED if change.removes else shown(change.value)
        if same:
            return before, after, f"tag {key}: already {after} ({change.where})"
        return before, after, f"tag {key}: {before} → {after} ({change.where})"
    target = change.model if change.version is None else f"v{change.version}"
    old, new = len(current or ""), len(change.value or "")
    before, after = shown_text(current), shown_text(change.value)
    if same:
        return before, after, f"description of {target}: unchanged ({counted(new, 'character')})"
    return before, after, f"description of {target}: {old:,} → {counted(new, 'character')}"


# ------------------------------------------------------------------ planning
def plan_change(change: RegistryChange, entry: CatalogEntry | None) -> WritePlan:
    """The plan of ``change`` over the registry's model ``entry`` as just read.

    Refuses, with one line, what cannot be done: an unknown model or version, an alias
    pointing at a version that does not exist, removing an alias or tag that is not there.
    """
    change.check()
    if entry is None:
        raise NotFound(f"{change.source}: no model named {change.model!r} in the registry")
    current = state_of(change, entry)
    if change.what is ChangeKind.ALIAS_SET:
        _version(change, entry, str(change.value))
    if change.removes and current is None:
        if change.capability is Capability.ALIAS:
            have = ", ".join(sorted(entry.model.aliases)) or "none"
            raise NotFound(
                f"{change.model} has no alias {change.key!r} in {change.source} "
                f"(its aliases: {have})"
            )
        tags = (
            entry.model.tags
            if change.version is None
            else _version(change, entry, change.version).tags
        )
        have = ", ".join(sorted(tags)) or "none"
        raise NotFound(
            f"{change.model} has no tag {change.key!r} on the {change.where} in "
            f"{change.source} (its tags: {have})"
        )
    before, after, summary = described(change, current)
    return WritePlan(
        change=change,
        before=before,
        after=after,
        summary=summary,
        fingerprint=fingerprint(change, current),
        no_op=current == change.wanted(),
        current=current,
    )


def moved(plan: WritePlan, now: str | None) -> str:
    """How the planned piece of state moved upstream (``champion moved upstream from v3
    to v5 since the plan``) — the first half of a ``Conflict``."""
    change = plan.change
    if change.capability is Capability.ALIAS:
        what, old, new = change.key, shown_version(plan.current), shown_version(now)
    elif change.what in (ChangeKind.TAG_SET, ChangeKind.TAG_REMOVE):
        what, old, new = f"tag {change.key} ({change.where})", shown(plan.current), shown(now)
    else:
        target = change.model if change.version is None else f"v{change.version}"
        what, old, new = f"the description of {target}", shown_text(plan.current), shown_text(now)
    return f"{what} moved upstream from {old} to {new} since the plan"
