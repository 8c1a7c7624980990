"""The deployment-target role: a serving cluster driven by a declarative config.

A target is read and written as a whole (Ray Serve's PUT replaces every app), so every
change is read-modify-write; ``apply`` refuses with ``Conflict`` when the config changed
since it was read (``expected`` is the fingerprint of what the plan was built from).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from app.domain.deploy import ClusterState, ServeConfig


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
