"""What every ``DeploymentTarget`` (``app.adapters.targets``) must do, against a real
serving cluster.

Guarantees checked here, for any target adapter:

* ``read()`` returns a ``ClusterState`` whose config lists exactly the apps the
  cluster runs, each with a reported state, and reading twice gives one fingerprint;
* ``apply(config, expected=fingerprint)`` of a config just read is a fixed point, and
  an app added to it shows up as written and is reported ``RUNNING``, while every
  other app and the target-wide settings stay as they were;
* ``apply`` with a stale ``expected`` (someone else deployed since the read) raises
  ``Conflict`` naming the backend and writes nothing (checked by reading again);
* a closed port raises ``Unreachable`` naming the backend; ``close()`` may be called
  twice.

Adding a backend = one adapter module + one registry entry + one contract subclass.

A subclass ``Test…(DeploymentTargetContract)`` (the base has no ``Test`` prefix, so it
is not collected itself) runs them; it or its module provides the fixtures

``target``
    a connected adapter, built the way the deploy service builds it (``wiring``);
``unreachable_target``
    the same kind of adapter configured at a loopback port where nothing listens;
``idle_app``
    ``name → app config``: an app the cluster runs that starts no replicas (cheap);
``outsider``
    an :class:`Outsider`: someone else at the same cluster, through its own API.

Apps a test adds are removed afterwards (through the outsider), whatever happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol

import pytest

from app.adapters.targets import DeploymentTarget
from app.domain.deploy import AppState, ClusterState, ServeConfig
from app.domain.errors import BackendError, Conflict, Unreachable
from app.domain.models import DeploymentStatus
from tests.integration.servers import wait_until

#: how long a cluster may take to show a config it accepted
SETTLE_S = 120.0

IdleApp = Callable[[str], Mapping[str, Any]]


class Outsider(Protocol):
    """Someone else at the same cluster, through the backend's own API (not the adapter)."""

    def app_names(self) -> set[str]:
        """The apps the cluster runs now, as it reports them."""
        ...

    def deploy(self, app: Mapping[str, Any]) -> None:
        """Add (or replace) one app, keeping every other."""
        ...

    def undeploy(self, names: Iterable[str]) -> None:
        """Remove these apps, keeping every other."""
        ...


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def settled(target: DeploymentTarget, check: Callable[[ClusterState], bool], what: str) -> None:
    """Poll ``target.read()`` until ``check`` holds (bounded by ``SETTLE_S``)."""
    wait_until(lambda: check(target.read()), timeout_s=SETTLE_S, what=what, interval_s=0.25)


class DeploymentTargetContract:
    """The tests every ``DeploymentTarget`` passes; see the module docstring."""

    @pytest.fixture(autouse=True)
    def _remove_added_apps(self, outsider: Outsider) -> Iterator[None]:
        before = outsider.app_names()
        yield
        added = outsider.app_names() - before
        if added:
            outsider.undeploy(added)

    def test_read_returns_the_cluster_state(
        self, target: DeploymentTarget, outsider: Outsider
    ) -> None:
        state = target.read()
        assert isinstance(state, ClusterState)
        assert isinstance(state.config, ServeConfig)
        names = state.config.names()
        assert len(names) == len(set(names)), f"an app twice: {names}"
        assert set(names) == outsider.app_names()
        for name in names:
            assert isinstance(state.apps.get(name), AppState), f"{name}: no reported state"
            assert state.apps[name].name == name
        assert target.read().config.fingerprint() == state.config.fingerprint()

    def test_apply_of_a_read_config_round_trips(self, target: DeploymentTarget) -> None:
        state = target.read()
        target.apply(state.config, expected=state.config.fingerprint())
        again = target.read()
        assert again.config.fingerprint() == state.config.fingerprint()
        assert again.config == state.config

    def test_an_applied_app_is_read_back_as_written_and_the_others_stay(
        self, target: DeploymentTarget, idle_app: IdleApp
    ) -> None:
        before = target.read()
        name = _unique("contract-add")
        app = idle_app(name)
        target.apply(before.config.with_app(app), expected=before.config.fingerprint())
        settled(
            target,
            lambda s: (
                s.config.app(name) is not None
                and name in s.apps
                and s.apps[name].status is DeploymentStatus.RUNNING
            ),
            f"{name} running",
        )
        after = target.read()
        written = after.config.app(name)
        assert written is not None
        assert dict(written).items() >= dict(app).items(), "the app is not as written"
        assert name in after.apps
        for other in before.config.apps:
            assert after.config.app(str(other["name"])) == other, "another app changed"
        assert dict(after.config.settings) == dict(before.config.settings)
        # what was read back is a fixed point too
        target.apply(after.config, expected=after.config.fingerprint())
        assert target.read().config.fingerprint() == after.config.fingerprint()

    def test_a_stale_expected_is_a_conflict_and_writes_nothing(
        self, target: DeploymentTarget, idle_app: IdleApp, outsider: Outsider
    ) -> None:
        planned = target.read()
        theirs, mine = _unique("contract-theirs"), _unique("contract-mine")
        outsider.deploy(idle_app(theirs))
        settled(target, lambda s: s.config.app(theirs) is not None, f"{theirs} in the config")
        changed = target.read().config.fingerprint()
        assert changed != planned.config.fingerprint()

        with pytest.raises(Conflict) as err:
            target.apply(
                planned.config.with_app(idle_app(mine)), expected=planned.config.fingerprint()
            )
        assert err.value.backend == target.name
        assert str(err.value).startswith(f"{target.name}: ")

        after = target.read()
        assert after.config.app(mine) is None, "a refused apply wrote its app"
        assert after.config.app(theirs) is not None, "a refused apply removed someone's app"
        assert after.config.fingerprint() == changed
        assert mine not in outsider.app_names()

    @pytest.mark.parametrize(
        "call",
        [
            pytest.param(lambda t: t.read(), id="read"),
            pytest.param(lambda t: t.apply(ServeConfig(), expected="0" * 64), id="apply"),
        ],
    )
    def test_a_closed_port_is_unreachable_naming_the_backend(
        self, unreachable_target: DeploymentTarget, call: Callable[[DeploymentTarget], Any]
    ) -> None:
        with pytest.raises(Unreachable) as err:
            call(unreachable_target)
        assert isinstance(err.value, BackendError)
        assert err.value.backend == unreachable_target.name
        assert str(err.value).startswith(f"{unreachable_target.name}: ")

    def test_close_is_safe_twice(self, target: DeploymentTarget) -> None:
        target.read()
        target.close()
        target.close()

    def test_close_of_an_unused_target(self, unreachable_target: DeploymentTarget) -> None:
        unreachable_target.close()
        unreachable_target.close()
