"""DeployService against an in-process target (the DeploymentTarget protocol): a write
whose reply is lost is re-read, never resent; a refused write leaves no journal entry;
the audit trail on a real SQLite file detects an edited row. The real Ray head is in
tests/integration/test_deploy_ray.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.domain.deploy import AppState, ClusterState, ReplicaState, ServeConfig
from app.domain.errors import Unreachable
from app.domain.models import Backend, BackendKind, Credential, DeploymentStatus
from app.services.audit import AuditService
from app.services.backends import BackendService
from app.services.deploy import DeployService
from app.services.settings import SettingsFile
from app.store.db import Cache


class NoSecrets:
    def get(self, name: str) -> Credential | None:
        return None

    def set(self, name: str, credential: Credential) -> None:
        raise NotImplementedError

    def delete(self, name: str) -> bool:
        return False


class LossyTarget:
    """Applies the config, then (optionally) loses the reply like a timed-out PUT."""

    name = "t"

    def __init__(self, lose_reply: bool, land: bool) -> None:
        self.config = ServeConfig(
            {},
            (
                {
                    "name": "a",
                    "import_path": "x:y",
                    "args": {"model_name": "m", "stable_version": "1"},
                    "deployments": [{"name": "Model", "num_replicas": 1}],
                },
            ),
        )
        self.lose_reply, self.land, self.writes = lose_reply, land, 0

    def read(self) -> ClusterState:
        app = self.config.app("a")
        assert app is not None
        n = sum(int(d["num_replicas"]) for d in app["deployments"])
        reps = tuple(ReplicaState("RUNNING") for _ in range(n))
        state = AppState("a", DeploymentStatus.RUNNING, deployments={"Model": ("", reps)})
        return ClusterState(self.config, {"a": state})

    def apply(self, config: ServeConfig, *, expected: str) -> None:
        self.writes += 1
        if self.land:
            self.config = config
        if self.lose_reply:
            raise Unreachable("t", "connected, but no answer came back in time")

    def close(self) -> None:
        pass


def service(tmp_path: Path, target: LossyTarget) -> tuple[DeployService, Cache, AuditService]:
    backends = BackendService(SettingsFile(tmp_path / "settings.toml"), NoSecrets())
    backends.add(Backend("t", BackendKind.RAY_SERVE, "http://127.0.0.1:1"))
    cache = Cache.open(tmp_path / "cache.sqlite")
    audit = AuditService(cache, user="tester")
    return (
        DeployService(cache, backends, audit, poll_s=0, target_factory=lambda _n: target),
        cache,
        audit,
    )


@pytest.mark.parametrize("land", [True, False])
def test_a_lost_reply_is_re_read_never_resent(tmp_path, land):
    target = LossyTarget(lose_reply=True, land=land)
    svc, cache, audit = service(tmp_path, target)
    plan = svc.plan_scale("t", "a", 2)
    if land:
        out = svc.apply(plan)
        assert out.ok
        assert out.deployments[0].replicas == 2
    else:
        with pytest.raises(Unreachable):
            svc.apply(plan)
        assert audit.list()[-1].result == "failed"
    assert target.writes == 1
    con = sqlite3.connect(cache.path)
    try:
        assert con.execute("SELECT count(*) FROM deploy_journal").fetchone() == (int(land),)
    finally:
        con.close()
    cache.close()


def test_audit_verify_detects_an_edited_row(tmp_path):
    target = LossyTarget(lose_reply=False, land=True)
    svc, cache, audit = service(tmp_path, target)
    svc.apply(svc.plan_scale("t", "a", 2))
    svc.apply(svc.plan_scale("t", "a", 3))
    assert [e.user for e in audit.list()] == ["tester", "tester"]
    assert audit.verify() is None
    con = sqlite3.connect(cache.path)
    con.execute("UPDATE audit_log SET result = 'ok', detail = 'edited' WHERE id = 1")
    con.commit()
    con.close()
    assert "row 1" in (audit.verify() or "")
    cache.close()
