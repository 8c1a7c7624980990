"""Deploy domain without I/O: diffs name every app a change touches, the audit chain
detects edits, and the Ray Serve reply parser rejects what does not fit, naming the field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.adapters.ray_serve import parse_applications
from app.domain.deploy import (
    GENESIS,
    AuditEntry,
    Plan,
    ServeConfig,
    app_name_for,
    chain_hash,
    check_app_name,
    verify_chain,
)
from app.domain.errors import BadResponse
from app.domain.models import DeploymentStatus


def app(name: str, replicas: int = 1, version: str = "1") -> dict[str, object]:
    return {
        "name": name,
        "route_prefix": f"/{name}",
        "import_path": "modeldeck_serving.app:build",
        "args": {"model_name": name, "stable_version": version},
        "deployments": [{"name": "Model", "num_replicas": replicas}],
    }


def test_plan_shows_every_other_app_it_touches():
    before = ServeConfig({"proxy_location": "HeadOnly"}, (app("a"), app("b")))
    after = ServeConfig(before.settings, (app("a", replicas=3),))
    plan = Plan("scale", "ray", "a", "Scale a", before, after)
    kinds = {c.app: c.kind for c in plan.changes}
    assert kinds == {"a": "change", "b": "remove"}
    assert plan.warnings() == ("this also removes app b",)
    text = plan.text()
    assert "~ deployments[Model].num_replicas: 1 → 3" in text
    assert "! this also removes app b" in text


def test_fingerprint_ignores_app_order():
    a = ServeConfig({}, (app("a"), app("b")))
    b = ServeConfig({}, (app("b"), app("a")))
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != a.with_app(app("a", version="2")).fingerprint()


def test_app_names():
    assert app_name_for("Fraud Model_v2") == "fraud-model-v2"
    assert check_app_name("fraud-model") is None
    assert check_app_name("Bad Name") is not None


def _chain(n: int) -> list[AuditEntry]:
    out, prev = [], GENESIS
    for i in range(n):
        fields = {
            "at": f"2026-11-26T00:00:0{i}Z", "user": "u", "identity": "", "action": "deploy",
            "target": "ray", "app": "a", "diff": "+", "result": "ok", "detail": "",
        }  # fmt: skip
        h = chain_hash(prev, fields)
        out.append(AuditEntry(id=i + 1, prev_hash=prev, hash=h, **fields))
        prev = h
    return out


def test_audit_chain_detects_an_edited_and_a_removed_row():
    entries = _chain(3)
    assert verify_chain(entries) is None
    edited = [entries[0], replace(entries[1], user="mallory"), entries[2]]
    assert "row 2" in (verify_chain(edited) or "")
    assert "row 3" in (verify_chain([entries[0], entries[2]]) or "")


def test_ray_reply_is_parsed_and_bad_fields_are_named():
    body: dict[str, Any] = {
        "proxy_location": "EveryNode",
        "http_options": {"host": "127.0.0.1", "port": 8000, "root_path": ""},
        "applications": {
            "a": {
                "status": "RUNNING",
                "message": "",
                "route_prefix": "/a",
                "deployed_app_config": app("a"),
                "deployments": {"Model": {"message": "", "replicas": [{"state": "RUNNING"}]}},
            }
        },
    }
    state = parse_applications("ray", body)
    assert state.config.settings == {
        "proxy_location": "EveryNode",
        "http_options": {"host": "127.0.0.1", "port": 8000},
    }
    assert state.apps["a"].status is DeploymentStatus.RUNNING
    assert state.apps["a"].running_replicas() == 1
    body["applications"]["a"]["deployments"]["Model"]["replicas"] = "many"
    with pytest.raises(BadResponse) as err:
        parse_applications("ray", body)
    assert err.value.field == "applications.a.deployments.Model.replicas"
    with pytest.raises(BadResponse) as err:
        parse_applications("ray", {"applications": {"a": {"status": 3}}})
    assert err.value.field == "applications.a.status"
