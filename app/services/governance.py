"""Governance: the team's alias policy, approvals kept in the registry, and the
promotion gate between a registry write's plan and its apply.

* **Policy** — a TOML file the team shares (schema below), validated with pydantic
  (every problem one line naming the file and the key), installed with its SHA-256
  by ``install_policy`` into a :class:`PolicyStore` (today the workspace config dir's
  ``policy.toml``; a team workspace can store it centrally behind the same class).
* **Approvals** — model-version tags ``modeldeck.approval.<alias>.<actor>`` (format in
  ``app.domain.policy``), written and removed through ``RegistryWriteService``, so
  every desktop sees them and the registry keeps them without Modeldeck.
* **Gate** — ``plan_promotion(write_plan)`` gathers the evidence from the registry
  itself (the version's card, status, signature and approval tags as they are now)
  and from the metrics source (``HealthService.version_canary``), judges it
  (``app.domain.policy.evaluate_gate``) and decides; ``promote`` writes only what the
  gate allows, with the gate table as the audit entry's evidence, and records every
  refusal itself. Offline, the registry read fails first: nothing is written or queued.

Policy file::

    [[alias]]
    name = "champion"            # the alias gated; fnmatch patterns allowed ("prod-*")
    approvals = 1                # approvals for this alias the version needs
    four_eyes = true             # the requester's own approval does not count
    require = ["description", "healthy_canary"]   # also "ready", "signature"
    override = "forbidden"       # or "with-reason": --override --reason TEXT
    verified_only = false        # count only approvals the registry authenticated

    [alias.healthy_canary]       # evidence from the health service
    minutes = 30                 # the version served traffic at least this long …
    max_error_rate = 0.01        # … within these bounds
    max_p95_ms = 300
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol, runtime_checkable

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    model_validator,
)

from app.adapters import registry as adapters
from app.adapters.catalog import CatalogSource
from app.domain.catalog import CatalogEntry
from app.domain.errors import ConfigError, ModeldeckError, NotFound
from app.domain.kinds import Role
from app.domain.models import ModelVersion, VersionStatus
from app.domain.policy import (
    AliasRule,
    Approval,
    CanaryRule,
    Check,
    Decision,
    Gate,
    GateEvidence,
    GateRefused,
    OverrideMode,
    Policy,
    approval_key,
    approvals_in,
    check_alias,
    decide,
    evaluate_gate,
    evidence_snapshot,
)
from app.domain.registry import ChangeKind, Identity, RegistryChange, WriteOutcome, WritePlan
from app.services.audit import AuditService
from app.services.backends import BackendService
from app.services.catalog import CatalogService
from app.services.health import HealthService
from app.services.registry import RegistryWriteService

log = logging.getLogger(__name__)

POLICY_FILE = "policy.toml"
#: longest approval note kept in the tag
MAX_NOTE = 2000


# ------------------------------------------------------------------ the policy file
def _pattern(text: str) -> str:
    if not re.fullmatch(r"[\w\-*?\[\]!]{1,255}", text):
        raise ValueError(
            "must be an alias or an fnmatch pattern of one: letters, digits, '_', '-', "
            "and * ? [ ] !"
        )
    return text


Number = Annotated[float, Field(strict=True)]


class CanaryTable(BaseModel):
    """``[alias.healthy_canary]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    minutes: Number = Field(30.0, gt=0, le=7 * 24 * 60)
    max_error_rate: Number | None = Field(0.01, ge=0, le=1)
    max_p95_ms: Number | None = Field(None, gt=0)


