"""Governance, pure: the team's alias policy, approvals as registry tags, and the
promotion gate (rule + evidence → a table of ✓/✗ rows with their numbers). No I/O.

A *rule* gates the aliases its ``name`` matches (``fnmatch``: ``prod-*``); an alias no
rule matches moves freely. A rule asks for approvals (``four_eyes``: the requester's
own does not count) and further checks (``require``): ``description``, ``ready``,
``signature``, ``healthy_canary``. The service gathers the *evidence* (the version as
the registry has it now, its approvals, its canary figures from the metrics source);
``evaluate_gate`` judges it. The gate row texts are the evidence snapshot the audit
trail keeps, so they carry the numbers ("canary 42 min on ray/iris, error rate 0.3 %
≤ 1.0 %, p95 88 ms ≤ 300 ms").

Approvals live in the registry as model-version tags, so every desktop sees them after
a sync and the registry keeps them without Modeldeck::

    key    modeldeck.approval.<alias>.<actor>
    value  {"by": "ana.silva", "at": "2026-12-01T10:04:00Z", "note": "looks good",
            "verified_by": "mlflow-prod"}        # or null: an OS login, unverified

MLflow allows tag keys of letters, digits, ``_ - . : /`` and space, at most 250
characters (``mlflow.utils.validation._validate_tag_name``); an alias is ``[\\w-]``
(never a dot), so the key splits unambiguously after the alias. An actor name outside
``[A-Za-z0-9._-]`` (``ana@corp.com``, ``CORP\\ana``) is written with those characters
as ``_`` plus 8 hex digits of its SHA-256 (``ana_corp.com-1f2e3d4c``); the value's
``by`` always holds the exact name, and a value whose ``by`` does not map to its key
is not counted (a hand-edited tag cannot lend one person's key to another's name).
"""

from __future__ import annotations

import enum
import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.domain.errors import ModeldeckError
from app.domain.models import VersionStatus
from app.domain.text import counted, duration, iso_time

# ------------------------------------------------------------------ rules


class Check(enum.StrEnum):
    """What a rule can ask of a version before an alias points at it."""

    APPROVALS = "approvals"
    DESCRIPTION = "description"
    READY = "ready"
    SIGNATURE = "signature"
    HEALTHY_CANARY = "healthy_canary"


class OverrideMode(enum.StrEnum):
    FORBIDDEN = "forbidden"
    #: ``--override --reason TEXT`` moves the alias anyway, audited as an override
    WITH_REASON = "with-reason"


@dataclass(frozen=True, slots=True)
class CanaryRule:
    """The version served traffic at least ``minutes`` (up to now) within these bounds."""

    minutes: float = 30.0
    max_error_rate: float | None = 0.01
    max_p95_ms: float | None = None


@dataclass(frozen=True, slots=True)
class AliasRule:
    #: the alias (or an fnmatch pattern of aliases) this rule gates
    name: str
    approvals: int = 0
    four_eyes: bool = True
    require: tuple[Check, ...] = ()
    override: OverrideMode = OverrideMode.FORBIDDEN
    #: only approvals whose identity the registry verified count
    verified_only: bool = False
    healthy_canary: CanaryRule | None = None

    def matches(self, alias: str) -> bool:
        return fnmatch.fnmatchcase(alias, self.name)

    @property
    def checks(self) -> tuple[Check, ...]:
        """Every check of this rule, in table order (approvals first)."""
        out = [Check.APPROVALS] if self.approvals > 0 else []
        out += [c for c in self.require if c is not Check.APPROVALS]
        return tuple(out)

    @property
    def canary(self) -> CanaryRule:
        return self.healthy_canary or CanaryRule()


@dataclass(frozen=True, slots=True)
class Policy:
    """The team's rules, in file order; ``digest`` is the SHA-256 of the file's bytes."""

    rules: tuple[AliasRule, ...] = ()
    digest: str = ""

    def rule_for(self, alias: str) -> AliasRule | None:
        """The rule gating ``alias``: one naming it exactly, else the first pattern
        (file order) that matches, else None (the alias moves freely)."""
        for rule in self.rules:
            if rule.name == alias:
                return rule
        return next((r for r in self.rules if r.matches(alias)), None)


