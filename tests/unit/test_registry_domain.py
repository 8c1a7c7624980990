"""The wording and the refusals of registry writes (``app.domain.registry``), and the
service's refusal of a write the registry cannot do — no server needed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.adapters.catalog import CatalogSource, ReadOnlyRegistry
from app.domain.catalog import CatalogEntry, CatalogPage, RunData
from app.domain.errors import ConfigError, NotFound
from app.domain.models import ModelVersion, RegisteredModel
from app.domain.registry import (
    Capability,
    Identity,
    NotSupported,
    RegistryChange,
    fingerprint,
    moved,
    plan_change,
)
from app.services.context import AppContext
from app.services.registry import RegistryWriteService
from app.services.workspace import Workspace

SRC = "prod"


def entry(
    *,
    aliases: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
    description: str = "",
    version_tags: dict[str, str] | None = None,
    version_description: str = "",
) -> CatalogEntry:
    model = RegisteredModel(
        SRC, "fraud", description=description, tags=tags or {}, aliases=aliases or {}
    )
    versions = tuple(
        ModelVersion(
            SRC,
            "fraud",
            str(n),
            tags=version_tags or {} if n == 4 else {},
            description=version_description if n == 4 else "",
        )
        for n in (4, 3, 2, 1)
    )
    return CatalogEntry(model, versions)


# ------------------------------------------------------------------ wording
def test_an_alias_move_reads_from_to() -> None:
    plan = plan_change(
        RegistryChange.set_alias(SRC, "fraud", "champion", "4"), entry(aliases={"champion": "3"})
    )
    assert (plan.summary, plan.before, plan.after, plan.no_op) == (
        "champion: v3 → v4",
        "v3",
        "v4",
        False,
    )
    assert plan.title == "fraud (prod): champion: v3 → v4"
    assert plan.change.capability is Capability.ALIAS


def test_a_new_alias_and_a_removed_one() -> None:
    new = plan_change(RegistryChange.set_alias(SRC, "fraud", "challenger", "2"), entry())
    assert new.summary == "challenger: (none) → v2"
    gone = plan_change(
        RegistryChange.remove_alias(SRC, "fraud", "champion"), entry(aliases={"champion": "3"})
    )
    assert gone.summary == "champion: v3 → (removed)"


def test_an_alias_already_there_is_a_no_op() -> None:
    plan = plan_change(
        RegistryChange.set_alias(SRC, "fraud", "champion", "3"), entry(aliases={"champion": "3"})
    )
    assert plan.no_op
    assert plan.summary == "champion: already v3"


def test_tags_on_the_model_and_on_a_version() -> None:
    e = entry(tags={"team": "nlp"}, version_tags={"validated": "yes"})
    assert (
        plan_change(RegistryChange.set_tag(SRC, "fraud", "team", "vision"), e).summary
        == "tag team: nlp → vision (model)"
    )
    assert (
        plan_change(RegistryChange.set_tag(SRC, "fraud", "owner", "ana", version="4"), e).summary
        == "tag owner: (none) → ana (v4)"
    )
    assert (
        plan_change(RegistryChange.remove_tag(SRC, "fraud", "validated", version="4"), e).summary
        == "tag validated: yes → (removed) (v4)"
    )
    same = plan_change(RegistryChange.set_tag(SRC, "fraud", "team", "nlp"), e)
    assert same.no_op
    assert same.summary == "tag team: already nlp (model)"


def test_a_long_or_empty_tag_value_stays_one_short_line() -> None:
    e = entry(tags={"note": ""})
    plan = plan_change(RegistryChange.set_tag(SRC, "fraud", "note", "x" * 100 + "\nmore"), e)
    assert plan.before == '""'
    assert len(plan.after) == 40
    assert plan.after.endswith("…")
    assert "\n" not in plan.summary


def test_descriptions_count_characters() -> None:
    e = entry(description="a" * 120, version_description="b" * 120)
    plan = plan_change(RegistryChange.describe(SRC, "fraud", "c" * 180, version="4"), e)
    assert plan.summary == "description of v4: 120 → 180 characters"
    assert plan.before.startswith('120 characters: "bbb')
    model = plan_change(RegistryChange.describe(SRC, "fraud", "# Fraud\n\nOne line."), e)
    assert model.summary == "description of fraud: 120 → 18 characters"
    assert "    | # Fraud" in model.text()
    cleared = plan_change(RegistryChange.describe(SRC, "fraud", ""), e)
    assert cleared.after == "(empty)"
    assert cleared.summary == "description of fraud: 120 → 0 characters"
    one = plan_change(RegistryChange.describe(SRC, "fraud", "x"), entry())
    assert one.summary == "description of fraud: 0 → 1 character"
    same = plan_change(RegistryChange.describe(SRC, "fraud", "a" * 120), e)
    assert same.no_op
    assert same.summary == "description of fraud: unchanged (120 characters)"


# ------------------------------------------------------------------ refusals
def test_impossible_changes_are_refused_in_one_line() -> None:
    e = entry(aliases={"champion": "3"}, tags={"team": "nlp"})
    cases = [
        (RegistryChange.set_alias(SRC, "fraud", "champion", "9"), "has no version 9"),
        (RegistryChange.remove_alias(SRC, "fraud", "challenger"), "has no alias 'challenger'"),
        (RegistryChange.set_tag(SRC, "fraud", "k", "v", version="7"), "has no version 7"),
        (RegistryChange.remove_tag(SRC, "fraud", "owner"), "has no tag 'owner' on the model"),
    ]
    for change, words in cases:
        with pytest.raises(NotFound) as err:
            plan_change(change, e)
        assert words in str(err.value)
        assert "\n" not in str(err.value)
    with pytest.raises(NotFound, match="no model named 'fraud'"):
        plan_change(RegistryChange.set_alias(SRC, "fraud", "champion", "4"), None)
    assert "(its versions: 1, 2, 3, 4)" in _refusal(
        RegistryChange.set_alias(SRC, "fraud", "x", "9"), e
    )
    assert "(its aliases: champion)" in _refusal(RegistryChange.remove_alias(SRC, "fraud", "x"), e)


def _refusal(change: RegistryChange, e: CatalogEntry) -> str:
    with pytest.raises(NotFound) as err:
        plan_change(change, e)
    return str(err.value)


def test_malformed_changes_are_config_errors() -> None:
    for change in (
        RegistryChange.set_alias(SRC, "fraud", "", "4"),
        RegistryChange.set_alias(SRC, "fraud", "champion", "latest"),
        RegistryChange.set_tag(SRC, "fraud", " ", "v"),
        RegistryChange.set_tag("", "fraud", "k", "v"),
    ):
        with pytest.raises(ConfigError):
            plan_change(change, entry())


# ------------------------------------------------------------------ fingerprint
def test_the_fingerprint_covers_only_the_piece_written() -> None:
    change = RegistryChange.set_alias(SRC, "fraud", "champion", "4")
    plan = plan_change(change, entry(aliases={"champion": "3"}))
    unrelated = entry(aliases={"champion": "3", "challenger": "4"}, tags={"team": "x"})
    assert fingerprint(change, unrelated.model.aliases.get("champion")) == plan.fingerprint
    assert fingerprint(change, "5") != plan.fingerprint
    assert moved(plan, "5") == "champion moved upstream from v3 to v5 since the plan"
    assert moved(plan, None) == "champion moved upstream from v3 to (none) since the plan"
    tag = plan_change(RegistryChange.set_tag(SRC, "fraud", "team", "b"), entry(tags={"team": "a"}))
    assert moved(tag, "c") == "tag team (model) moved upstream from a to c since the plan"


def test_identity_labels() -> None:
    assert Identity("ana", "basic auth on prod").label == "ana (basic auth on prod)"
    actor, verified = Identity("root", None)
    assert (actor, verified) == ("root", None)
    assert Identity("root", None).label == "root (os login, unverified)"


# ------------------------------------------------------------------ capabilities
class _ReadOnly(ReadOnlyRegistry):
    read_only_reason = "a fixture"

    def __init__(self, name: str) -> None:
        self.name = name

    def pages(self, *, since: str | None = None) -> Iterator[CatalogPage]:
        return iter(())

    def heads(self) -> Iterator[tuple[RegisteredModel, ...]]:
        return iter(())

    def complete(self, names: Sequence[str]) -> tuple[CatalogEntry, ...]:
        return ()

    def get_model(self, name: str) -> CatalogEntry | None:
        return entry(aliases={"champion": "3"})

    def run_data(self, run_id: str) -> RunData:
        raise NotFound(run_id)

    def close(self) -> None:
        pass


def test_a_registry_without_the_capability_says_so(tmp_path: Path) -> None:
    src: CatalogSource = _ReadOnly("readonly")  # a CatalogSource for mypy, too
    assert src.capabilities == frozenset()
    with pytest.raises(NotSupported) as err:
        src.set_alias("fraud", "champion", "4")
    assert str(err.value) == (
        "readonly: this registry cannot set or remove aliases (no alias capability; a fixture)"
    )
    ctx = AppContext.build(Workspace.resolve(tmp_path))
    try:
        svc = RegistryWriteService(ctx.cache, ctx.backends, ctx.audit, source_factory=_ReadOnly)
        with pytest.raises(NotSupported, match="readonly: this registry cannot edit a version"):
            svc.plan(RegistryChange.describe("readonly", "fraud", "x", version="4"))
        assert ctx.audit.list() == []
    finally:
        ctx.close()
