"""Registry writes (aliases, tags, descriptions) against the session's real MLflow.

What a write did is checked through MLflow's own REST API (``Rest``, not the adapter
under test) and in the cache, without a sync. A lost reply is made real by a loopback
proxy in front of MLflow that forwards the write and then hangs up without answering
(or hangs up before forwarding): the service must re-read, never resend. The CLI runs
as a subprocess.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.errors import Conflict, NotFound, Unreachable
from app.domain.models import Backend, BackendKind, Credential
from app.domain.registry import RegistryChange
from app.services.context import AppContext
from tests.integration.contracts import wiring
from tests.integration.mlflow_support import Rest, cache_dump, cli_json, modeldeck
from tests.integration.servers import closed_port

pytestmark = pytest.mark.integration

SRC, DOWN, LOSSY = "reg", "reg-down", "reg-lossy"


# ------------------------------------------------------------------ a lossy proxy
class LossyProxy:
    """Forwards every request to ``upstream``; a request matching ``drop`` is forwarded
    (``forward=True``) or not, and then the connection is closed with no reply."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.drop: Callable[[str, str], bool] = lambda method, path: False
        self.forward = True
        self.writes: list[tuple[str, str]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command != "GET":
                    proxy.writes.append((self.command, self.path))
                dropped = proxy.drop(self.command, self.path)
                if dropped and not proxy.forward:
                    self.close_connection = True
                    self.connection.close()
                    return
                with httpx.Client(base_url=proxy.upstream, timeout=30) as client:
                    r = client.request(
                        self.command,
                        self.path,
                        content=body,
                        headers={"Content-Type": self.headers.get("Content-Type", "")},
                    )
                if dropped:
                    self.close_connection = True
                    self.connection.close()  # it happened upstream; the reply is lost
                    return
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("content-type", ""))
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def do_PATCH(self) -> None:
                self._relay()

            def do_DELETE(self) -> None:
                self._relay()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def proxy(mlflow_server: str) -> Iterator[LossyProxy]:
    p = LossyProxy(mlflow_server)
    yield p
    p.close()


@pytest.fixture(scope="module")
def ctx(
    mlflow_server: str, proxy: LossyProxy, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AppContext]:
    with wiring.configured(
        tmp_path_factory.mktemp("registry-writes"),
        Backend(SRC, BackendKind.MLFLOW, mlflow_server),
        Backend(DOWN, BackendKind.MLFLOW, f"http://127.0.0.1:{closed_port()}"),
        Backend(LOSSY, BackendKind.MLFLOW, proxy.url),
    ) as ctx:
        yield ctx


@pytest.fixture(scope="module")
def rest(mlflow_server: str) -> Iterator[Rest]:
    r = Rest(mlflow_server)
    yield r
    r.close()


def new_model(rest: Rest, versions: int = 3, **fields: Any) -> str:
    name = f"rw-{uuid.uuid4().hex[:8]}"
    rest.post("/registered-models/create", {"name": name, **fields})
    for i in range(versions):
        rest.post("/model-versions/create", {"name": name, "source": f"s3://b/{name}/{i}"})
    return name


def upstream(rest: Rest, name: str) -> dict[str, Any]:
    model: dict[str, Any] = rest.get("/registered-models/get", name=name)["registered_model"]
    return model


def aliases_of(rest: Rest, name: str) -> dict[str, str]:
    return {a["alias"]: a["version"] for a in upstream(rest, name).get("aliases", [])}


def version_of(rest: Rest, name: str, version: str) -> dict[str, Any]:
    got: dict[str, Any] = rest.get("/model-versions/get", name=name, version=version)[
        "model_version"
    ]
    return got


def cached(ctx: AppContext, name: str, source: str = SRC) -> Any:
    return ctx.catalog.show(name, source)