class AliasTable(BaseModel):
    """One ``[[alias]]`` rule as written in the policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(strict=True), AfterValidator(_pattern)]
    approvals: StrictInt = Field(0, ge=0, le=20)
    four_eyes: StrictBool = True
    require: list[Check] = Field(default_factory=list)
    override: OverrideMode = OverrideMode.FORBIDDEN
    verified_only: StrictBool = False
    healthy_canary: CanaryTable | None = None

    @model_validator(mode="after")
    def _consistent(self) -> AliasTable:
        seen: set[Check] = set()
        for c in self.require:
            if c in seen:
                raise ValueError(f"require: {str(c)!r} is listed twice")
            seen.add(c)
        if Check.APPROVALS in seen and self.approvals == 0:
            raise ValueError("require: 'approvals' is listed but approvals = 0; set approvals = N")
        if self.healthy_canary is not None and Check.HEALTHY_CANARY not in seen:
            raise ValueError(
                "healthy_canary: the table is set but 'healthy_canary' is not in require"
            )
        return self

    def to_rule(self) -> AliasRule:
        c = self.healthy_canary
        return AliasRule(
            name=self.name,
            approvals=self.approvals,
            four_eyes=self.four_eyes,
            require=tuple(self.require),
            override=self.override,
            verified_only=self.verified_only,
            healthy_canary=(
                CanaryRule(c.minutes, c.max_error_rate, c.max_p95_ms) if c is not None else None
            ),
        )


class PolicyTable(BaseModel):
    """The whole policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    schema_version: StrictInt = Field(1, ge=1, le=1)
    alias: list[AliasTable] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> PolicyTable:
        names = [a.name for a in self.alias]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"alias: two rules are named {name!r}")
        return self


def _describe(exc: ValidationError, raw: Mapping[str, Any]) -> str:
    """A pydantic error as one line naming each key: ``alias[0] "champion".approvals: …``."""
    rules = raw.get("alias") if isinstance(raw.get("alias"), list) else []
    parts = []
    for err in exc.errors():
        loc = list(err["loc"])
        where = ""
        for i, part in enumerate(loc):
            if isinstance(part, int):
                where += f"[{part}]"
                if i == 1 and loc[0] == "alias" and isinstance(rules, list):
                    rule = rules[part] if part < len(rules) else None
                    if isinstance(rule, dict) and isinstance(rule.get("name"), str):
                        where += f' "{rule["name"]}"'
            else:
                where += f".{part}" if where else str(part)
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "is required"
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse_policy(data: bytes, where: str) -> Policy:
    """The policy in ``data`` (a TOML file's bytes); ``ConfigError`` as one line naming
    ``where`` (the file) and the key."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    try:
        table = PolicyTable.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc, raw)}") from None
    return Policy(tuple(a.to_rule() for a in table.alias), hashlib.sha256(data).hexdigest())


# ------------------------------------------------------------------ where it is kept
class PolicyStore(Protocol):
    """Where the installed policy lives (a file today; a team workspace later)."""

    #: shown in messages: a path or a URL
    where: str

    def read(self) -> bytes | None:
        """The installed policy file's bytes (None: none installed)."""
        ...

    def write(self, data: bytes) -> None: ...


class FilePolicyStore:
    """``policy.toml`` in the workspace's config dir, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read it ({exc.strerror or exc})") from exc

    def write(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".policy-", suffix=".toml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# ------------------------------------------------------------------ results
@dataclass(frozen=True, slots=True)
class PolicyInstall:
    policy: Policy
    where: str
    #: the digest of the policy it replaced (None: there was none)
    previous: str | None
    written: bool
    audit_id: int | None = None


@dataclass(frozen=True, slots=True)
class ApprovalPlan:
    """An approval (or its revocation) planned against the registry; nothing written."""

    write: WritePlan
    approval: Approval
    revoke: bool = False

    @property
    def summary(self) -> str:
        a = self.approval
        verb = "revoke" if self.revoke else "approve"
        return f"{verb} {a.model} v{a.version} for {a.alias} as {a.actor} ({a.identity})"

    def text(self) -> str:
        lines = [self.summary, *("  " + line for line in self.write.text().splitlines())]
        if self.approval.note and not self.revoke:
            lines.append(f"  note: {self.approval.note}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "revoke": self.revoke,
            "approval": _approval_json(self.approval),
            "write": self.write.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Promotion:
    """An alias move's plan with its gate and the decision; nothing written yet."""

    write: WritePlan
    gate: Gate
    decision: Decision
    override: bool = False

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def text(self) -> str:
        lines = [self.write.text(), self.gate.text()]
        if self.decision.overridden:
            lines.append(f"  OVERRIDE: {self.decision.why}")
        elif not self.decision.allowed:
            lines.append(f"  {self.decision.why}")
        return "\n".join(lines)

    @property
    def audit_action(self) -> str | None:
        """The audit action of the write: ``alias-override`` for an override, else the
        change kind's default (``alias-set``)."""
        return "alias-override" if self.decision.overridden else None

    def evidence(self) -> dict[str, Any]:
        return evidence_snapshot(self.gate, self.decision)

    def to_json(self) -> dict[str, Any]:
        return {"write": self.write.to_json(), "gate": self.evidence(), "allowed": self.allowed}


