"""Alerts that reach the team: channels (Slack, signed webhooks), the delivery state and
the watch loop (``modeldeck watch``).

* **Channels** are ``[notify.channels.NAME]`` tables of the settings file (kind, events,
  min_status). A channel's URL — a secret: a Slack incoming-webhook URL grants posting —
  and a webhook's signing secret live in the OS keyring only, under the service
  ``<APP_ID>.notify`` with the channel's name as the entry's user name
  (``{"token": URL, "password": SIGNING_SECRET}``). Never in settings, the cache, the
  state file, logs or argv.
* **Events**: actions are read from the audit trail after a cursor (every deploy, scale,
  canary, promote, rollback, undeploy, alias move, approval and refusal is recorded there
  already, so nothing else calls the notifier); health transitions come from polling
  ``HealthService.fleet`` through ``app.domain.notify.step_health`` (hold, repeat limit,
  recovery).
* **Delivery state** is one JSON file in the data dir (``notify-state.json``, written
  atomically under an exclusive lock): the audit cursor, what each deployment last
  announced, what each channel was told, and one record per channel × event id. An event
  is put in the outbox in the same write that moves the cursor, and marked delivered
  after a 2xx, so a restart neither re-sends a delivered event nor loses a pending one;
  every request carries ``Idempotency-Key: <event id>`` for the rare crash between the
  2xx and the write. Failed sends are retried with exponential backoff, a bounded number
  of times (``[notify] attempts`` per round, ``max_attempts`` in all).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets as pysecrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from app import APP_ID
from app.adapters.notify import HttpSender, SendResult
from app.domain.backends import check_name, check_url, is_loopback_host
from app.domain.errors import ConfigError, CredentialError, ModeldeckError, NotFound
from app.domain.health import FleetReport, HealthStatus
from app.domain.models import Credential
from app.domain.notify import (
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    Channel,
    ChannelKind,
    EventKind,
    NotifyEvent,
    Observation,
    Tracked,
    body_for,
    event_from_audit,
    headline,
    iso,
    parse_events,
    sign,
    step_health,
    told_after,
    wants,
)
from app.services.audit import AuditService
from app.services.catalog import CatalogService
from app.services.settings import NotifySettings, SettingsFile

log = logging.getLogger(__name__)

#: the keyring service channel secrets are kept under (apart from the backends')
SECRET_SERVICE = f"{APP_ID}.notify"
STATE_FILE = "notify-state.json"
STATE_VERSION = 1
#: delivered / given-up records are kept this long (then pruned)
KEEP_S = 30 * 86400
MAX_BACKOFF_S = 600.0


class SecretStore(Protocol):
    def get(self, name: str) -> Credential | None: ...
    def set(self, name: str, credential: Credential) -> None: ...
    def delete(self, name: str) -> bool: ...


class Sender(Protocol):
    def post(self, channel: str, url: str, body: bytes, headers: dict[str, str]) -> SendResult: ...
    def close(self) -> None: ...


class FleetSource(Protocol):
    def fleet(self, *, at: float | None = None, remember: bool = True) -> FleetReport: ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """One channel × one event: its state in the outbox."""

    channel: str
    event: NotifyEvent
    state: str  # pending | delivered | failed
    attempts: int = 0
    next_at: float = 0.0
    last_error: str = ""
    done_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "event": self.event.to_json(),
            "state": self.state,
            "attempts": self.attempts,
            "next_at": self.next_at,
            "last_error": self.last_error,
            "done_at": self.done_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        done = data.get("done_at")
        return cls(
            str(data["channel"]),
            NotifyEvent.from_json(data["event"]),
            str(data["state"]),
            int(data.get("attempts", 0)),
            float(data.get("next_at", 0.0)),
            str(data.get("last_error", "")),
            float(done) if done is not None else None,
        )


@dataclass
class _State:
    audit_cursor: int | None = None
    tracked: dict[str, Tracked] = field(default_factory=dict)
    #: channel → deployment key → the status it was last told
    told: dict[str, dict[str, str]] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "audit_cursor": self.audit_cursor,
            "tracked": {k: t.to_json() for k, t in sorted(self.tracked.items())},
            "told": self.told,
            "deliveries": {k: d.to_json() for k, d in self.deliveries.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _State:
        cursor = data.get("audit_cursor")
        return cls(
            int(cursor) if isinstance(cursor, int) else None,
            {str(k): Tracked.from_json(v) for k, v in dict(data.get("tracked", {})).items()},
            {str(c): dict(v) for c, v in dict(data.get("told", {})).items()},
            {str(k): Delivery.from_json(v) for k, v in dict(data.get("deliveries", {})).items()},
        )


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one pass of the watch did."""

    at: float
    events: tuple[NotifyEvent, ...]
    delivered: tuple[Delivery, ...]
    failed: tuple[Delivery, ...]
    pending: int
    #: status → how many deployments
    statuses: dict[str, int]
    #: metrics source → why it could not be used this time
    errors: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "events": [e.to_json() for e in self.events],
            "delivered": [{"channel": d.channel, "id": d.event.id} for d in self.delivered],
            "failed": [
                {"channel": d.channel, "id": d.event.id, "error": d.last_error} for d in self.failed
            ],
            "pending": self.pending,
            "statuses": self.statuses,
            "errors": self.errors,
        }