# ------------------------------------------------------------------ service
def test_alias_set_move_remove_upstream_and_in_the_cache(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest)
    ctx.sync.sync([SRC], full=True)
    assert cached(ctx, name).model.aliases == {}

    out = ctx.registry.apply(ctx.registry.plan_alias_move(name, "champion", "1", source=SRC))
    assert out.written
    assert out.cached
    assert not out.reply_lost
    assert out.message == "champion: (none) → v1"
    assert aliases_of(rest, name) == {"champion": "1"}
    assert cached(ctx, name).model.aliases == {"champion": "1"}  # no sync in between

    plan = ctx.registry.plan_alias_move(name, "champion", "3", source=SRC)
    assert plan.summary == "champion: v1 → v3"
    ctx.registry.apply(plan)
    assert aliases_of(rest, name) == {"champion": "3"}
    detail = cached(ctx, name)
    assert detail.model.aliases == {"champion": "3"}
    assert {v.version: v.aliases for v in detail.versions}["3"] == ("champion",)

    ctx.registry.apply(ctx.registry.plan(RegistryChange.remove_alias(SRC, name, "champion")))
    assert aliases_of(rest, name) == {}
    assert cached(ctx, name).model.aliases == {}

    trail = [e for e in ctx.audit.list() if e.app == name]
    assert [(e.action, e.result) for e in trail] == [
        ("alias-set", "ok"),
        ("alias-set", "ok"),
        ("alias-remove", "ok"),
    ]
    first = json.loads(trail[0].detail)
    assert first["summary"] == "champion: (none) → v1"
    assert (first["before"], first["after"]) == ("(none)", "v1")
    assert trail[0].target == SRC
    assert trail[0].identity.endswith("(os login, unverified)")
    assert ctx.audit.verify() is None


def test_tags_and_descriptions_round_trip(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest, versions=2, description="old")
    reg = ctx.registry

    def do(change: RegistryChange) -> str:
        return reg.apply(reg.plan(change)).message

    assert do(RegistryChange.set_tag(SRC, name, "team", "nlp")) == "tag team: (none) → nlp (model)"
    assert do(RegistryChange.set_tag(SRC, name, "team", "vision")) == (
        "tag team: nlp → vision (model)"
    )
    assert do(RegistryChange.set_tag(SRC, name, "validated", "yes ✓", version="2")) == (
        "tag validated: (none) → yes ✓ (v2)"
    )
    text = "# Fraud detector\n\n- **inputs**: card events\n- ünïcode ✓\n"
    assert do(RegistryChange.describe(SRC, name, text)) == (
        f"description of {name}: 3 → {len(text)} characters"
    )
    do(RegistryChange.describe(SRC, name, "v2 notes", version="2"))

    model = upstream(rest, name)
    assert {t["key"]: t["value"] for t in model.get("tags", [])} == {"team": "vision"}
    assert model["description"] == text
    v2 = version_of(rest, name, "2")
    assert {t["key"]: t["value"] for t in v2.get("tags", [])} == {"validated": "yes ✓"}
    assert v2["description"] == "v2 notes"
    detail = cached(ctx, name)
    assert detail.model.tags == {"team": "vision"}
    assert detail.model.description == text
    by_version = {v.version: v for v in detail.versions}
    assert by_version["2"].tags == {"validated": "yes ✓"}
    assert by_version["2"].description == "v2 notes"

    do(RegistryChange.remove_tag(SRC, name, "team"))
    do(RegistryChange.remove_tag(SRC, name, "validated", version="2"))
    do(RegistryChange.describe(SRC, name, ""))
    model = upstream(rest, name)
    assert model.get("tags", []) == []
    assert model.get("description", "") == ""
    assert version_of(rest, name, "2").get("tags", []) == []
    detail = cached(ctx, name)
    assert detail.model.tags == {}
    assert detail.model.description == ""
    assert {v.version: v for v in detail.versions}["2"].tags == {}


def test_a_no_op_plan_writes_and_records_nothing(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest, versions=1)
    rest.post("/registered-models/set-tag", {"name": name, "key": "team", "value": "nlp"})
    before = len(ctx.audit.list())
    plan = ctx.registry.plan(RegistryChange.set_tag(SRC, name, "team", "nlp"))
    assert plan.no_op
    out = ctx.registry.apply(plan)
    assert not out.written
    assert out.audit_id is None
    assert len(ctx.audit.list()) == before


def test_an_alias_moved_upstream_since_the_plan_is_a_conflict(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest)
    rest.post("/registered-models/alias", {"name": name, "alias": "champion", "version": "1"})
    plan = ctx.registry.plan_alias_move(name, "champion", "2", source=SRC)
    # someone else, meanwhile: an unrelated tag (no conflict for this plan) and the alias
    rest.post("/registered-models/set-tag", {"name": name, "key": "team", "value": "x"})
    rest.post("/registered-models/alias", {"name": name, "alias": "champion", "version": "3"})
    before_stamp = upstream(rest, name)["last_updated_timestamp"]
    with pytest.raises(Conflict) as err:
        ctx.registry.apply(plan)
    assert str(err.value) == (
        f"{SRC}: champion moved upstream from v1 to v3 since the plan; nothing was written"
    )
    assert aliases_of(rest, name) == {"champion": "3"}
    assert upstream(rest, name)["last_updated_timestamp"] == before_stamp
    last = ctx.audit.list()[-1]
    assert (last.app, last.result) == (name, "refused")