ALIAS_NAME = re.compile(r"^[\w-]{1,255}$")


def check_alias(alias: str) -> str | None:
    """Why ``alias`` cannot be a registry alias (MLflow: letters, digits, ``_``, ``-``)."""
    if not ALIAS_NAME.match(alias):
        return f"alias {alias!r}: use letters, digits, '_' or '-' (at most 255)"
    if re.fullmatch(r"[vV]\d+", alias) or alias == "latest":
        return f"alias {alias!r} is reserved by the registry"
    return None


# ------------------------------------------------------------------ approvals
APPROVAL_PREFIX = "modeldeck.approval."
#: MLflow's limit for a model-version tag key
MAX_TAG_KEY = 250
_PLAIN_ACTOR = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def actor_key(actor: str) -> str:
    """``actor`` as it appears in a tag key (see the module doc)."""
    if _PLAIN_ACTOR.match(actor):
        return actor
    digest = hashlib.sha256(actor.encode("utf-8")).hexdigest()[:8]
    plain = re.sub(r"[^A-Za-z0-9._-]", "_", actor)[:100].lstrip("._-") or "actor"
    return f"{plain}-{digest}"


def approval_key(alias: str, actor: str) -> str:
    """The version-tag key of ``actor``'s approval for ``alias``."""
    problem = check_alias(alias)
    if problem:
        raise ValueError(problem)
    key = f"{APPROVAL_PREFIX}{alias}.{actor_key(actor)}"
    if len(key) > MAX_TAG_KEY:
        raise ValueError(f"approval tag key over {MAX_TAG_KEY} characters: {key[:60]}…")
    return key


@dataclass(frozen=True, slots=True)
class Approval:
    """One person's approval of a version for an alias, as kept in a version tag."""

    alias: str
    actor: str
    at: datetime
    note: str = ""
    #: the backend that authenticated ``actor`` (None: an OS login, unverified)
    verified_by: str | None = None
    model: str = ""
    version: str = ""
    source: str = ""

    @property
    def key(self) -> str:
        return approval_key(self.alias, self.actor)

    @property
    def identity(self) -> str:
        """``verified by mlflow-prod`` or ``os login, unverified``."""
        return f"verified by {self.verified_by}" if self.verified_by else "os login, unverified"

    def tag_value(self) -> str:
        return json.dumps(
            {
                "by": self.actor,
                "at": iso_time(self.at),
                "note": self.note,
                "verified_by": self.verified_by,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )


def parse_approval(key: str, value: str) -> Approval | str | None:
    """The approval a version tag holds; a one-line problem when it is a malformed
    approval tag; None when the tag is not an approval at all."""
    if not key.startswith(APPROVAL_PREFIX):
        return None
    alias, dot, who = key[len(APPROVAL_PREFIX) :].partition(".")
    if not dot or not alias or not who:
        return f"tag {key!r}: not modeldeck.approval.<alias>.<actor>"
    try:
        raw = json.loads(value)
    except ValueError:
        return f"tag {key!r}: the value is not JSON"
    if not isinstance(raw, dict):
        return f"tag {key!r}: the value is not a JSON object"
    actor = raw.get("by", who)
    if not isinstance(actor, str) or actor_key(actor) != who:
        return f"tag {key!r}: the value names {actor!r}, not the key's actor (not counted)"
    at_text = raw.get("at")
    try:
        at = datetime.fromisoformat(str(at_text).replace("Z", "+00:00"))
    except ValueError:
        return f"tag {key!r}: 'at' is not an ISO time"
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    note = raw.get("note") or ""
    verified = raw.get("verified_by")
    return Approval(
        alias,
        actor,
        at.astimezone(UTC),
        note if isinstance(note, str) else str(note),
        verified if isinstance(verified, str) and verified else None,
    )


def approvals_in(tags: Mapping[str, str]) -> tuple[list[Approval], list[str]]:
    """The approvals among a version's tags (oldest first), and malformed ones' problems."""
    found: list[Approval] = []
    problems: list[str] = []
    for key, value in tags.items():
        got = parse_approval(key, value)
        if isinstance(got, Approval):
            found.append(got)
        elif isinstance(got, str):
            problems.append(got)
    found.sort(key=lambda a: (a.at, a.actor))
    return found, problems


# ------------------------------------------------------------------ evidence
@dataclass(frozen=True, slots=True)
class CanaryFigures:
    """A version's traffic on one deployment, from the metrics source."""

    target: str
    app: str
    #: the version's share of the app's traffic now, in percent
    percent: int
    #: the span the figures cover (the rule's minutes), seconds
    window_s: int
    #: how long the version has served traffic without a gap, up to now (seconds)
    served_s: float
    #: requests the version answered in the window
    requests: float | None = None
    error_rate: float | None = None
    p95_ms: float | None = None
    #: why figures are missing (a query refused, no series) — one line
    problem: str = ""

    @property
    def where(self) -> str:
        return f"{self.target}/{self.app}"


@dataclass(frozen=True, slots=True)
class GateEvidence:
    """What the gate judges, gathered by the governance service at one moment."""

    model: str
    version: str
    alias: str
    #: who asks for the move (registry identity or OS login)
    requester: str
    at: datetime
    source: str = ""
    version_description: str = ""
    model_description: str = ""
    status: VersionStatus = VersionStatus.UNKNOWN
    #: True/False when read; None when it could not be read (``signature_problem``)
    signature: bool | None = None
    signature_problem: str = ""
    approvals: tuple[Approval, ...] = ()
    approval_problems: tuple[str, ...] = ()
    #: per deployment serving the version; None: not gathered (``canary_problem``)
    canary: tuple[CanaryFigures, ...] | None = None
    canary_problem: str = ""


@dataclass(frozen=True, slots=True)
class GateRow:
    check: str
    ok: bool
    evidence: str

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.check}: {self.evidence}"