def _dkey(target: str, app: str) -> str:
    return f"{target}/{app}"


class NotifyService:
    """Channels, delivery state and the watch loop. Synchronous; ``clock`` and ``sleep``
    are injectable so tests step through history."""

    def __init__(
        self,
        settings: SettingsFile,
        secrets: SecretStore,
        audit: AuditService,
        *,
        catalog: CatalogService,
        health: Callable[[], FleetSource],
        state_path: Path,
        sender: Sender | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        demo: bool = False,
    ) -> None:
        #: the demo workspace: nothing is contacted from it, so no channel can be added
        self.demo = demo
        self._held = False
        self._settings = settings
        self._secrets = secrets
        self._audit = audit
        self._catalog = catalog
        self._health = health
        self.state_path = state_path
        self._sender = sender
        self._clock = clock
        self._sleep = sleep

    # ------------------------------------------------------------- settings
    def settings(self) -> NotifySettings:
        return self._settings.notify()

    def channels(self) -> list[Channel]:
        return self.settings().channel_list()

    def channel(self, name: str) -> Channel:
        for c in self.channels():
            if c.name == name:
                return c
        raise NotFound(f"no notification channel named {name!r} (see: modeldeck notify list)")

    def _sender_(self) -> Sender:
        if self._sender is None:
            self._sender = HttpSender(timeout_s=self.settings().timeout_seconds)
        return self._sender

    def close(self) -> None:
        if self._sender is not None:
            self._sender.close()

    # ------------------------------------------------------------- channels
    def add_refused(self) -> str | None:
        """Why no channel can be added in this workspace (the demo), or ``None``."""
        if self.demo:
            return (
                "the demo workspace sends no notifications (nothing is contacted from it); "
                "add channels in your real workspace. `watch` here still shows the events"
            )
        return None

    def add(
        self,
        name: str,
        kind: ChannelKind,
        url: str,
        *,
        events: Sequence[str] | None = None,
        min_status: HealthStatus = HealthStatus.DEGRADED,
        replace: bool = False,
    ) -> tuple[Channel, str | None]:
        """Save a channel: its URL (and, for a webhook, a new signing secret) to the OS
        keyring first, then its table to the settings file. Returns the channel and the
        signing secret (``None`` for Slack) — shown once, so the receiver can verify."""
        refused = self.add_refused()
        if refused:
            raise ConfigError(refused)
        problem = check_name(name)
        if problem:
            raise ConfigError(f"channel {name!r}: {problem}")
        problem = check_url(url.strip())
        if problem:
            raise ConfigError(f"channel {name!r}: {problem}")
        url = url.strip()
        if kind is ChannelKind.SLACK:
            host = urlsplit(url).hostname or ""
            if urlsplit(url).scheme != "https" and not is_loopback_host(host):
                raise ConfigError(f"channel {name!r}: a Slack webhook URL starts with https://")
        if min_status not in (HealthStatus.DEGRADED, HealthStatus.FAILING):
            raise ConfigError("--min-status: degraded or failing")
        try:
            kinds = parse_events(events) if events is not None else None
        except ValueError as exc:
            raise ConfigError(f"--events: {exc}") from None
        channel = (
            Channel(name, kind, kinds, min_status)
            if kinds is not None
            else Channel(name, kind, min_status=min_status)
        )
        if not replace and any(c.name == name for c in self.channels()):
            raise ConfigError(
                f"a channel named {name!r} already exists (remove it first, or --replace)"
            )
        secret = pysecrets.token_hex(32) if kind is ChannelKind.WEBHOOK else None
        self._secrets.set(name, Credential(token=url, password=secret))
        try:
            self._settings.put_channel(channel, replace=replace)
        except BaseException:
            self._secrets.delete(name)
            raise
        with self._locked() as state:
            if state.audit_cursor is None:
                state.audit_cursor = self._last_audit_id()
        log.info("notify: channel %s (%s) added", name, kind.value)
        return channel, secret

    def remove(self, name: str) -> bool:
        gone = self._settings.remove_channel(name)
        try:
            secret_gone = self._secrets.delete(name)
        except CredentialError as exc:
            raise ConfigError(
                f"channel {name!r} removed from the settings, but its keyring entry could "
                f"not be deleted: {exc}"
            ) from exc
        if not gone and not secret_gone:
            raise NotFound(f"no notification channel named {name!r}")
        log.info("notify: channel %s removed", name)
        return True

    def _credential(self, name: str) -> Credential:
        cred = self._secrets.get(name)
        if cred is None or not cred.token:
            raise CredentialError(
                f"channel {name!r} has no URL in the OS keyring; add it again "
                f"(modeldeck notify add {name} --replace --url-stdin ...)"
            )
        return cred

    def show_secret(self, name: str) -> str:
        channel = self.channel(name)
        if channel.kind is not ChannelKind.WEBHOOK:
            raise ConfigError(f"channel {name!r} is a Slack channel: it has no signing secret")
        cred = self._credential(name)
        if not cred.password:
            raise CredentialError(f"channel {name!r} has no signing secret in the OS keyring")
        return cred.password

    def test(self, name: str) -> Delivery:
        """Send one test event now (one round of attempts; nothing recorded)."""
        channel = self.channel(name)
        now = self._clock()
        event = NotifyEvent(
            id=f"test-{name}-{int(now * 1000)}",
            kind=EventKind.TEST,
            at=iso(now),
            target="",
            app="",
            status="ok",
            why=f"a test from modeldeck notify test {name}",
        )
        d = Delivery(name, event, "pending")
        return self._deliver(channel, d, now, self.settings())

    # ------------------------------------------------------------- state
    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        """The workspace's notify lock (re-entrant in this object): a whole pass holds it,
        so two watchers on one workspace never send one delivery twice."""
        if self._held:
            yield
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.state_path.with_name(self.state_path.name + ".lock")
        with open(lock_path, "a+b") as lock:
            _lock(lock.fileno())
            self._held = True
            try:
                yield
            finally:
                self._held = False

    @contextlib.contextmanager
    def _locked(self) -> Iterator[_State]:
        """The state, read under the lock and written back atomically."""
        with self._exclusive():
            state = self._read()
            yield state
            self._write(state)

    def _read(self) -> _State:
        if not self.state_path.exists():
            return _State()
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return _State.from_json(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(
                f"{self.state_path}: cannot read the notification state ({exc}); move it "
                "away to start afresh (deliveries already made are then forgotten)"
            ) from exc

    def _write(self, state: _State) -> None:
        fd, tmp = tempfile.mkstemp(
            prefix=".notify-state-", suffix=".json", dir=self.state_path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state.to_json(), fh, ensure_ascii=False, indent=1)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.state_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def history(self, limit: int = 50) -> list[Delivery]:
        """Deliveries, newest event first."""
        if not self.state_path.exists():
            return []
        rows = sorted(self._read().deliveries.values(), key=lambda d: d.event.at, reverse=True)
        return rows[:limit]

    def _last_audit_id(self) -> int:
        entries = self._audit.list()
        return entries[-1].id if entries else 0

    # ------------------------------------------------------------- the loop
    def cycle(self, now: float | None = None) -> CycleReport:
        """One pass: new audit entries and health transitions into the outbox (in the
        same write that moves the cursor), then every due delivery, with retries."""
        with self._exclusive():
            return self._cycle(self._clock() if now is None else now)

    def _cycle(self, at: float) -> CycleReport:
        conf = self.settings()
        channels = {c.name: c for c in conf.channel_list()}
        report = self._health().fleet(at=at, remember=False)
        statuses = {s.value: n for s, n in report.counts().items()}
        with self._locked() as state:
            events = self._audit_events(state) + self._health_events(state, report, at, conf)
            for event in events:
                self._enqueue(state, channels, event, at)
            self._prune(state, at, channels)
            due = [d for d in state.deliveries.values() if d.state == "pending" and d.next_at <= at]
        delivered: list[Delivery] = []
        failed: list[Delivery] = []
        for d in sorted(due, key=lambda x: (x.event.at, x.event.id)):
            channel = channels.get(d.channel)
            if channel is None:
                done = Delivery(
                    d.channel, d.event, "failed", d.attempts, d.next_at, "channel removed", at
                )
            else:
                done = self._deliver(channel, d, at, conf)
            with self._locked() as state:
                state.deliveries[_rkey(done.channel, done.event.id)] = done
            (delivered if done.state == "delivered" else failed).append(done)
        pending = sum(1 for d in self._read().deliveries.values() if d.state == "pending")
        return CycleReport(
            at,
            tuple(events),
            tuple(delivered),
            tuple(d for d in failed if d.state == "failed" or d.last_error),
            pending,
            statuses,
            dict(report.errors),
        )

    def watch(
        self,
        interval_s: float,
        *,
        once: bool = False,
        stop: threading.Event | None = None,
        on_cycle: Callable[[CycleReport], None] | None = None,
    ) -> int:
        """Run cycles every ``interval_s`` until ``stop`` is set (or once). A cycle that
        fails (a broken setting, the keyring gone) is logged and the loop goes on;
        ``once`` lets the error through. Returns how many cycles ran."""
        stop = stop or threading.Event()
        n = 0
        while not stop.is_set():
            started = self._clock()
            try:
                report = self.cycle()
            except ModeldeckError as exc:
                if once:
                    raise
                log.warning("watch: this pass failed: %s", exc)
            else:
                if on_cycle is not None:
                    on_cycle(report)
            n += 1
            if once:
                break
            stop.wait(max(0.0, interval_s - (self._clock() - started)))
        return n

    # ------------------------------------------------------------- events
    def _audit_events(self, state: _State) -> list[NotifyEvent]:
        entries = self._audit.list()
        if state.audit_cursor is None:
            # the first pass: what was done before anyone subscribed is not news
            state.audit_cursor = entries[-1].id if entries else 0
            return []
        new = [e for e in entries if e.id > state.audit_cursor]
        if not new:
            return []
        deployed = {(d.target, d.app): d for d in self._catalog.deployments(None)}

        def lookup(target: str, app: str) -> tuple[str, str] | None:
            d = deployed.get((target, app))
            return (d.model_name, ",".join(d.versions)) if d is not None else None

        out = []
        for e in new:
            ev = event_from_audit(
                e.id,
                at=e.at,
                user=e.user,
                identity=e.identity,
                action=e.action,
                target=e.target,
                app=e.app,
                diff=e.diff,
                result=e.result,
                detail=e.detail,
                lookup=lookup,
            )
            if ev is not None:
                out.append(ev)
        state.audit_cursor = new[-1].id
        return out

    def _health_events(
        self, state: _State, report: FleetReport, at: float, conf: NotifySettings
    ) -> list[NotifyEvent]:
        out = []
        seen = set()
        for h in report.deployments:
            key = _dkey(*h.key)
            seen.add(key)
            d = h.deployment
            obs = Observation(
                d.target, d.app, d.model_name, ",".join(d.versions), h.status, h.verdict.why
            )
            tracked, event = step_health(
                state.tracked.get(key),
                obs,
                at,
                hold_s=conf.hold_seconds,
                repeat_s=conf.repeat_seconds,
            )
            state.tracked[key] = tracked
            if event is not None:
                out.append(event)
        for gone in set(state.tracked) - seen:
            del state.tracked[gone]
        return out

    def _enqueue(
        self, state: _State, channels: dict[str, Channel], event: NotifyEvent, at: float
    ) -> None:
        key = _dkey(event.target, event.app)
        for channel in channels.values():
            told_map = state.told.setdefault(channel.name, {})
            told = HealthStatus(told_map.get(key, HealthStatus.HEALTHY.value))
            if wants(channel, event, told):
                rkey = _rkey(channel.name, event.id)
                if rkey not in state.deliveries:  # never twice for one event
                    state.deliveries[rkey] = Delivery(channel.name, event, "pending", next_at=at)
            after = told_after(channel, event, told)
            if after is HealthStatus.HEALTHY:
                told_map.pop(key, None)
            else:
                told_map[key] = after.value

    def _prune(self, state: _State, at: float, channels: dict[str, Channel]) -> None:
        for k, d in list(state.deliveries.items()):
            if d.state != "pending" and d.done_at is not None and at - d.done_at > KEEP_S:
                del state.deliveries[k]
        for name in set(state.told) - set(channels):
            del state.told[name]

    # ------------------------------------------------------------- delivery
    def _deliver(self, channel: Channel, d: Delivery, now: float, conf: NotifySettings) -> Delivery:
        try:
            cred = self._credential(channel.name)
        except CredentialError as exc:
            return self._failed_attempt(d, str(exc), now, conf, attempts=d.attempts + 1)
        url = cred.token or ""
        body = body_for(channel.kind, d.event)
        headers = {IDEMPOTENCY_HEADER: d.event.id}
        if channel.kind is ChannelKind.WEBHOOK:
            if not cred.password:
                return self._failed_attempt(
                    d, f"{channel.name}: no signing secret in the keyring", now, conf
                )
            headers[SIGNATURE_HEADER] = sign(body, cred.password)
        attempts = d.attempts
        result = SendResult(False, None, "not sent")
        for i in range(conf.attempts):
            if i:
                self._sleep(min(conf.backoff_seconds * 2 ** (i - 1), MAX_BACKOFF_S))
            result = self._sender_().post(channel.name, url, body, headers)
            attempts += 1
            if result.ok:
                log.info(
                    "notify: %s (%s) delivered to %s after %d attempt(s)",
                    d.event.id,
                    headline(d.event),
                    channel.name,
                    attempts,
                )
                return Delivery(channel.name, d.event, "delivered", attempts, d.next_at, "", now)
            log.warning("notify: %s to %s: %s", d.event.id, channel.name, result.detail)
            if attempts >= conf.max_attempts:
                break
        return self._failed_attempt(d, result.detail, now, conf, attempts=attempts)

    def _failed_attempt(
        self,
        d: Delivery,
        why: str,
        now: float,
        conf: NotifySettings,
        *,
        attempts: int | None = None,
    ) -> Delivery:
        n = d.attempts + 1 if attempts is None else attempts
        if n >= conf.max_attempts:
            log.error(
                "notify: gave up %s to %s after %d attempts: %s", d.event.id, d.channel, n, why
            )
            return Delivery(d.channel, d.event, "failed", n, d.next_at, why, now)
        wait = min(conf.backoff_seconds * 2**n, MAX_BACKOFF_S)
        return Delivery(d.channel, d.event, "pending", n, now + wait, why)


def _rkey(channel: str, event_id: str) -> str:
    return f"{channel}\x1f{event_id}"


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: one watch per workspace by convention
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