def test_an_unrelated_change_upstream_is_no_conflict(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest)
    plan = ctx.registry.plan_alias_move(name, "champion", "2", source=SRC)
    rest.post("/registered-models/alias", {"name": name, "alias": "challenger", "version": "3"})
    rest.post("/registered-models/set-tag", {"name": name, "key": "team", "value": "x"})
    ctx.registry.apply(plan)
    assert aliases_of(rest, name) == {"champion": "2", "challenger": "3"}


def test_impossible_changes_are_refused_by_the_plan(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest, versions=2)
    with pytest.raises(NotFound, match=r"has no version 7 in reg \(its versions: 1, 2\)"):
        ctx.registry.plan_alias_move(name, "champion", "7", source=SRC)
    with pytest.raises(NotFound, match="has no alias 'champion'"):
        ctx.registry.plan(RegistryChange.remove_alias(SRC, name, "champion"))
    with pytest.raises(NotFound, match="no model named"):
        ctx.registry.plan(RegistryChange.set_tag(SRC, name + "-nope", "k", "v"))


def test_registry_down_is_a_clear_error_and_nothing_is_recorded_as_done(
    ctx: AppContext, rest: Rest
) -> None:
    name = new_model(rest)
    ctx.sync.sync([SRC], full=True)
    cache_file = ctx.workspace.cache_path
    rows = cache_dump(cache_file)
    audit_before = len(ctx.audit.list())

    with pytest.raises(Unreachable) as err:
        ctx.registry.plan(RegistryChange.set_alias(DOWN, name, "champion", "1"))
    assert str(err.value).startswith(f"{DOWN}: connection refused")
    assert len(ctx.audit.list()) == audit_before

    # a plan read while it answered, applied once it is down
    plan = ctx.registry.plan_alias_move(name, "champion", "1", source=SRC)
    down = dataclasses.replace(plan, change=dataclasses.replace(plan.change, source=DOWN))
    with pytest.raises(Unreachable):
        ctx.registry.apply(down)
    new = ctx.audit.list()[audit_before:]
    assert [e.result for e in new] == ["failed"]
    assert "nothing written" in json.loads(new[0].detail)["message"]
    assert cache_dump(cache_file) == rows
    assert aliases_of(rest, name) == {}


def test_a_lost_reply_is_re_read_never_resent(
    ctx: AppContext, rest: Rest, proxy: LossyProxy
) -> None:
    name = new_model(rest)
    proxy.writes.clear()
    proxy.drop = lambda method, path: method == "POST" and path.endswith("registered-models/alias")
    proxy.forward = True
    try:
        out = ctx.registry.apply(ctx.registry.plan_alias_move(name, "champion", "2", source=LOSSY))
    finally:
        proxy.drop = lambda method, path: False
    assert out.written
    assert out.reply_lost
    assert out.cached
    assert "reply was lost; a re-read shows it took effect" in out.message
    assert proxy.writes == [("POST", "/api/2.0/mlflow/registered-models/alias")]  # once
    assert aliases_of(rest, name) == {"champion": "2"}
    assert cached(ctx, name, LOSSY).model.aliases == {"champion": "2"}
    assert ctx.audit.list()[-1].result == "ok"


def test_a_lost_request_is_reported_not_written(
    ctx: AppContext, rest: Rest, proxy: LossyProxy
) -> None:
    name = new_model(rest)
    proxy.writes.clear()
    proxy.drop = lambda method, path: method == "POST" and path.endswith("set-tag")
    proxy.forward = False
    try:
        with pytest.raises(Unreachable) as err:
            ctx.registry.apply(ctx.registry.plan(RegistryChange.set_tag(LOSSY, name, "k", "v")))
    finally:
        proxy.drop = lambda method, path: False
        proxy.forward = True
    assert "not written: the write's reply was lost" in str(err.value)
    assert "a re-read shows tag k = (none) (model), not v" in str(err.value)
    assert len(proxy.writes) == 1
    assert upstream(rest, name).get("tags", []) == []
    assert ctx.audit.list()[-1].result == "failed"


def test_a_user_name_the_registry_never_checks_is_no_identity(ctx: AppContext) -> None:
    actor, verified = ctx.registry.identity(SRC)
    assert verified is None
    assert actor
    ctx.backends.add(
        Backend("reg-auth", BackendKind.MLFLOW, ctx.backends.get(SRC).url),
        Credential(username="ana", password="pw"),
        save_secret=False,
    )
    # this server has no auth app: it never checks the user name, so it is no identity
    assert tuple(ctx.registry.identity("reg-auth")) == (actor, None)