@dataclass(frozen=True, slots=True)
class Gate:
    """The promotion gate for one alias move: the rule, and a row per check."""

    model: str
    version: str
    alias: str
    requester: str
    at: datetime
    #: the matching rule's name (pattern); None: no rule, the alias moves freely
    rule: str | None = None
    override: OverrideMode = OverrideMode.FORBIDDEN
    rows: tuple[GateRow, ...] = ()
    source: str = ""

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    @property
    def unmet(self) -> tuple[GateRow, ...]:
        return tuple(r for r in self.rows if not r.ok)

    @property
    def gated(self) -> bool:
        return self.rule is not None

    def headline(self) -> str:
        what = f"{self.alias} → {self.model} v{self.version}"
        if self.rule is None:
            return f"{what}: no policy rule matches {self.alias!r}; it moves freely"
        rule = f"rule {self.rule!r}" if self.rule != self.alias else "its policy rule"
        met = sum(r.ok for r in self.rows)
        return f"{what}: {met} of {counted(len(self.rows), 'check')} met ({rule})"

    def reason(self) -> str:
        """One line naming every unmet check (empty when the gate is open)."""
        return "; ".join(f"{r.check}: {r.evidence}" for r in self.unmet)

    def text(self) -> str:
        return "\n".join([self.headline(), *(f"  {r.line()}" for r in self.rows)])

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "alias": self.alias,
            "source": self.source,
            "requester": self.requester,
            "at": iso_time(self.at),
            "rule": self.rule,
            "override": str(self.override),
            "ok": self.ok,
            "rows": [{"check": r.check, "ok": r.ok, "evidence": r.evidence} for r in self.rows],
        }


def _pct(ratio: float) -> str:
    pct = ratio * 100
    if pct == 0:
        return "0 %"
    if pct >= 10:
        return f"{pct:.0f} %"
    return f"{pct:.1f} %" if pct >= 0.1 else f"{pct:.2f} %"


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _when(at: datetime, previous: datetime | None) -> str:
    at = at.astimezone(UTC)
    if previous is not None and previous.astimezone(UTC).date() == at.date():
        return at.strftime("%H:%M")
    return at.strftime("%Y-%m-%d %H:%M")


