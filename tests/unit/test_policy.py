"""The pure governance domain: rule matching, approval tags, the gate table, the
decision; and the policy file's one-line errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.domain.errors import ConfigError
from app.domain.models import VersionStatus
from app.domain.policy import (
    AliasRule,
    Approval,
    CanaryFigures,
    CanaryRule,
    Check,
    GateEvidence,
    OverrideMode,
    Policy,
    actor_key,
    approval_key,
    approvals_in,
    decide,
    evaluate_gate,
    parse_approval,
)
from app.services.governance import FilePolicyStore, parse_policy

AT = datetime(2026, 12, 1, 10, 4, tzinfo=UTC)


def ev(**kw: object) -> GateEvidence:
    base: dict[str, object] = {
        "model": "iris",
        "version": "2",
        "alias": "champion",
        "requester": "ana.silva",
        "at": AT,
    }
    base.update(kw)
    return GateEvidence(**base)  # type: ignore[arg-type]


def appr(actor: str, minute: int = 4, verified: str | None = None) -> Approval:
    return Approval("champion", actor, AT.replace(minute=minute), "", verified)


RULE = AliasRule(
    "champion",
    approvals=1,
    require=(Check.DESCRIPTION, Check.HEALTHY_CANARY),
    healthy_canary=CanaryRule(30, 0.01, 300),
)


def fig(**kw: object) -> CanaryFigures:
    base: dict[str, object] = {
        "target": "ray",
        "app": "iris",
        "percent": 25,
        "window_s": 1800,
        "served_s": 42 * 60,
        "requests": 900.0,
        "error_rate": 0.003,
        "p95_ms": 88.0,
    }
    base.update(kw)
    return CanaryFigures(**base)  # type: ignore[arg-type]


def test_rule_matching_exact_first_then_first_pattern():
    p = Policy((AliasRule("prod-*"), AliasRule("prod-eu", approvals=2), AliasRule("p*")))
    assert p.rule_for("prod-eu") == AliasRule("prod-eu", approvals=2)
    assert p.rule_for("prod-us") == AliasRule("prod-*")
    assert p.rule_for("preview") == AliasRule("p*")
    assert p.rule_for("staging") is None


def test_no_rule_moves_freely():
    gate = evaluate_gate(None, ev())
    assert gate.ok
    assert not gate.gated
    assert "moves freely" in gate.headline()
    assert decide(gate).allowed


def test_approval_tag_round_trip_and_key_rules():
    a = Approval("champion", "ana.silva", AT, "lgtm", "basic auth on prod")
    assert a.key == "modeldeck.approval.champion.ana.silva"
    got = parse_approval(a.key, a.tag_value())
    assert got == a
    assert json.loads(a.tag_value())["verified_by"] == "basic auth on prod"
    # MLflow refuses '@' and '\\' in tag keys: such names are mapped, injectively enough
    assert actor_key("ana@corp.com").startswith("ana_corp.com-")
    assert actor_key("ana@corp.com") != actor_key("ana_corp.com")
    assert actor_key("CORP\\ana") != actor_key("CORP/ana")
    odd = Approval("champion", "ana@corp.com", AT)
    assert parse_approval(odd.key, odd.tag_value()) == odd
    with pytest.raises(ValueError, match="alias"):
        approval_key("champ.ion", "ana")


def test_forged_or_malformed_approval_tags_do_not_count():
    forged = Approval("champion", "bo.chen", AT).tag_value()
    problem = parse_approval("modeldeck.approval.champion.ana.silva", forged)
    assert isinstance(problem, str)
    assert "not the key's actor" in problem
    found, problems = approvals_in(
        {
            "modeldeck.approval.champion.ana.silva": forged,
            "modeldeck.approval.champion.carl": "not json",
            "team": "nlp",
            "modeldeck.approval.champion.bo.chen": forged,
        }
    )
    assert [a.actor for a in found] == ["bo.chen"]
    assert len(problems) == 2


def test_gate_rows_with_their_numbers():
    gate = evaluate_gate(
        RULE,
        ev(
            version_description="retrained",
            approvals=(appr("ana.silva"), appr("bo.chen", 20)),
            canary=(fig(),),
        ),
    )
    assert gate.ok
    rows = {r.check: r for r in gate.rows}
    assert list(rows) == ["approvals", "description", "healthy_canary"]
    assert rows["approvals"].evidence.startswith("1 approval: bo.chen 2026-12-01 10:20")
    assert "ana.silva's own does not count (four eyes)" in rows["approvals"].evidence
    assert rows["description"].evidence == "version card, 9 characters"
    assert rows["healthy_canary"].evidence == (
        "canary 42 min on ray/iris (25 %), error rate 0.3 % ≤ 1.0 %, p95 88 ms ≤ 300 ms "
        "(last 30 min)"
    )


def test_two_approvals_same_day_show_the_time_only():
    rule = AliasRule("champion", approvals=2, four_eyes=False)
    gate = evaluate_gate(rule, ev(approvals=(appr("ana.silva"), appr("bo.chen", 20))))
    assert (
        gate.rows[0].evidence
        == "2 approvals: ana.silva 2026-12-01 10:04 (unverified), bo.chen 10:20 (unverified) UTC"
    )


def test_unmet_checks_refuse_with_one_line_naming_them():
    gate = evaluate_gate(
        RULE,
        ev(approvals=(appr("ana.silva"),), canary=(fig(error_rate=0.081, p95_ms=420.0),)),
    )
    assert not gate.ok
    assert [r.check for r in gate.unmet] == ["approvals", "description", "healthy_canary"]
    d = decide(gate)
    assert not d.allowed
    assert d.why.startswith("refused: champion needs approvals: no approval for champion")
    assert "error rate 8.1 % > 1.0 %" in d.why
    assert "p95 420 ms > 300 ms" in d.why
    assert "\n" not in d.why


def test_canary_must_serve_long_enough_and_be_in_bounds_everywhere():
    rule = RULE
    short = evaluate_gate(rule, ev(canary=(fig(served_s=12 * 60),)))
    row = short.rows[-1]
    assert not row.ok
    assert "served 12 min of the 30 min required" in row.evidence
    one_bad = evaluate_gate(rule, ev(canary=(fig(), fig(target="ray-eu", error_rate=0.2)))).rows[-1]
    assert not one_bad.ok
    assert "ray-eu/iris" in one_bad.evidence
    none = evaluate_gate(rule, ev(canary=())).rows[-1]
    assert not none.ok
    assert "serves no cached deployment" in none.evidence
    down = evaluate_gate(rule, ev(canary=None, canary_problem="prom: connection refused"))
    assert "prom: connection refused" in down.rows[-1].evidence


def test_ready_signature_verified_only():
    rule = AliasRule(
        "prod",
        approvals=1,
        four_eyes=False,
        verified_only=True,
        require=(Check.READY, Check.SIGNATURE),
    )
    gate = evaluate_gate(
        rule,
        ev(
            alias="prod",
            status=VersionStatus.PENDING_REGISTRATION,
            signature=None,
            signature_problem="reg: HTTP 500",
            approvals=(Approval("prod", "bo", AT),),
        ),
    )
    rows = {r.check: r for r in gate.rows}
    assert not rows["approvals"].ok
    assert "bo's is unverified" in rows["approvals"].evidence
    assert rows["ready"].evidence == "registry status PENDING_REGISTRATION"
    assert rows["signature"].evidence == "could not read the signature: reg: HTTP 500"
    ok = evaluate_gate(
        rule,
        ev(
            alias="prod",
            status=VersionStatus.READY,
            signature=True,
            approvals=(Approval("prod", "bo", AT, verified_by="basic auth on reg"),),
        ),
    )
    assert ok.ok


def test_override_modes():
    closed = evaluate_gate(AliasRule("champion", approvals=1), ev())
    assert "forbidden" in decide(closed, override=True, reason="x").why
    loose = evaluate_gate(
        AliasRule("champion", approvals=1, override=OverrideMode.WITH_REASON), ev()
    )
    assert decide(loose).why.endswith("(or --override --reason TEXT)")
    assert not decide(loose, override=True, reason="  ").allowed
    d = decide(loose, override=True, reason="hotfix INC-42")
    assert d.allowed
    assert d.overridden
    assert d.why == "hotfix INC-42"


# ------------------------------------------------------------------ the file
BRIEF = b"""
[[alias]]
name = "champion"            # alias gated by this rule; fnmatch patterns allowed ("prod-*")
approvals = 1                # approvals for this alias the version needs
four_eyes = true             # the requester's own approval does not count
require = ["description", "healthy_canary"]   # optional further checks
override = "forbidden"       # or "with-reason": --override --reason TEXT, audited loudly