def _approval_json(a: Approval) -> dict[str, Any]:
    return {
        "model": a.model,
        "version": a.version,
        "source": a.source,
        "alias": a.alias,
        "actor": a.actor,
        "at": a.at.isoformat().replace("+00:00", "Z"),
        "note": a.note,
        "verified_by": a.verified_by,
        "identity": a.identity,
        "key": a.key,
    }


@runtime_checkable
class SignatureSource(Protocol):
    """A registry adapter that can tell whether a version has a model signature."""

    def version_signature(self, model: str, version: str) -> bool: ...


SourceFactory = Callable[[str], CatalogSource]


# ------------------------------------------------------------------ the service
class GovernanceService:
    """Policy, approvals and the promotion gate. Synchronous and Qt-free: the GUI calls
    it on a worker (it reads the registry and the metrics source)."""

    def __init__(
        self,
        catalog: CatalogService,
        registry: RegistryWriteService,
        health: HealthService,
        audit: AuditService,
        backends: BackendService,
        *,
        store: PolicyStore,
        source_factory: SourceFactory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._catalog = catalog
        self._registry = registry
        self._health = health
        self._audit = audit
        self._backends = backends
        self.store = store
        self._factory = source_factory or self._connect
        self._clock = clock

    def _connect(self, name: str) -> CatalogSource:
        backend = self._backends.get(name)
        adapters.require(backend, Role.CATALOG)
        return adapters.catalog_source(backend, self._backends.connect_http(name))

    # ------------------------------------------------------------ policy
    def policy(self) -> Policy:
        """The installed policy (no rules when none is installed)."""
        data = self.store.read()
        return Policy() if data is None else parse_policy(data, self.store.where)

    def policy_text(self) -> str | None:
        """The installed policy file as written (None: none installed)."""
        data = self.store.read()
        return None if data is None else data.decode("utf-8", errors="replace")

    def check_policy_file(self, path: Path) -> Policy:
        """Validate a policy file without installing it."""
        return parse_policy(_read(path), str(path))

    def install_policy(self, path: Path, *, dry_run: bool = False) -> PolicyInstall:
        """Validate ``path`` and install it (audited, with its SHA-256 and the one it
        replaced); ``dry_run`` validates only."""
        data = _read(path)
        policy = parse_policy(data, str(path))
        old = self.store.read()
        previous = hashlib.sha256(old).hexdigest() if old is not None else None
        if dry_run:
            return PolicyInstall(policy, self.store.where, previous, written=False)
        self.store.write(data)
        entry = self._audit.record(
            action="policy-set",
            target="policy",
            app=self.store.where,
            diff=f"sha256 {previous or '(none)'} → {policy.digest}",
            result="ok",
            detail=json.dumps(
                {
                    "from_file": str(path),
                    "sha256": policy.digest,
                    "previous_sha256": previous,
                    "rules": [r.name for r in policy.rules],
                    "text": data.decode("utf-8"),
                },
                ensure_ascii=False,
            ),
            identity=f"{self._audit.user} (os login, unverified)",
        )
        return PolicyInstall(policy, self.store.where, previous, written=True, audit_id=entry.id)

    # ------------------------------------------------------------ reading the registry
    def identity(self, source: str) -> Identity:
        return self._registry.identity(source)

    def resolve_source(self, model: str, source: str | None = None) -> str:
        return self._registry.resolve_source(model, source)

    def _entry(self, source: str, model: str) -> tuple[CatalogSource, CatalogEntry]:
        src = self._factory(source)
        try:
            entry = src.get_model(model)
        except BaseException:
            src.close()
            raise
        if entry is None:
            src.close()
            raise NotFound(f"{source}: no model named {model!r} in the registry")
        return src, entry

    @staticmethod
    def _version(entry: CatalogEntry, version: str, source: str) -> ModelVersion:
        for v in entry.versions:
            if v.version == version:
                return v
        known = ", ".join(v.version for v in sorted(entry.versions, key=lambda v: v.number))
        raise NotFound(
            f"{entry.model.name} has no version {version} in {source} "
            f"(its versions: {known or 'none'})"
        )

    # ------------------------------------------------------------ approvals
    def approvals(
        self, model: str, *, version: str | None = None, source: str | None = None
    ) -> list[Approval]:
        """Approvals of ``model``'s versions (or one version) as the cache holds them
        (seen offline; another desktop's appear after a sync). Malformed approval tags
        are logged and left out."""
        detail = self._catalog.show(model, source)
        out: list[Approval] = []
        for v in detail.versions:
            if version is not None and v.version != version:
                continue
            found, problems = approvals_in(v.tags)
            for p in problems:
                log.warning("%s v%s: %s", model, v.version, p)
            out += [_placed(a, v) for a in found]
        if version is not None and not any(v.version == version for v in detail.versions):
            raise NotFound(f"{model} has no version {version} in the cache")
        return out

    def plan_approval(
        self,
        model: str,
        version: str,
        alias: str,
        *,
        note: str = "",
        source: str | None = None,
    ) -> ApprovalPlan:
        """Plan tagging ``version`` with the caller's approval for ``alias`` (read against
        the registry; nothing written)."""
        problem = check_alias(alias)
        if problem:
            raise ConfigError(problem)
        if len(note) > MAX_NOTE:
            raise ConfigError(f"--note: at most {MAX_NOTE} characters")
        source = self.resolve_source(model, source)
        who = self.identity(source)
        approval = Approval(
            alias,
            who.actor,
            datetime.fromtimestamp(self._clock(), tz=UTC).replace(microsecond=0),
            note.strip(),
            who.verified_by,
            model,
            version,
            source,
        )
        change = RegistryChange.set_tag(
            source, model, approval.key, approval.tag_value(), version=version
        )
        return ApprovalPlan(self._registry.plan(change), approval)

    def approve(self, plan: ApprovalPlan) -> WriteOutcome:
        """Write the approval tag (audited as ``approve``)."""
        return self._registry.apply(
            plan.write, audit_action="approve", evidence={"approval": _approval_json(plan.approval)}
        )

    def plan_revoke(
        self, model: str, version: str, alias: str, *, source: str | None = None
    ) -> ApprovalPlan:
        """Plan removing the caller's own approval of ``version`` for ``alias``."""
        problem = check_alias(alias)
        if problem:
            raise ConfigError(problem)
        source = self.resolve_source(model, source)
        who = self.identity(source)
        key = approval_key(alias, who.actor)
        change = RegistryChange.remove_tag(source, model, key, version=version)
        try:
            write = self._registry.plan(change)
        except NotFound as exc:
            if "has no tag" not in str(exc):
                raise
            raise NotFound(
                f"{model} v{version} has no approval by {who.actor} for {alias} in {source}"
            ) from None
        at = datetime.fromtimestamp(self._clock(), tz=UTC).replace(microsecond=0)
        approval = Approval(alias, who.actor, at, "", who.verified_by, model, version, source)
        return ApprovalPlan(write, approval, revoke=True)

    def revoke(self, plan: ApprovalPlan) -> WriteOutcome:
        """Remove the approval tag (audited as ``revoke``)."""
        return self._registry.apply(
            plan.write, audit_action="revoke", evidence={"approval": _approval_json(plan.approval)}
        )

    # ------------------------------------------------------------ the gate
    def gate(
        self,
        model: str,
        version: str,
        alias: str,
        *,
        source: str | None = None,
        at: float | None = None,
    ) -> Gate:
        """The gate table of pointing ``alias`` at ``version`` now (reads the registry
        and, when the rule asks for a healthy canary, the metrics source). Writes
        nothing: ``modeldeck policy check``."""
        source = self.resolve_source(model, source)
        return self._gate(source, model, version, alias, at=at)

    def _gate(self, source: str, model: str, version: str, alias: str, *, at: float | None) -> Gate:
        rule = self.policy().rule_for(alias)
        requester = self.identity(source).actor
        now = self._clock() if at is None else at
        when = datetime.fromtimestamp(now, tz=UTC)
        if rule is None:
            return evaluate_gate(None, GateEvidence(model, version, alias, requester, when, source))
        src, entry = self._entry(source, model)
        try:
            v = self._version(entry, version, source)
            approvals, problems = approvals_in(v.tags)
            signature: bool | None = None
            signature_problem = ""
            if Check.SIGNATURE in rule.checks:
                signature, signature_problem = _signature(src, model, version)
        finally:
            src.close()
        canary: tuple[Any, ...] | None = None
        canary_problem = ""
        if Check.HEALTHY_CANARY in rule.checks:
            try:
                canary = tuple(
                    self._health.version_canary(
                        model, version, minutes=rule.canary.minutes, model_source=source, at=now
                    )
                )
            except ModeldeckError as exc:
                canary_problem = str(exc)
        evidence = GateEvidence(
            model=model,
            version=version,
            alias=alias,
            requester=requester,
            at=when,
            source=source,
            version_description=v.description,
            model_description=entry.model.description,
            status=v.status,
            signature=signature,
            signature_problem=signature_problem,
            approvals=tuple(_placed(a, v) for a in approvals),
            approval_problems=tuple(problems),
            canary=canary,
            canary_problem=canary_problem,
        )
        return evaluate_gate(rule, evidence)

    def plan_promotion(
        self,
        write: WritePlan,
        *,
        override: bool = False,
        reason: str | None = None,
        at: float | None = None,
    ) -> Promotion:
        """The gate between an alias move's plan (``RegistryWriteService.plan_alias_move``)
        and its apply: the gate table and whether the move may go ahead."""
        change = write.change
        if change.what is not ChangeKind.ALIAS_SET or change.key is None or change.value is None:
            raise ConfigError("the promotion gate judges alias moves only")
        gate = self._gate(change.source, change.model, change.value, change.key, at=at)
        decision = decide(gate, override=override, reason=reason)
        if override and gate.ok:
            decision = Decision(True, why="the gate is open; --override was not needed")
        return Promotion(write, gate, decision, override)

    def promote(self, promotion: Promotion) -> WriteOutcome:
        """Move the alias when the gate allows it (the gate table is the audit entry's
        evidence; an override is audited as ``alias-override``). A refused move is
        recorded in the audit trail and raises ``GateRefused``; nothing is written."""
        if not promotion.allowed:
            self._refused(promotion)
            raise GateRefused(f"{promotion.write.title}: {promotion.decision.why}")
        action = promotion.audit_action
        if promotion.decision.overridden:
            log.warning("policy override: %s (%s)", promotion.write.title, promotion.decision.why)
        return self._registry.apply(
            promotion.write, audit_action=action, evidence=promotion.evidence()
        )

    def _refused(self, promotion: Promotion) -> None:
        change = promotion.write.change
        who = self.identity(change.source)
        self._audit.record(
            action=str(change.what),
            target=change.source,
            app=change.model,
            diff=promotion.write.text(),
            result="refused",
            detail=json.dumps(
                {
                    "summary": promotion.write.summary,
                    "message": promotion.decision.why,
                    "change": change.to_json(),
                    "actor": who.actor,
                    "verified_by": who.verified_by,
                    "evidence": promotion.evidence(),
                },
                ensure_ascii=False,
            ),
            identity=who.label,
        )


# ------------------------------------------------------------------ helpers
def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a policy file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _placed(a: Approval, v: ModelVersion) -> Approval:
    return Approval(
        a.alias, a.actor, a.at, a.note, a.verified_by, v.model_name, v.version, v.source
    )


def _signature(src: CatalogSource, model: str, version: str) -> tuple[bool | None, str]:
    if not isinstance(src, SignatureSource):
        return None, f"{src.name} cannot tell whether a version has a signature"
    try:
        return src.version_signature(model, version), ""
    except ModeldeckError as exc:
        return None, str(exc)


__all__ = [
    "ApprovalPlan",
    "FilePolicyStore",
    "GovernanceService",
    "PolicyInstall",
    "PolicyStore",
    "Promotion",
    "VersionStatus",
    "parse_policy",
]
