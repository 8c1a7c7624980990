"""Alerts end to end: a real Prometheus with a backfilled error spike, the real OS keyring
(gnome-keyring under tests/run.sh), the real CLI in separate processes, and real HTTP
receivers on 127.0.0.1 that record every request (one fails its first two).

The watch loop is stepped through the backfilled history with an injected "now"
(``NotifyService.cycle(now)``, and ``watch --once --at`` from the CLI), then run with
the real clock (``watch --once``, twice)."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from app.domain.models import Backend, BackendKind, Deployment, DeploymentStatus
from app.domain.notify import verify
from app.services.context import AppContext
from app.services.notify import SECRET_SERVICE
from app.services.workspace import Workspace
from app.store import queries
from tests.integration.fixtures import notify_tsdb as ntsdb
from tests.integration.mlflow_support import REPO
from tests.integration.servers import (
    LOOPBACK,
    ServerProcess,
    closed_port,
    require,
    start_prometheus,
    wait_until,
)

pytestmark = pytest.mark.integration


# ------------------------------------------------------------------ receiver
class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records requests; the first
    ``fail_first`` answer HTTP 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer._lock:
                    n = len(outer.requests)
                    code = 500 if n < outer.fail_first else 200
                    outer.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "code": code,
                        }
                    )
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def ok(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["code"] == 200]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, int]]:
    require(shutil.which("promtool") is not None, "no promtool (apt-get install prometheus)")
    work = tmp_path_factory.mktemp("notify-prom")
    data, t0 = ntsdb.build(work / "tsdb")
    server = start_prometheus(work / "prom", data_dir=data)
    yield server, t0
    server.stop()


@pytest.fixture
def keyring_session() -> None:
    require(
        os.environ.get("MODELDECK_KEYRING_READY") == "1",
        "no unlocked Secret Service (run the suite with: bash tests/run.sh)",
    )


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.transcript: list[str] = []

    def __call__(
        self, *args: str, stdin: str | None = None, ok: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "app", "--home", str(self.home), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=REPO,
            check=False,
            env={**os.environ, "LOGNAME": "ana.silva", "USER": "ana.silva"},
        )
        self.transcript += [" ".join(args), proc.stdout, proc.stderr]
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc

    def json(self, *args: str, stdin: str | None = None) -> Any:
        return json.loads(self(*args, "--json", stdin=stdin).stdout)


def setup_home(home: Path, prom_url: str) -> None:
    ctx = AppContext.build(Workspace.resolve(home))
    try:
        ctx.backends.add(
            Backend("prom", BackendKind.PROMETHEUS, prom_url, options={"scrape_interval": "15s"})
        )
        ctx.backends.add(
            Backend(
                "ray",
                BackendKind.RAY_SERVE,
                f"http://{LOOPBACK}:{closed_port()}",
                options={"metrics_backend": "prom"},
            )
        )
        with ctx.cache.write() as con:
            queries.replace_deployments(
                con,
                "ray",
                [
                    Deployment(
                        "ray", ntsdb.APP, ntsdb.MODEL, {"1": 100}, 2, DeploymentStatus.RUNNING
                    )
                ],
            )
    finally:
        ctx.close()
    settings = Workspace.resolve(home).settings_path
    text = settings.read_text(encoding="utf-8")
    settings.write_text(
        text + "\n[notify]\nhold_seconds = 120\nrepeat_seconds = 3600\nbackoff_seconds = 0.05\n",
        encoding="utf-8",
    )


def keyring_value(name: str) -> str | None:
    import keyring

    return keyring.get_password(SECRET_SERVICE, name)


# ------------------------------------------------------------------ the test
def test_spike_alerts_once_retries_signs_and_never_duplicates(
    tmp_path: Path, prometheus: tuple[ServerProcess, int], keyring_session: None
):
    prom, t0 = prometheus
    home = tmp_path / "home"
    setup_home(home, prom.url)
    cli = Cli(home)
    hook = Receiver(fail_first=2)
    slack = Receiver()
    hook_url = hook.url(f"/hooks/{secrets.token_hex(16)}")
    slack_url = slack.url(f"/services/T000/B000/{secrets.token_hex(12)}")
    names = [f"hook-{secrets.token_hex(3)}", f"slack-{secrets.token_hex(3)}"]
    try:
        added = cli.json(
            "notify", "add", names[0], "--kind", "webhook", "--url-stdin", stdin=hook_url + "\n"
        )
        signing = added["signing_secret"]
        assert re.fullmatch(r"[0-9a-f]{64}", signing)
        assert added["channel"]["events"] == [
            "health.failing",
            "health.recovered",
            "deploy",
            "scale",
            "canary",
            "promote",
            "rollback",
            "undeploy",
        ]
        cli(
            "notify",
            "add",
            names[1],
            "--kind",
            "slack",
            "--url-stdin",
            "--events",
            "health,deploys",
            "--min-status",
            "failing",
            stdin=slack_url,
        )
        assert keyring_value(names[0]) is not None
        listed = cli.json("notify", "list")["channels"]
        assert [c["name"] for c in listed] == sorted(names)
        assert cli.json("notify", "show-secret", names[0])["signing_secret"] == signing

        # -------- step through the backfilled spike, one poll a minute
        ctx = AppContext.build(Workspace.resolve(home))
        try:
            reports = [
                ctx.notify.cycle(now=float(t0 - minutes * 60)) for minutes in range(50, 9, -1)
            ]
        finally:
            ctx.close()
        events = [e for r in reports for e in r.events]
        assert [e.kind.value for e in events] == ["health.failing", "health.recovered"], [
            (e.kind, e.at, e.why) for e in events
        ]
        failing, recovered = events
        # announced after the spike held failing (5 min) plus the hold (2 min)
        assert t0 - ntsdb.SPIKE_START * 60 + 7 * 60 <= _ts(failing.at) <= t0 - 28 * 60
        rate = re.search(r"error rate (\d+(?:\.\d+)?) %", failing.why)
        assert rate is not None, failing.why
        assert 8.0 <= float(rate.group(1)) <= 12.0, failing.why
        assert failing.previous_status == "healthy"
        assert failing.model == ntsdb.MODEL
        assert _ts(recovered.at) >= t0 - ntsdb.SPIKE_END * 60 + 120
        assert recovered.previous_status == "failing"
        assert recovered.status == "healthy"

        # the webhook: 500, 500, then delivered on the third attempt — once
        wait_until(lambda: len(hook.ok()) == 2, timeout_s=10, what="two deliveries")
        codes = [r["code"] for r in hook.requests]
        assert codes == [500, 500, 200, 200], codes
        first_three = hook.requests[:3]
        assert {r["headers"]["idempotency-key"] for r in first_three} == {failing.id}
        bodies = [json.loads(r["body"]) for r in hook.ok()]
        assert [b["event"] for b in bodies] == ["health.failing", "health.recovered"]
        b = bodies[0]
        assert (b["target"], b["app"], b["model"], b["version"]) == (
            "ray",
            ntsdb.APP,
            ntsdb.MODEL,
            "1",
        )
        assert b["status"] == "failing"
        assert b["previous_status"] == "healthy"
        assert b["id"] == failing.id
        assert "error rate" in b["why"]
        for r in hook.ok():
            sig = r["headers"]["x-modeldeck-signature"]
            assert verify(r["body"], signing, sig)
            assert not verify(r["body"], secrets.token_hex(32), sig)
        # Slack: readable text + blocks, one per transition
        texts = [json.loads(r["body"]) for r in slack.ok()]
        assert len(texts) == 2
        assert texts[0]["text"].startswith(f"FAILING {ntsdb.APP} on ray")
        assert "error rate" in texts[0]["blocks"][0]["text"]["text"]
        assert texts[1]["text"].startswith(f"RECOVERED {ntsdb.APP} on ray (was failing)")

        hist = cli.json("notify", "history")["deliveries"]
        mine = [d for d in hist if d["channel"] == names[0]]
        assert sorted((d["event"]["event"], d["state"], d["attempts"]) for d in mine) == [
            ("health.failing", "delivered", 3),
            ("health.recovered", "delivered", 1),
        ]

        # -------- a deploy recorded in the audit trail, as DeployService records it
        ctx = AppContext.build(Workspace.resolve(home))
        try:
            entry = ctx.audit.record(
                action="deploy",
                target="ray",
                app=ntsdb.APP,
                diff=f"Deploy {ntsdb.MODEL} v2 to ray as {ntsdb.APP}\n  ✓ ray reachable",
                result="ok",
                detail="RUNNING",
                identity="ana.silva (OS login, unverified)",
            )
        finally:
            ctx.close()
        # a watch after the replayed history, from the CLI: the deploy event only
        at = _iso(t0 - 9 * 60)
        out = cli.json("watch", "--once", "--at", at)
        assert [e["event"] for e in out["events"]] == ["deploy"]
        dep = out["events"][0]
        assert dep["id"] == f"audit-{entry.id}"
        assert dep["actor"].startswith("ana.silva")
        assert (dep["model"], dep["version"], dep["status"]) == (ntsdb.MODEL, "2", "ok")
        assert sorted(d["channel"] for d in out["delivered"]) == sorted(names)
        wait_until(lambda: len(hook.ok()) == 3, timeout_s=10, what="the deploy delivery")
        deploy_body = json.loads(hook.ok()[-1]["body"])
        assert deploy_body["event"] == "deploy"
        assert deploy_body["actor"].startswith("ana.silva")
        assert hook.ok()[-1]["headers"]["idempotency-key"] == f"audit-{entry.id}"

        # -------- watch --once twice with the real clock: nothing new, nothing resent
        before = (len(hook.requests), len(slack.requests))
        for _ in range(2):
            again = cli.json("watch", "--once")
            assert again["events"] == [], again
            assert again["delivered"] == [], again
            assert again["statuses"]["healthy"] == 1, again
        assert (len(hook.requests), len(slack.requests)) == before

        # a test message reaches the channel (and is signed)
        cli("notify", "test", names[0])
        assert verify(
            hook.requests[-1]["body"],
            signing,
            hook.requests[-1]["headers"]["x-modeldeck-signature"],
        )
        assert json.loads(hook.requests[-1]["body"])["event"] == "test"

        # -------- the URLs (secrets) are nowhere on disk, in the log or the output
        hits = []
        for path in home.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                hits += [
                    f"{path}: {u[-8:]}"
                    for u in (hook_url, slack_url, signing)
                    if u.encode() in data
                ]
        log_text = "\n".join(p.read_text(errors="replace") for p in home.rglob("*.log"))
        assert "delivered to" in log_text  # the log does record deliveries
        assert hits == []
        transcript = "\n".join(cli.transcript)
        assert hook_url not in transcript
        assert slack_url not in transcript
        assert "/hooks/" not in transcript
    finally:
        for name in names:
            cli("notify", "remove", name, ok=False)
        hook.stop()
        slack.stop()
    assert all(keyring_value(n) is None for n in names)


def _ts(iso_text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