def _approvals_row(rule: AliasRule, ev: GateEvidence) -> GateRow:
    mine = [a for a in ev.approvals if a.alias == ev.alias]
    counted_: list[Approval] = []
    left_out: list[str] = []
    for a in mine:
        if rule.four_eyes and a.actor == ev.requester:
            left_out.append(f"{a.actor}'s own does not count (four eyes)")
        elif rule.verified_only and not a.verified_by:
            left_out.append(f"{a.actor}'s is unverified (os login)")
        else:
            counted_.append(a)
    parts: list[str] = []
    previous: datetime | None = None
    for a in counted_:
        flag = "" if a.verified_by else " (unverified)"
        parts.append(f"{a.actor} {_when(a.at, previous)}{flag}")
        previous = a.at
    ok = len(counted_) >= rule.approvals
    if counted_:
        text = f"{counted(len(counted_), 'approval')}: {', '.join(parts)} UTC"
    else:
        text = f"no approval for {ev.alias}"
    if not ok:
        text += f" — needs {rule.approvals}"
    if left_out:
        text += f"; {'; '.join(left_out)}"
    if ev.approval_problems:
        text += f"; {counted(len(ev.approval_problems), 'malformed approval tag')} ignored"
    return GateRow(str(Check.APPROVALS), ok, text)


def _description_row(ev: GateEvidence) -> GateRow:
    if ev.version_description.strip():
        n = len(ev.version_description.strip())
        return GateRow(str(Check.DESCRIPTION), True, f"version card, {counted(n, 'character')}")
    if ev.model_description.strip():
        n = len(ev.model_description.strip())
        return GateRow(
            str(Check.DESCRIPTION),
            True,
            f"model card, {counted(n, 'character')} (v{ev.version} has none of its own)",
        )
    return GateRow(
        str(Check.DESCRIPTION), False, f"no description on v{ev.version} nor on the model"
    )


def _ready_row(ev: GateEvidence) -> GateRow:
    return GateRow(
        str(Check.READY), ev.status is VersionStatus.READY, f"registry status {ev.status}"
    )


def _signature_row(ev: GateEvidence) -> GateRow:
    if ev.signature is None:
        why = ev.signature_problem or "not read"
        return GateRow(str(Check.SIGNATURE), False, f"could not read the signature: {why}")
    if ev.signature:
        return GateRow(str(Check.SIGNATURE), True, "model signature present (MLmodel)")
    return GateRow(str(Check.SIGNATURE), False, f"no model signature in v{ev.version}'s MLmodel")


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def canary_verdict(rule: CanaryRule, fig: CanaryFigures) -> tuple[bool, str]:
    """One deployment's figures against the rule: (ok, evidence text)."""
    need_s = rule.minutes * 60
    head = f"on {fig.where} ({fig.percent} %)"
    if fig.problem:
        return False, f"{head}: {fig.problem}"
    served = f"served {duration(fig.served_s)}"
    if fig.served_s + 1e-6 < need_s:
        return False, f"{head}: {served} of the {duration(need_s)} required"
    parts = [f"canary {duration(fig.served_s)} {head}"]
    ok = True
    err, p95 = _finite(fig.error_rate), _finite(fig.p95_ms)
    if rule.max_error_rate is not None:
        if err is None:
            ok = False
            parts.append("no error-rate figure")
        elif err > rule.max_error_rate:
            ok = False
            parts.append(f"error rate {_pct(err)} > {_pct(rule.max_error_rate)}")
        else:
            parts.append(f"error rate {_pct(err)} ≤ {_pct(rule.max_error_rate)}")
    elif err is not None:
        parts.append(f"error rate {_pct(err)}")
    if rule.max_p95_ms is not None:
        if p95 is None:
            ok = False
            parts.append("no p95 latency figure")
        elif p95 > rule.max_p95_ms:
            ok = False
            parts.append(f"p95 {_ms(p95)} > {_ms(rule.max_p95_ms)}")
        else:
            parts.append(f"p95 {_ms(p95)} ≤ {_ms(rule.max_p95_ms)}")
    elif p95 is not None:
        parts.append(f"p95 {_ms(p95)}")
    window = f"last {duration(fig.window_s)}"
    return ok, ", ".join(parts) + f" ({window})"


