"""Alerts that reach the team: events, subscriptions, the anti-flap rule, the messages
and the webhook signature. Pure: no I/O (the sender is ``app.adapters.notify``, the
loop and the delivery state ``app.services.notify``).

Two sources of events:

* **actions**, read from the audit trail (every deploy, scale, canary, promote,
  rollback, undeploy, alias move, approval and policy refusal is recorded there with
  an id, its actor and its detail): ``event_from_audit``;
* **health transitions**, from polling the health service: ``step_health`` applies
  the hold (a status must hold ``hold_s`` before it is announced) and the repeat
  limit (the same status of one deployment is announced at most once per
  ``repeat_s``; a recovery is announced only after a problem was).

An event's ``id`` is stable (``audit-42``, ``health-ray-iris-failing-1764633600``): it
is the idempotency key of its deliveries, so no channel is ever sent one event twice.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from app.domain.health import HealthStatus

# ------------------------------------------------------------------ event kinds


class EventKind(enum.StrEnum):
    HEALTH_FAILING = "health.failing"
    HEALTH_DEGRADED = "health.degraded"
    HEALTH_UNKNOWN = "health.unknown"
    HEALTH_RECOVERED = "health.recovered"
    DEPLOY = "deploy"
    SCALE = "scale"
    CANARY = "canary"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    UNDEPLOY = "undeploy"
    ALIAS = "alias"
    APPROVAL = "approval"
    REFUSAL = "refusal"
    #: ``modeldeck notify test``: sent on demand, never subscribed to
    TEST = "test"


HEALTH_KINDS = frozenset(
    {
        EventKind.HEALTH_FAILING,
        EventKind.HEALTH_DEGRADED,
        EventKind.HEALTH_UNKNOWN,
        EventKind.HEALTH_RECOVERED,
    }
)
DEPLOY_KINDS = frozenset(
    {
        EventKind.DEPLOY,
        EventKind.SCALE,
        EventKind.CANARY,
        EventKind.PROMOTE,
        EventKind.ROLLBACK,
        EventKind.UNDEPLOY,
    }
)
GOVERNANCE_KINDS = frozenset({EventKind.ALIAS, EventKind.APPROVAL, EventKind.REFUSAL})

#: names ``--events`` accepts besides the kinds themselves
GROUPS: dict[str, frozenset[EventKind]] = {
    "health": HEALTH_KINDS,
    "deploys": DEPLOY_KINDS,
    "governance": GOVERNANCE_KINDS,
    "all": HEALTH_KINDS | DEPLOY_KINDS | GOVERNANCE_KINDS,
}
#: a channel's subscription when ``--events`` is not given
DEFAULT_EVENTS = ("health.failing", "health.recovered", "deploys")

_HEALTH_KIND = {
    HealthStatus.FAILING: EventKind.HEALTH_FAILING,
    HealthStatus.DEGRADED: EventKind.HEALTH_DEGRADED,
    HealthStatus.UNKNOWN: EventKind.HEALTH_UNKNOWN,
    HealthStatus.HEALTHY: EventKind.HEALTH_RECOVERED,
}


def parse_events(items: Iterable[str]) -> frozenset[EventKind]:
    """Kinds and group names (``health``, ``deploys``, ``governance``, ``all``) → kinds.
    ``ValueError`` naming the first unknown one."""
    out: set[EventKind] = set()
    for raw in items:
        name = raw.strip().lower()
        if not name:
            continue
        if name in GROUPS:
            out |= GROUPS[name]
            continue
        try:
            kind = EventKind(name)
            if kind is EventKind.TEST:
                raise ValueError
            out.add(kind)
        except ValueError:
            known = ", ".join([*GROUPS, *events_text(GROUPS["all"])])
            raise ValueError(f"unknown event {raw!r} (known: {known})") from None
    if not out:
        raise ValueError("no event kinds given")
    return frozenset(out)


def events_text(kinds: Iterable[EventKind]) -> list[str]:
    """Kinds in declaration order, as written in the settings file."""
    wanted = set(kinds)
    return [k.value for k in EventKind if k in wanted]


class ChannelKind(enum.StrEnum):
    SLACK = "slack"
    WEBHOOK = "webhook"


#: the statuses ``--min-status`` accepts (unknown has its own subscription)
MIN_STATUSES = (HealthStatus.DEGRADED, HealthStatus.FAILING)


@dataclass(frozen=True, slots=True)
class Channel:
    """A configured channel (the URL and signing secret live in the OS keyring)."""

    name: str
    kind: ChannelKind
    events: frozenset[EventKind] = field(default_factory=lambda: parse_events(DEFAULT_EVENTS))
    min_status: HealthStatus = HealthStatus.DEGRADED

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "events": events_text(self.events),
            "min_status": self.min_status.value,
        }


# ------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class NotifyEvent:
    """One thing worth telling the team (the webhook body's fields, ``to_json``)."""

    id: str
    kind: EventKind
    #: ISO 8601 UTC
    at: str
    target: str
    app: str
    model: str = ""
    version: str = ""
    #: health: the new status; actions: the result (ok | failed | refused | unknown)
    status: str = ""
    previous_status: str | None = None
    why: str = ""
    actor: str = ""
    #: the audit id an action event was read from
    audit_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.kind.value,
            "id": self.id,
            "at": self.at,
            "model": self.model,
            "version": self.version,
            "target": self.target,
            "app": self.app,
            "status": self.status,
            "previous_status": self.previous_status,
            "why": self.why,
            "actor": self.actor,
            "audit_id": self.audit_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotifyEvent:
        audit_id = data.get("audit_id")
        prev = data.get("previous_status")
        return cls(
            id=str(data["id"]),
            kind=EventKind(str(data["event"])),
            at=str(data["at"]),
            target=str(data.get("target", "")),
            app=str(data.get("app", "")),
            model=str(data.get("model", "")),
            version=str(data.get("version", "")),
            status=str(data.get("status", "")),
            previous_status=None if prev is None else str(prev),
            why=str(data.get("why", "")),
            actor=str(data.get("actor", "")),
            audit_id=int(audit_id) if isinstance(audit_id, int) else None,
        )


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def wants(channel: Channel, event: NotifyEvent, told: HealthStatus) -> bool:
    """Whether ``channel`` is sent ``event``. ``told`` is the last health status this
    channel was told for the event's deployment (healthy when none): a recovery goes
    only to a channel that was told of the problem, a problem below ``min_status`` to
    none."""
    if event.kind is EventKind.TEST:
        return True
    if event.kind not in channel.events:
        return False
    if event.kind not in HEALTH_KINDS:
        return True
    status = HealthStatus(event.status)
    if status is HealthStatus.HEALTHY:
        return told is not HealthStatus.HEALTHY
    if status is HealthStatus.UNKNOWN:
        return told is not HealthStatus.UNKNOWN
    return status.severity >= channel.min_status.severity and status is not told


def told_after(channel: Channel, event: NotifyEvent, told: HealthStatus) -> HealthStatus:
    """The status ``channel`` knows of once ``event`` is (or is not) sent to it."""
    if event.kind not in HEALTH_KINDS:
        return told
    return HealthStatus(event.status) if wants(channel, event, told) else told


# ------------------------------------------------------------------ health transitions


@dataclass(frozen=True, slots=True)
class Tracked:
    """What the watch remembers of one deployment between polls."""

    #: the status last announced (healthy before any)
    announced: HealthStatus = HealthStatus.HEALTHY
    #: a different status seen, and since when (it is announced once it held ``hold_s``)
    seen: HealthStatus | None = None
    since: float = 0.0
    #: status → when it was last announced (the repeat limit)
    last: Mapping[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "announced": self.announced.value,
            "seen": self.seen.value if self.seen is not None else None,
            "since": self.since,
            "last": dict(self.last),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tracked:
        seen = data.get("seen")
        last = data.get("last") or {}
        return cls(
            HealthStatus(str(data.get("announced", "healthy"))),
            HealthStatus(str(seen)) if seen else None,
            float(data.get("since", 0.0)),
            {str(k): float(v) for k, v in dict(last).items()},
        )


@dataclass(frozen=True, slots=True)
class Observation:
    """One deployment's status at one poll."""

    target: str
    app: str
    model: str
    version: str
    status: HealthStatus
    why: str


def health_event_id(target: str, app: str, status: HealthStatus, since: float) -> str:
    return f"health-{target}-{app}-{status.value}-{int(since)}"


def step_health(
    tracked: Tracked | None,
    seen: Observation,
    now: float,
    *,
    hold_s: float,
    repeat_s: float,
) -> tuple[Tracked, NotifyEvent | None]:
    """Fold one observation into what is remembered; the event to announce, if any.

    A status different from the one announced must be seen on every poll for
    ``hold_s`` before it is announced (a flap shorter than that is never announced);
    a status announced for this deployment less than ``repeat_s`` ago is not announced
    again (it stays pending until that time has passed, so a long outage is still
    told once the limit allows). A recovery is announced only when a problem was."""
    t = tracked or Tracked()
    status = seen.status
    if status is t.announced:
        return replace(t, seen=None, since=0.0), None
    if t.seen is not status:
        t = replace(t, seen=status, since=now)
    if now - t.since < hold_s:
        return t, None
    previous = t.announced
    last_same = t.last.get(status.value)
    if status is not HealthStatus.HEALTHY and last_same is not None and now - last_same < repeat_s:
        return t, None
    event = NotifyEvent(
        id=health_event_id(seen.target, seen.app, status, t.since),
        kind=_HEALTH_KIND[status],
        at=iso(now),
        target=seen.target,
        app=seen.app,
        model=seen.model,
        version=seen.version,
        status=status.value,
        previous_status=previous.value,
        why=seen.why,
    )
    last = {**t.last, status.value: now}
    return Tracked(status, None, 0.0, last), event


# ------------------------------------------------------------------ action events
_ACTION_KIND = {
    "deploy": EventKind.DEPLOY,
    "scale": EventKind.SCALE,
    "canary": EventKind.CANARY,
    "promote": EventKind.PROMOTE,
    "rollback": EventKind.ROLLBACK,
    "undeploy": EventKind.UNDEPLOY,
    "alias-set": EventKind.ALIAS,
    "alias-remove": EventKind.ALIAS,
    "alias-override": EventKind.ALIAS,
    "approve": EventKind.APPROVAL,
    "revoke": EventKind.APPROVAL,
}
_MODEL_VERSION = re.compile(r"\b(?:Deploy|to|Promote) (?P<model>\S+) v(?P<version>\S+)")

#: (target, app) → (model, version) of a cached deployment, or None
DeploymentLookup = Callable[[str, str], tuple[str, str] | None]


def event_from_audit(
    entry_id: int,
    *,
    at: str,
    user: str,
    identity: str,
    action: str,
    target: str,
    app: str,
    diff: str,
    result: str,
    detail: str,
    lookup: DeploymentLookup | None = None,
) -> NotifyEvent | None:
    """The event an audit row stands for (``None``: not one anyone is alerted about)."""
    kind = _ACTION_KIND.get(action)
    if result == "refused" and (kind in GOVERNANCE_KINDS or action.startswith("alias")):
        kind = EventKind.REFUSAL
    if kind is None:
        return None
    model, version = "", ""
    why = detail
    info: dict[str, Any] = {}
    if detail.startswith("{"):
        try:
            parsed = json.loads(detail)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            info = parsed
    if info:
        change = info.get("change") if isinstance(info.get("change"), dict) else {}
        assert isinstance(change, dict)
        model = str(change.get("model") or app)
        if str(change.get("what", "")).startswith("alias"):
            version = str(change.get("value") or "")
        else:
            version = str(change.get("version") or "")
        why = str(info.get("message") or info.get("summary") or "")
    else:
        summary = diff.splitlines()[0] if diff else ""
        m = _MODEL_VERSION.search(summary)
        if m is not None:
            model, version = m.group("model"), m.group("version")
        elif lookup is not None:
            found = lookup(target, app)
            if found is not None:
                model, version = found
        if summary:
            why = f"{summary}: {detail}" if detail else summary
    return NotifyEvent(
        id=f"audit-{entry_id}",
        kind=kind,
        at=at,
        target=target,
        app=app,
        model=model,
        version=version,
        status=result,
        why=why,
        actor=identity or user,
        audit_id=entry_id,
    )


# ------------------------------------------------------------------ messages
_EMOJI = {
    "failing": ":red_circle:",
    "degraded": ":large_orange_circle:",
    "unknown": ":white_circle:",
    "healthy": ":large_green_circle:",
    "ok": ":white_check_mark:",
    "failed": ":x:",
    "refused": ":no_entry:",
}


def headline(event: NotifyEvent) -> str:
    """One line: what happened, where (shared by Slack and ``notify history``)."""
    if event.kind is EventKind.TEST:
        return "Modeldeck test message: this channel is connected"
    where = f"{event.app} on {event.target}" if event.app else event.target
    what = f"{event.model} v{event.version}" if event.model and event.version else event.model
    if event.kind in HEALTH_KINDS:
        if event.kind is EventKind.HEALTH_RECOVERED:
            head = f"RECOVERED {where} (was {event.previous_status})"
        else:
            head = f"{event.status.upper()} {where}"
    else:
        head = f"{event.kind.value} {event.status}: {where}"
    return f"{head} — {what}" if what else head


def hint(event: NotifyEvent) -> str:
    """Where to look next (a command; the app shows the same page)."""
    if event.kind in HEALTH_KINDS or event.kind in DEPLOY_KINDS:
        return f"modeldeck health --app {event.app} --target {event.target}"
    return f"modeldeck audit list --since {event.at}"


def slack_payload(event: NotifyEvent) -> dict[str, Any]:
    """Slack's incoming-webhook JSON: ``text`` (notifications, fallbacks) + ``blocks``."""
    emoji = _EMOJI.get(event.status, ":bell:")
    head = headline(event)
    lines = [f"{emoji} *{_slack_escape(head)}*"]
    if event.why:
        lines.append(_slack_escape(event.why))
    context = [f"`{hint(event)}`", event.at]
    if event.actor:
        context.insert(0, f"by {_slack_escape(event.actor)}")
    return {
        "text": f"{head}: {event.why}" if event.why else head,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": " · ".join(context)}],
            },
        ],
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webhook_body(event: NotifyEvent) -> bytes:
    """The generic webhook's body (schema in docs/notifications.md), canonical JSON."""
    return json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")


def body_for(kind: ChannelKind, event: NotifyEvent) -> bytes:
    if kind is ChannelKind.SLACK:
        return json.dumps(slack_payload(event), ensure_ascii=False).encode("utf-8")
    return webhook_body(event)


SIGNATURE_HEADER = "X-Modeldeck-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(body: bytes, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of the raw body>`` with the channel's secret."""
    mac = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(body: bytes, secret: str, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), signature.strip())