def test_evidence_goes_into_the_audit_entry(ctx: AppContext, rest: Rest) -> None:
    name = new_model(rest)
    plan = ctx.registry.plan_alias_move(name, "champion", "1", source=SRC)
    gate = {"policy": "champion-needs-approval", "checks": [{"name": "eval", "ok": True}]}
    out = ctx.registry.apply(plan, audit_action="promote", evidence=gate)
    entry = ctx.audit.list()[-1]
    assert (entry.id, entry.action) == (out.audit_id, "promote")
    assert json.loads(entry.detail)["evidence"] == gate


# ------------------------------------------------------------------ the CLI
@pytest.fixture(scope="module")
def home(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("registry-cli")
    proc = modeldeck(home, "backends", "add", "cli-reg", "--kind", "mlflow", "--url", mlflow_server)
    assert proc.returncode == 0, proc.stderr
    return home


def test_cli_tag_set_and_alias_set_with_yes(home: Path, rest: Rest) -> None:
    name = new_model(rest)
    doc = cli_json(home, "models", "tag", "set", name, "team=nlp", "--yes")
    assert doc["applied"]
    assert doc["written"]
    assert doc["cached"]
    assert doc["plan"]["summary"] == "tag team: (none) → nlp (model)"
    assert {t["key"]: t["value"] for t in upstream(rest, name)["tags"]} == {"team": "nlp"}

    doc = cli_json(home, "models", "alias", "set", name, "champion", "2", "--yes")
    assert doc["plan"]["summary"] == "champion: (none) → v2"
    assert aliases_of(rest, name) == {"champion": "2"}
    shown = cli_json(home, "models", "show", name)  # the cache, with no sync run
    assert shown["model"]["aliases"] == {"champion": "2"}
    assert shown["model"]["tags"] == {"team": "nlp"}

    cli_json(home, "models", "tag", "set", name, "stage=ok", "--version", "2", "--yes")
    assert {t["key"]: t["value"] for t in version_of(rest, name, "2")["tags"]} == {"stage": "ok"}
    cli_json(home, "models", "tag", "remove", name, "team", "--yes")
    cli_json(home, "models", "alias", "remove", name, "champion", "--yes")
    assert aliases_of(rest, name) == {}
    assert upstream(rest, name).get("tags", []) == []
    trail = cli_json(home, "audit", "list")
    assert [e["action"] for e in trail if e["app"] == name] == [
        "tag-set",
        "alias-set",
        "tag-set",
        "tag-remove",
        "alias-remove",
    ]


def test_cli_dry_run_and_no_terminal_write_nothing(home: Path, rest: Rest) -> None:
    name = new_model(rest)
    doc = cli_json(home, "models", "alias", "set", name, "champion", "1", "--dry-run")
    assert doc["applied"] is False  # (a policy gate may add its table beside the plan)
    assert doc["plan"]["summary"] == "champion: (none) → v1"
    proc = modeldeck(home, "models", "tag", "set", name, "k=v", "--dry-run")
    assert proc.returncode == 0
    assert "tag k: (none) → v (model)" in proc.stdout
    # no terminal (stdin is a pipe) and no --yes: refused, one line
    proc = modeldeck(home, "models", "alias", "set", name, "champion", "1", stdin="y\n")
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        f"modeldeck: error: {name} (cli-reg): champion: (none) → v1: not written — "
        "add --yes to write without a terminal (or --dry-run to see the plan)"
    )
    assert aliases_of(rest, name) == {}
    assert upstream(rest, name).get("tags", []) == []
    assert [e for e in cli_json(home, "audit", "list") if e["app"] == name] == []


def test_cli_describe_from_a_file_and_bad_input(home: Path, rest: Rest, tmp_path: Path) -> None:
    name = new_model(rest, versions=1)
    text = tmp_path / "README.md"
    text.write_text("# Model\n\nMarkdown ✓\n", encoding="utf-8")
    doc = cli_json(home, "models", "describe", name, "--text-file", str(text), "--yes")
    assert doc["plan"]["summary"] == f"description of {name}: 0 → 20 characters"
    assert upstream(rest, name)["description"] == "# Model\n\nMarkdown ✓\n"
    proc = modeldeck(
        home, "models", "describe", name, "--version", "1", "--text-file", "-", "--yes",
        stdin="version notes",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert version_of(rest, name, "1")["description"] == "version notes"

    bad = modeldeck(home, "models", "tag", "set", name, "novalue")
    assert bad.returncode == 2
    assert "give the tag as KEY=VALUE" in bad.stderr
    missing = modeldeck(home, "models", "alias", "set", name, "champion", "9", "--yes")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"modeldeck: error: {name} has no version 9 in cli-reg (its versions: 1)"
    ]
