"""Deployments as declarative configs: what a serving target runs, the plan (diff) of a
change, pre-flight checks and the hash chain of the audit trail. No I/O.

A target's whole config is kept as validated JSON-like mappings: an app Modeldeck did not
write must go back to the target exactly as it came, so nothing is dropped or re-shaped.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.domain.models import DeploymentStatus

APP_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
#: args keys of a Modeldeck-managed app (serving/modeldeck_serving/app.py reads the same)
ARG_MODEL, ARG_STABLE, ARG_CANARY, ARG_PERCENT, ARG_TRACKING = (
    "model_name",
    "stable_version",
    "canary_version",
    "canary_percent",
    "tracking_uri",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def check_app_name(name: str) -> str | None:
    if not APP_NAME.match(name):
        return "app names are 1-63 lower-case letters, digits or '-', starting with a letter/digit"
    return None


def app_name_for(model: str) -> str:
    """A valid app name derived from a model name (``Fraud Model`` → ``fraud-model``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-")
    return slug[:63] or "model"


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """The full declarative config of a target: every application, and the target-wide
    settings (Ray: ``proxy_location``, ``http_options``) kept as they were read."""

    settings: Mapping[str, Any] = field(default_factory=dict)
    apps: tuple[Mapping[str, Any], ...] = ()

    def fingerprint(self) -> str:
        return hashlib.sha256(canonical_json(self.body()).encode()).hexdigest()

    def body(self) -> dict[str, Any]:
        apps = sorted((dict(a) for a in self.apps), key=lambda a: str(a.get("name")))
        return {**self.settings, "applications": apps}

    def names(self) -> tuple[str, ...]:
        return tuple(str(a.get("name")) for a in self.apps)

    def app(self, name: str) -> Mapping[str, Any] | None:
        return next((a for a in self.apps if a.get("name") == name), None)

    def with_app(self, app: Mapping[str, Any]) -> ServeConfig:
        name = app.get("name")
        apps = [a for a in self.apps if a.get("name") != name]
        return ServeConfig(self.settings, (*apps, app))

    def without(self, name: str) -> ServeConfig:
        return ServeConfig(self.settings, tuple(a for a in self.apps if a.get("name") != name))


@dataclass(frozen=True, slots=True)
class ReplicaState:
    state: str


@dataclass(frozen=True, slots=True)
class AppState:
    """What the target reports for one application."""

    name: str
    status: DeploymentStatus
    message: str = ""
    route: str | None = None
    #: deployment name → (status, replica states)
    deployments: Mapping[str, tuple[str, tuple[ReplicaState, ...]]] = field(default_factory=dict)

    def running_replicas(self) -> int:
        return sum(
            1 for _s, reps in self.deployments.values() for r in reps if r.state == "RUNNING"
        )

    def messages(self) -> str:
        parts = [self.message] + [m for m, _r in self.deployments.values() if m]
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True, slots=True)
class ClusterState:
    config: ServeConfig
    apps: Mapping[str, AppState]


@dataclass(frozen=True, slots=True)
class Check:
    """One pre-flight check: ✓ or ✗ with a line saying why."""

    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AppChange:
    app: str
    kind: str  # "add" | "change" | "remove"
    lines: tuple[str, ...] = ()


def _flatten(value: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for k in sorted(value):
            out.update(_flatten(value[k], f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        out = {}
        for i, v in enumerate(value):
            key = v.get("name", i)
            out.update(_flatten(v, f"{prefix}[{key}]"))
        return out
    return {prefix: canonical_json(value)}


def diff_configs(before: ServeConfig, after: ServeConfig) -> tuple[AppChange, ...]:
    """Per-app changes from ``before`` to ``after`` (apps in neither are not listed)."""
    changes: list[AppChange] = []
    for name in sorted(set(before.names()) | set(after.names())):
        a, b = before.app(name), after.app(name)
        if a is None:
            changes.append(AppChange(name, "add", _lines({}, _flatten(b))))
        elif b is None:
            changes.append(AppChange(name, "remove", ()))
        elif canonical_json(a) != canonical_json(b):
            changes.append(AppChange(name, "change", _lines(_flatten(a), _flatten(b))))
    if canonical_json(dict(before.settings)) != canonical_json(dict(after.settings)):
        changes.append(
            AppChange(
                "(target settings)",
                "change",
                _lines(_flatten(before.settings), _flatten(after.settings)),
            )
        )
    return tuple(changes)


def _lines(old: Mapping[str, str], new: Mapping[str, str]) -> tuple[str, ...]:
    out = []
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        if o is None:
            out.append(f"+ {key} = {n}")
        elif n is None:
            out.append(f"- {key} = {o}")
        else:
            out.append(f"~ {key}: {o} → {n}")
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Plan:
    """One change to one target: what it is, the configs before/after, the diff and the
    pre-flight checks. Applying refuses when the target changed since ``before`` was read."""

    action: str  # deploy | scale | canary | promote | rollback | undeploy
    target: str
    app: str
    summary: str  # e.g. "Deploy fraud-model v7 to prod-ray"
    before: ServeConfig
    after: ServeConfig
    checks: tuple[Check, ...] = ()

    @property
    def changes(self) -> tuple[AppChange, ...]:
        return diff_configs(self.before, self.after)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def warnings(self) -> tuple[str, ...]:
        return tuple(
            f"this also {'removes' if c.kind == 'remove' else 'changes'} app {c.app}"
            for c in self.changes
            if c.app != self.app
        )

    def text(self) -> str:
        out = [self.summary]
        for c in self.checks:
            out.append(f"  {'✓' if c.ok else '✗'} {c.name}{': ' + c.detail if c.detail else ''}")
        changes = self.changes
        if not changes:
            out.append("  no change")
        for ch in changes:
            out.append(f"  {ch.kind} app {ch.app}")
            out.extend(f"      {line}" for line in ch.lines)
        out.extend(f"  ! {w}" for w in self.warnings())
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "target": self.target,
            "app": self.app,
            "summary": self.summary,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "changes": [
                {"app": c.app, "kind": c.kind, "lines": list(c.lines)} for c in self.changes
            ],
            "warnings": list(self.warnings()),
            "before_fingerprint": self.before.fingerprint(),
        }


# ------------------------------------------------------------------ audit chain
GENESIS = "0" * 64


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the canonical row (without id/hash)."""
    return hashlib.sha256((prev_hash + canonical_json(dict(row))).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: str  # ISO 8601 UTC
    user: str
    identity: str
    action: str
    target: str
    app: str
    diff: str
    result: str  # ok | failed | refused
    detail: str
    prev_hash: str
    hash: str

    def chained_fields(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "user": self.user,
            "identity": self.identity,
            "action": self.action,
            "target": self.target,
            "app": self.app,
            "diff": self.diff,
            "result": self.result,
            "detail": self.detail,
        }


def verify_chain(entries: Sequence[AuditEntry]) -> str | None:
    """``None`` when the chain holds, else which row breaks it."""
    prev = GENESIS
    for e in entries:
        if e.prev_hash != prev:
            return f"row {e.id}: does not follow the row before it (rows removed or reordered)"
        if chain_hash(prev, e.chained_fields()) != e.hash:
            return f"row {e.id}: its content does not match its hash (the row was edited)"
        prev = e.hash
    return None
