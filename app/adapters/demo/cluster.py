"""The demo cluster (kind ``demo-cluster``): a ``DeploymentTarget`` simulated in process.

It behaves like a declarative serving cluster (Ray Serve's model: the whole config is
read and written at once): ``apply`` refuses a stale fingerprint with ``Conflict``;
an app whose config changed is DEPLOYING for a few seconds (``deploy_seconds`` of
the cluster's record, default 3), then RUNNING — or DEPLOY_FAILED with a message when
it serves a version the world lists as broken, or UNHEALTHY when one of its replicas fails its
health check. Its state is the demo workspace's ``demo-world.json``, so the CLI and
the GUI see the same cluster, and every change is added to the app's timeline, which
the demo metrics source charts (scale, canary, promote, rollback, undeploy all show).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from app.adapters.demo import sim
from app.adapters.demo import world as worlds
from app.domain import deploy as d
from app.domain.deploy import AppState, ClusterState, ReplicaState, ServeConfig
from app.domain.errors import Conflict, Unreachable
from app.domain.models import Backend, DeploymentStatus


def traffic_of(cfg: Mapping[str, Any]) -> dict[str, int]:
    """version → percent from a Modeldeck app's args (empty for any other app)."""
    args = cfg.get("args")
    if not isinstance(args, Mapping) or d.ARG_STABLE not in args:
        return {}
    stable = str(args[d.ARG_STABLE])
    canary = args.get(d.ARG_CANARY)
    pct = int(args.get(d.ARG_PERCENT) or 0) if canary else 0
    out = {stable: 100 - pct}
    if canary and str(canary) != stable:
        out[str(canary)] = pct
    return out


def replicas_of(cfg: Mapping[str, Any]) -> int:
    total = 0
    for dep in cfg.get("deployments") or []:
        n = dep.get("num_replicas", 1) if isinstance(dep, Mapping) else 1
        total += n if isinstance(n, int) else 1
    return total or 1


def model_of(cfg: Mapping[str, Any]) -> str:
    args = cfg.get("args")
    return str(args.get(d.ARG_MODEL, "")) if isinstance(args, Mapping) else ""


def deploy_seconds(cluster: Mapping[str, Any]) -> float:
    """How long a deploy takes on this demo cluster (its ``deploy_seconds``, default 3)."""
    raw = cluster.get("deploy_seconds")
    return max(0.0, float(raw)) if isinstance(raw, int | float) else sim.DEPLOY_S


def app_state(  # noqa: PLR0917 - the parts of the world one app's state depends on
    cfg: Mapping[str, Any],
    runtime: Mapping[str, Any],
    incidents: Mapping[str, Any],
    broken: Mapping[str, Any],
    now: float,
    deploy_s: float,
) -> AppState:
    """What the cluster reports for one app at ``now``."""
    name = str(cfg.get("name"))
    since = float(runtime.get("since", 0.0))
    n = replicas_of(cfg)
    deployment = next(
        (str(x.get("name")) for x in cfg.get("deployments") or [] if isinstance(x, Mapping)),
        "Model",
    )
    route = str(cfg["route_prefix"]) if cfg.get("route_prefix") else None
    traffic = traffic_of(cfg)
    bad = broken.get(model_of(cfg))
    failure = next((str(bad[v]) for v in traffic if isinstance(bad, Mapping) and v in bad), None)
    app_wide = incidents.get(sim.APP_WIDE)
    unhealthy = isinstance(app_wide, Mapping) and app_wide.get("kind") == sim.UNHEALTHY

    def state(status: DeploymentStatus, message: str, replicas: list[str]) -> AppState:
        reps = tuple(ReplicaState(r) for r in replicas)
        return AppState(name, status, message, route, {deployment: (message, reps)})

    if now - since < deploy_s:
        return state(
            DeploymentStatus.DEPLOYING,
            f"starting {n} replica(s) (simulated)",
            ["STARTING"] * n,
        )
    if failure is not None:
        return state(DeploymentStatus.DEPLOY_FAILED, failure, [])
    if unhealthy:
        return state(
            DeploymentStatus.UNHEALTHY,
            "replica health check failed 3 times (simulated)",
            ["RUNNING"] * (n - 1) + ["UNHEALTHY"],
        )
    return state(DeploymentStatus.RUNNING, "", ["RUNNING"] * n)


class DemoCluster:
    """A ``DeploymentTarget`` over the demo world's cluster named like the backend."""

    def __init__(self, backend: Backend, *, clock: Callable[[], float] = time.time) -> None:
        self.name = backend.name
        self._dir = worlds.workspace_of(backend)
        self._clock = clock

    def _cluster(self, world: worlds.World) -> dict[str, Any]:
        found = world.cluster(self.name)
        if found is None:
            raise Unreachable(
                self.name,
                f"the demo workspace has no cluster {self.name!r} "
                f"(it has: {', '.join(sorted(world.clusters())) or 'none'})",
            )
        return found

    def read(self) -> ClusterState:
        world = worlds.load(self.name, self._dir)
        c = self._cluster(world)
        now = self._clock()
        apps = tuple(dict(a) for a in c.get("apps", []))
        runtime = c.get("runtime", {})
        incidents = world.incidents()
        broken = world.broken()
        states = {
            str(a.get("name")): app_state(
                a,
                runtime.get(str(a.get("name")), {}),
                incidents.get(f"{self.name}/{a.get('name')}", {}),
                broken,
                now,
                deploy_seconds(c),
            )
            for a in apps
        }
        return ClusterState(ServeConfig(dict(c.get("settings", {})), apps), states)

    def apply(self, config: ServeConfig, *, expected: str) -> None:
        def change(world: worlds.World) -> None:
            c = self._cluster(world)
            current = ServeConfig(dict(c.get("settings", {})), tuple(c.get("apps", [])))
            if current.fingerprint() != expected:
                raise Conflict(
                    self.name,
                    "the cluster's config changed since the plan was made (someone else "
                    "deployed); nothing was written — review the new plan and try again",
                )
            now = self._clock()
            old = {str(a.get("name")): a for a in current.apps}
            runtime = c.setdefault("runtime", {})
            history = c.setdefault("history", {})
            new_names = set()
            for app in config.apps:
                name = str(app.get("name"))
                new_names.add(name)
                before = old.get(name)
                if before is not None and d.canonical_json(before) == d.canonical_json(app):
                    continue
                runtime[name] = {"since": now}
                line = history.setdefault(name, [])
                entry = [now, traffic_of(app), replicas_of(app)]
                if not line or line[-1][1:] != entry[1:]:
                    line.append(entry)
            for name in set(old) - new_names:
                runtime.pop(name, None)
                history.setdefault(name, []).append([now, {}, 0])
            c["settings"] = dict(config.settings)
            c["apps"] = [dict(a) for a in config.apps]

        worlds.update(self.name, self._dir, change)

    def close(self) -> None:
        pass