[alias.healthy_canary]       # evidence from the health service
minutes = 30                 # the version served traffic at least this long
max_error_rate = 0.01        # within these bounds
max_p95_ms = 300
"""


def test_the_documented_schema_parses():
    p = parse_policy(BRIEF, "policy.toml")
    (rule,) = p.rules
    assert rule == RULE
    assert len(p.digest) == 64


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('approvals = "1"', 'alias[0] "champion".approvals: Input should be a valid integer'),
        ("four_eyes = 1", 'alias[0] "champion".four_eyes: Input should be a valid boolean'),
        ('require = ["descr"]', 'alias[0] "champion".require[0]: Input should be'),
        ("approvels = 1", 'alias[0] "champion".approvels: unknown key'),
        ('override = "maybe"', 'alias[0] "champion".override: Input should be'),
        ('require = ["ready", "ready"]', "'ready' is listed twice"),
        ("[alias.healthy_canary]\nminutes = 0", "healthy_canary.minutes: Input should be greater"),
    ],
)
def test_policy_errors_are_one_line_naming_file_and_key(body: str, expected: str):
    data = f'[[alias]]\nname = "champion"\n{body}\n'.encode()
    with pytest.raises(ConfigError) as err:
        parse_policy(data, "team/policy.toml")
    text = str(err.value)
    assert text.startswith("team/policy.toml: ")
    assert expected in text
    assert "\n" not in text


def test_policy_file_level_errors():
    with pytest.raises(ConfigError, match=r"^p\.toml: not valid TOML \("):
        parse_policy(b"[[alias]\n", "p.toml")
    with pytest.raises(ConfigError, match="two rules are named 'a'"):
        parse_policy(b'[[alias]]\nname = "a"\n[[alias]]\nname = "a"\n', "p.toml")
    with pytest.raises(ConfigError, match=r'alias\[0\] "a b"\.name: must be an alias'):
        parse_policy(b'[[alias]]\nname = "a b"\n', "p.toml")
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_policy(b"\xff", "p.toml")


def test_file_store_round_trip(tmp_path: Path):
    store = FilePolicyStore(tmp_path / "config" / "policy.toml")
    assert store.read() is None
    store.write(BRIEF)
    assert store.read() == BRIEF