def _canary_row(rule: AliasRule, ev: GateEvidence) -> GateRow:
    name = str(Check.HEALTHY_CANARY)
    c = rule.canary
    if ev.canary is None:
        return GateRow(name, False, f"no canary figures: {ev.canary_problem or 'not gathered'}")
    if not ev.canary:
        why = ev.canary_problem or f"v{ev.version} serves no cached deployment of {ev.model}"
        return GateRow(name, False, why)
    verdicts = [canary_verdict(c, f) for f in ev.canary]
    long_enough = [
        (ok, text)
        for (ok, text), f in zip(verdicts, ev.canary, strict=True)
        if not f.problem and f.served_s + 1e-6 >= c.minutes * 60
    ]
    # a version out of bounds on any deployment is not healthy; at least one
    # deployment must have served it for the whole span
    bad = [text for ok, text in long_enough if not ok]
    if bad:
        return GateRow(name, False, "; ".join(bad))
    if long_enough:
        return GateRow(name, True, "; ".join(text for _ok, text in long_enough))
    return GateRow(name, False, "; ".join(text for _ok, text in verdicts))


def evaluate_gate(rule: AliasRule | None, ev: GateEvidence) -> Gate:
    """The gate table of moving ``ev.alias`` to ``ev.version`` under ``rule``."""
    base = Gate(ev.model, ev.version, ev.alias, ev.requester, ev.at, source=ev.source)
    if rule is None:
        return base
    rows: list[GateRow] = []
    for check in rule.checks:
        if check is Check.APPROVALS:
            rows.append(_approvals_row(rule, ev))
        elif check is Check.DESCRIPTION:
            rows.append(_description_row(ev))
        elif check is Check.READY:
            rows.append(_ready_row(ev))
        elif check is Check.SIGNATURE:
            rows.append(_signature_row(ev))
        else:
            rows.append(_canary_row(rule, ev))
    return Gate(
        ev.model,
        ev.version,
        ev.alias,
        ev.requester,
        ev.at,
        rule.name,
        rule.override,
        tuple(rows),
        ev.source,
    )


# ------------------------------------------------------------------ the decision
class GateRefused(ModeldeckError):
    """An alias move the policy refuses (exit 1 with the reason; nothing written)."""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    #: allowed only because of ``--override --reason``
    overridden: bool = False
    #: one line: why it is refused, or the override's reason
    why: str = ""


def decide(gate: Gate, *, override: bool = False, reason: str | None = None) -> Decision:
    """May the move go ahead? An open gate: yes. A closed one: only with
    ``override`` and a reason, where the rule allows overrides."""
    if gate.ok:
        return Decision(True)
    unmet = f"{gate.alias} needs {gate.reason()}"
    if not override:
        hint = ""
        if gate.override is OverrideMode.WITH_REASON:
            hint = " (or --override --reason TEXT)"
        return Decision(False, why=f"refused: {unmet}{hint}")
    if gate.override is OverrideMode.FORBIDDEN:
        return Decision(False, why=f"refused: overrides are forbidden for {gate.alias}; {unmet}")
    text = (reason or "").strip()
    if not text:
        return Decision(False, why="refused: --override needs --reason TEXT")
    return Decision(True, overridden=True, why=text)


def evidence_snapshot(gate: Gate, decision: Decision | None = None) -> dict[str, Any]:
    """What the audit trail keeps of a gate: the table with its numbers at that moment."""
    out = gate.to_json()
    if decision is not None:
        out["decision"] = {
            "allowed": decision.allowed,
            "overridden": decision.overridden,
            "why": decision.why,
        }
    return out


__all__ = [
    "APPROVAL_PREFIX",
    "AliasRule",
    "Approval",
    "CanaryFigures",
    "CanaryRule",
    "Check",
    "Decision",
    "Gate",
    "GateEvidence",
    "GateRefused",
    "GateRow",
    "OverrideMode",
    "Policy",
    "actor_key",
    "approval_key",
    "approvals_in",
    "canary_verdict",
    "check_alias",
    "decide",
    "evaluate_gate",
    "evidence_snapshot",
    "parse_approval",
]
