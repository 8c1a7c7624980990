"""The deployment-target role: a serving cluster driven by a declarative config.

A target is read and written as a whole (Ray Serve's PUT replaces every app), so every
change is read-modify-write; ``apply`` refuses with ``Conflict`` when the config changed
since it was read (``expected`` is the fingerprint of what the plan was built from).

Two optional roles sit beside it (so a target that has neither, like the demo cluster,
still is a ``DeploymentTarget``): ``DiagnosableTarget`` (``deployments why``) and
``InvocableTarget`` (``predict``). Services test for them with ``isinstance``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.domain.deploy import ClusterState, ServeConfig
from app.domain.diagnose import Reply, WhyReport


@runtime_checkable
class DeploymentTarget(Protocol):
    name: str

    def read(self) -> ClusterState:
        """The full config and the status of every application."""
        ...

    def apply(self, config: ServeConfig, *, expected: str) -> None:
        """Write ``config`` as the whole target config — once, never retried — unless the
        target's config fingerprint is no longer ``expected`` (then ``Conflict``)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class DiagnosableTarget(Protocol):
    """A target that can say why an app is in its state (optional: a target without it
    gets a report built from ``read()``, with no logs)."""

    def diagnose(self, app: str, *, lines: int) -> WhyReport:
        """The app's, deployments' and replicas' states and messages and the last
        ``lines`` lines of their logs (bounded); ``NotFound`` when there is no such app."""
        ...


@runtime_checkable
class InvocableTarget(Protocol):
    """A target whose apps can be sent a request on their own route (optional)."""

    def invoke(
        self, app: str, body: bytes, *, version: str | None, timeout_s: float
    ) -> tuple[str, Reply]:
        """POST ``body`` (JSON) to ``app``'s route on the target's serve address, pinned to
        ``version`` when given; the URL and the bounded reply. ``TimedOut`` when no answer
        came in ``timeout_s``."""
        ...
