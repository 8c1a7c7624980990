"""The pure half of notifications: the hold and repeat rules, subscriptions, the
messages, the webhook signature, audit rows as events."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from app.domain.health import HealthStatus as S
from app.domain.notify import (
    Channel,
    ChannelKind,
    EventKind,
    NotifyEvent,
    Observation,
    Tracked,
    event_from_audit,
    parse_events,
    sign,
    slack_payload,
    step_health,
    told_after,
    verify,
    wants,
    webhook_body,
)


def obs(status: S, why: str = "error rate 8.0 % > 5.0 % for 6 min") -> Observation:
    return Observation("ray", "iris", "iris-classifier", "1", status, why)


def run(statuses: Sequence[tuple[float, S]], hold: float = 120, repeat: float = 3600):
    t: Tracked | None = None
    events = []
    for now, status in statuses:
        t, e = step_health(t, obs(status), now, hold_s=hold, repeat_s=repeat)
        if e is not None:
            events.append((now, e))
    return events


def test_a_status_is_announced_once_it_held_and_a_recovery_follows():
    seq = [(0, S.HEALTHY), (60, S.FAILING), (120, S.FAILING), (180, S.FAILING)]
    seq += [(240, S.FAILING), (300, S.HEALTHY), (360, S.HEALTHY), (420, S.HEALTHY)]
    events = run(seq)
    assert [(t, e.kind) for t, e in events] == [
        (180, EventKind.HEALTH_FAILING),
        (420, EventKind.HEALTH_RECOVERED),
    ]
    failing, recovered = events[0][1], events[1][1]
    assert failing.previous_status == "healthy"
    assert failing.status == "failing"
    assert "8.0 %" in failing.why
    assert recovered.previous_status == "failing"
    assert recovered.status == "healthy"
    assert failing.id == "health-ray-iris-failing-60"


def test_a_flap_shorter_than_the_hold_is_never_announced():
    seq = [(0, S.HEALTHY), (60, S.FAILING), (120, S.HEALTHY), (180, S.FAILING)]
    seq += [(240, S.DEGRADED), (300, S.HEALTHY)]
    assert run(seq) == []


def test_repeats_are_rate_limited_and_a_suppressed_problem_has_no_recovery():
    seq = [(0, S.FAILING), (200, S.FAILING), (300, S.HEALTHY), (500, S.HEALTHY)]
    seq += [(600, S.FAILING), (800, S.FAILING), (900, S.HEALTHY), (1100, S.HEALTHY)]
    kinds = [e.kind for _t, e in run(seq, repeat=3600)]
    assert kinds == [EventKind.HEALTH_FAILING, EventKind.HEALTH_RECOVERED]
    # a long outage is still told once the limit allows
    seq2 = [*seq[:4], (600, S.FAILING), (800, S.FAILING), (4000, S.FAILING)]
    kinds2 = [(t, e.kind) for t, e in run(seq2, repeat=3600)]
    assert kinds2[-1] == (4000, EventKind.HEALTH_FAILING)


def test_subscriptions_min_status_and_recovery_only_after_a_problem_was_told():
    ch = Channel("c", ChannelKind.WEBHOOK, parse_events(["health", "deploys"]), S.FAILING)

    def ev(status: S, prev: S) -> NotifyEvent:
        kind = {
            S.FAILING: EventKind.HEALTH_FAILING,
            S.DEGRADED: EventKind.HEALTH_DEGRADED,
            S.HEALTHY: EventKind.HEALTH_RECOVERED,
            S.UNKNOWN: EventKind.HEALTH_UNKNOWN,
        }[status]
        return NotifyEvent("x", kind, "t", "ray", "iris", status=status, previous_status=prev)

    assert not wants(ch, ev(S.DEGRADED, S.HEALTHY), S.HEALTHY)  # below min
    assert not wants(ch, ev(S.HEALTHY, S.DEGRADED), S.HEALTHY)  # never told of it
    assert wants(ch, ev(S.FAILING, S.HEALTHY), S.HEALTHY)
    told = told_after(ch, ev(S.FAILING, S.HEALTHY), S.HEALTHY)
    assert told is S.FAILING
    # failing → degraded (below min) is not sent; the recovery after it is
    assert not wants(ch, ev(S.DEGRADED, S.FAILING), told)
    told = told_after(ch, ev(S.DEGRADED, S.FAILING), told)
    assert told is S.FAILING
    assert wants(ch, ev(S.HEALTHY, S.DEGRADED), told)
    with pytest.raises(ValueError, match="unknown event 'nope'"):
        parse_events(["health", "nope"])
    assert parse_events(["deploys"]) == {
        EventKind.DEPLOY,
        EventKind.SCALE,
        EventKind.CANARY,
        EventKind.PROMOTE,
        EventKind.ROLLBACK,
        EventKind.UNDEPLOY,
    }


def test_signature_verifies_with_the_secret_only():
    e = NotifyEvent("audit-7", EventKind.DEPLOY, "2026-12-01T10:00:00Z", "ray", "iris")
    body = webhook_body(e)
    sig = sign(body, "s3cret")
    assert sig.startswith("sha256=")
    assert len(sig) == 7 + 64
    assert verify(body, "s3cret", sig)
    assert not verify(body, "other", sig)
    assert not verify(body + b" ", "s3cret", sig)
    data = json.loads(body)
    assert set(data) >= {
        "event",
        "at",
        "model",
        "version",
        "target",
        "app",
        "status",
        "previous_status",
        "why",
        "actor",
        "id",
    }


def test_audit_rows_become_events():
    deploy = event_from_audit(
        12,
        at="2026-12-01T10:00:00.000Z",
        user="ana",
        identity="ana (os login)",
        action="deploy",
        target="ray",
        app="iris",
        diff="Deploy iris-classifier v2 to ray as iris\n  ✓ reachable",
        result="ok",
        detail="RUNNING",
    )
    assert deploy is not None
    assert (deploy.kind, deploy.model, deploy.version, deploy.status) == (
        EventKind.DEPLOY,
        "iris-classifier",
        "2",
        "ok",
    )
    assert deploy.actor == "ana (os login)"
    assert deploy.id == "audit-12"
    scale = event_from_audit(
        13,
        at="t",
        user="bo",
        identity="",
        action="scale",
        target="ray",
        app="iris",
        diff="Scale iris on ray to 3 replica(s)",
        result="failed",
        detail="x",
        lookup=lambda t, a: ("iris-classifier", "2"),
    )
    assert scale is not None
    assert scale.model == "iris-classifier"
    assert scale.actor == "bo"
    refused = event_from_audit(
        14,
        at="t",
        user="bo",
        identity="bo",
        action="alias-set",
        target="mlflow",
        app="fraud",
        diff="champion: v3 → v4",
        result="refused",
        detail=json.dumps(
            {
                "message": "approvals 0 of 1",
                "change": {"what": "alias-set", "model": "fraud", "value": "4"},
            }
        ),
    )
    assert refused is not None
    assert refused.kind is EventKind.REFUSAL
    assert (refused.model, refused.version, refused.why) == ("fraud", "4", "approvals 0 of 1")
    tag = event_from_audit(
        15,
        at="t",
        user="bo",
        identity="",
        action="tag-set",
        target="m",
        app="fraud",
        diff="",
        result="ok",
        detail="{}",
    )
    assert tag is None


def test_slack_message_is_readable():
    e = NotifyEvent(
        "health-ray-iris-failing-60",
        EventKind.HEALTH_FAILING,
        "2026-12-01T10:00:00Z",
        "ray",
        "iris",
        "iris-classifier",
        "1",
        "failing",
        "healthy",
        "error rate 8.0 % > 5.0 % for 6 min",
    )
    p = slack_payload(e)
    assert p["text"].startswith("FAILING iris on ray — iris-classifier v1")
    assert "8.0 %" in p["text"]
    section = p["blocks"][0]["text"]["text"]
    assert ":red_circle:" in section
    assert "error rate" in section
    assert "modeldeck health --app iris --target ray" in p["blocks"][1]["elements"][0]["text"]


# ------------------------------------------------------------------ the service, with fakes
class _Sender:
    """Records posts; answers 500 while ``down``."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes, dict[str, str]]] = []
        self.down = False

    def post(self, channel: str, url: str, body: bytes, headers: dict[str, str]):
        from app.adapters.notify import SendResult

        self.posts.append((url, body, dict(headers)))
        if self.down:
            return SendResult(False, 500, f"{channel}: HTTP 500")
        return SendResult(True, 200, f"{channel}: HTTP 200")

    def close(self) -> None:
        pass


class _Fleet:
    def __init__(self) -> None:
        self.status = S.HEALTHY

    def fleet(self, *, at: float | None = None, remember: bool = True):
        from app.domain.health import DeploymentHealth, FleetReport, Verdict
        from app.domain.models import Deployment

        d = Deployment("ray", "iris", "iris-classifier", {"1": 100})
        h = DeploymentHealth(d, Verdict(self.status, ("why",)), {}, "1h", at or 0, at or 0)
        return FleetReport((h,), "1h", at or 0)


def _service(tmp_path, sender, fleet, secrets):
    from app.services.audit import AuditService
    from app.services.catalog import CatalogService
    from app.services.notify import NotifyService
    from app.services.settings import SettingsFile
    from app.store.db import Cache

    cache = Cache.open(tmp_path / "cache.sqlite")
    audit = AuditService(cache, user="ana")
    settings = SettingsFile(tmp_path / "settings.toml")
    svc = NotifyService(
        settings,
        secrets,
        audit,
        catalog=CatalogService(cache),
        health=lambda: fleet,
        state_path=tmp_path / "notify-state.json",
        sender=sender,
        sleep=lambda _s: None,
    )
    return svc, audit, cache


def test_a_restart_neither_resends_nor_loses(tmp_path):
    from app.services.backends import SessionSecrets

    secrets = SessionSecrets()
    sender, fleet = _Sender(), _Fleet()
    svc, audit, cache = _service(tmp_path, sender, fleet, secrets)
    (tmp_path / "settings.toml").write_text("[notify]\nhold_seconds = 60\nmax_attempts = 5\n")
    _ch, secret = svc.add(
        "hook", ChannelKind.WEBHOOK, "https://hooks.example.com/x", events=["all"]
    )
    assert secret is not None
    assert "hooks.example.com" not in (tmp_path / "settings.toml").read_text()
    audit.record(action="rollback", target="ray", app="iris", diff="Roll back iris", result="ok")
    sender.down = True
    report = svc.cycle(now=1000.0)
    assert [e.kind for e in report.events] == [EventKind.ROLLBACK]
    assert len(sender.posts) == 3  # one round of attempts, then pending
    assert report.pending == 1
    cache.close()

    # a new process: the pending delivery is still there, nothing else is new
    svc2, _audit2, cache2 = _service(tmp_path, sender, fleet, secrets)
    sender.down = False
    assert svc2.cycle(now=1001.0).delivered == ()  # backoff: not due yet
    report2 = svc2.cycle(now=2000.0)
    assert [d.event.kind for d in report2.delivered] == [EventKind.ROLLBACK]
    _url, body, headers = sender.posts[-1]
    assert verify(body, secret, headers["X-Modeldeck-Signature"])
    assert headers["Idempotency-Key"] == report.events[0].id
    n = len(sender.posts)
    for t in (2100.0, 2200.0):
        assert svc2.cycle(now=t).delivered == ()
    assert len(sender.posts) == n
    # failing for longer than the hold: one event, across another restart
    fleet.status = S.FAILING
    svc2.cycle(now=3000.0)
    cache2.close()
    svc3, _a3, cache3 = _service(tmp_path, sender, fleet, secrets)
    r = svc3.cycle(now=3070.0)
    assert [e.kind for e in r.events] == [EventKind.HEALTH_FAILING]
    assert [e.kind for e in svc3.cycle(now=3200.0).events] == []
    fleet.status = S.HEALTHY
    svc3.cycle(now=3300.0)
    assert [e.kind for e in svc3.cycle(now=3400.0).events] == [EventKind.HEALTH_RECOVERED]
    kinds = [json.loads(b)["event"] for _u, b, _h in sender.posts[n:]]
    assert kinds == ["health.failing", "health.recovered"]
    cache3.close()


def test_a_receiver_down_for_good_is_given_up_bounded(tmp_path):
    from app.services.backends import SessionSecrets

    sender, fleet = _Sender(), _Fleet()
    svc, audit, cache = _service(tmp_path, sender, fleet, SessionSecrets())
    (tmp_path / "settings.toml").write_text("[notify]\nattempts = 2\nmax_attempts = 4\n")
    svc.add("s", ChannelKind.SLACK, "https://hooks.slack.example/T/B/x")
    audit.record(action="deploy", target="ray", app="iris", diff="Deploy m v1", result="ok")
    sender.down = True
    for t in range(0, 100_000, 5000):
        svc.cycle(now=float(t))
    assert len(sender.posts) == 4
    (d,) = svc.history()
    assert (d.state, d.attempts, d.last_error) == ("failed", 4, "s: HTTP 500")
    cache.close()
