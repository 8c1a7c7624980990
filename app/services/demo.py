"""The demo workspace: a complete, self-contained Modeldeck over generated data.

``generate`` fills a cache with the generated catalog (``app.adapters.demo.catalog``)
and its deployments — the benchmarks and most tests need only that. ``create`` makes
the whole demo workspace on top: its ``settings.toml`` names real backends of the demo
kinds (two registries, three clusters, one metrics source, all simulated in process
and badged "demo"), the world file the demo cluster and metrics source share
(``demo-world.json``: every cluster's apps, their timelines and the generated
incidents), a few weeks of deploy history in the hash-chained audit trail and the
deploy journal (so rollback has something to go back to), and the doctor's verdicts.

Deterministic: the same ``seed`` and ``now`` give the same catalog, row for row. Fast:
models are written in batches through the same bulk upsert a sync uses. Nothing is
contacted, and nothing outside the demo workspace is written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.adapters.demo import sim
from app.adapters.demo import world as worlds
from app.adapters.demo.catalog import (
    BROKEN_MESSAGE,
    DATASETS,
    FLAVORS,
    OWNERS,
    REGIONS,
    REGISTRIES,
    TARGETS,
    TEAMS,
    DemoCatalog,
    build,
    demo_url,
)
from app.adapters.demo.cluster import traffic_of
from app.domain import deploy as d
from app.domain.deploy import Check, Plan, ServeConfig
from app.domain.models import (
    Backend,
    BackendKind,
    Deployment,
    DeploymentStatus,
    SourceState,
    VersionStatus,
)
from app.services.workspace import Workspace
from app.store import deploy as journal_store
from app.store import queries
from app.store.db import Cache

#: the demo's metrics source (kind demo-metrics)
METRICS = "metrics"
IMPORT_PATH = "modeldeck_serving.app:build"
#: what the demo clusters report as their HTTP proxy settings (shown, never bound)
HTTP_OPTIONS = {"host": "0.0.0.0", "port": 8000}  # noqa: S104 - a simulated cluster's config
#: how far back the audit trail and the charts' history go
HISTORY_DAYS = 21

__all__ = [
    "DATASETS",
    "FLAVORS",
    "METRICS",
    "OWNERS",
    "REGIONS",
    "REGISTRIES",
    "TARGETS",
    "TEAMS",
    "DemoStats",
    "create",
    "generate",
]


@dataclass(frozen=True)
class DemoStats:
    models: int
    versions: int
    deployments: int
    audit_entries: int = 0


def generate(
    cache: Cache,
    models: int = 2000,
    versions: int | None = None,
    *,
    seed: int = 7,
    now: datetime | None = None,
    batch: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> DemoStats:
    """Fill ``cache`` with ``models`` models and about ``versions`` versions
    (default 5 per model), spread over two registries, plus deployments."""
    catalog = build(models, versions, seed=seed, now=now)
    _write_catalog(cache, catalog, batch=batch, progress=progress)
    return DemoStats(models, catalog.versions, sum(len(x) for x in catalog.deployments.values()))


def _write_catalog(
    cache: Cache,
    catalog: DemoCatalog,
    *,
    batch: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    total = sum(len(es) for es in catalog.entries.values())
    done = 0
    for entries in catalog.entries.values():
        for i in range(0, len(entries), batch):
            chunk = entries[i : i + batch]
            with cache.write() as con:
                queries.upsert_models(
                    con, [e.model for e in chunk], {e.model.name: list(e.versions) for e in chunk}
                )
            done += len(chunk)
            if progress:
                progress(done, total)
    now = catalog.now
    cursor = str(int(now.timestamp() * 1000))
    with cache.write() as con:
        for target, deps in catalog.deployments.items():
            queries.replace_deployments(con, target, deps)
        for i, source in enumerate(REGISTRIES):
            queries.save_source(
                con,
                SourceState(
                    name=source,
                    kind=str(BackendKind.DEMO_REGISTRY),
                    url=demo_url(source),
                    last_sync_at=now - timedelta(minutes=7 + 50 * i),
                    last_full_sync_at=now - timedelta(hours=3 + i),
                    cursor=cursor,
                ),
            )
    if progress:
        progress(total, total)


# ------------------------------------------------------------------ the workspace
def backends(workspace: Workspace) -> list[Backend]:
    """The demo workspace's backends, as its settings file lists them."""
    where = {"workspace": str(workspace.data_dir)}
    out = [
        Backend(name, BackendKind.DEMO_REGISTRY, demo_url(name), options=dict(where))
        for name in REGISTRIES
    ]
    out += [
        Backend(
            name,
            BackendKind.DEMO_CLUSTER,
            demo_url(name),
            options={
                **where,
                "registry": REGISTRIES[0],
                "metrics_backend": METRICS,
                "metrics_selector": f'cluster="{name}"',
            },
        )
        for name in TARGETS
    ]
    out.append(
        Backend(
            METRICS,
            BackendKind.DEMO_METRICS,
            demo_url(METRICS),
            options={**where, "scrape_interval": "15s"},
        )
    )
    return out


def create(
    workspace: Workspace,
    models: int = 2000,
    versions: int | None = None,
    *,
    seed: int = 7,
    now: datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoStats:
    """Make the whole demo workspace in ``workspace`` (its cache must be empty)."""
    from app.services.context import AppContext

    now = (now or datetime.now(tz=UTC)).replace(microsecond=0)
    catalog = build(models, versions, seed=seed, now=now)
    workspace.ensure()
    ctx = AppContext.build(workspace, demo=True)
    try:
        _write_catalog(ctx.cache, catalog, batch=1000, progress=progress)
        world = _world(catalog, models, versions, seed)
        worlds.create(workspace.data_dir, world)
        _write_settings(workspace, backends(workspace))
        ctx.backends.reload()
        entries = _history(ctx.cache, catalog, world)
        for backend in ctx.backends.list():
            ctx.doctor.test(backend.name)
    finally:
        ctx.close()
    return DemoStats(
        models,
        catalog.versions,
        sum(len(x) for x in catalog.deployments.values()),
        entries,
    )


def _write_settings(workspace: Workspace, found: list[Backend]) -> None:
    """The demo's ``settings.toml``, written once: every simulated backend, and no
    background sync (the demo registries never change)."""
    import tomlkit

    from app.services.settings import HEADER, SCHEMA_VERSION

    doc = tomlkit.document()
    for line in HEADER.splitlines():
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.comment("The DEMO workspace: every backend below is simulated in process."))
    doc.add("schema_version", tomlkit.item(SCHEMA_VERSION))
    table = tomlkit.table(is_super_table=True)
    for b in found:
        entry = tomlkit.table()
        entry["kind"] = str(b.kind)
        entry["url"] = b.url
        entry["timeout_s"] = float(b.timeout_s)
        options = tomlkit.table()
        for key, value in b.options.items():
            options[key] = str(value)
        entry["options"] = options
        table[b.name] = entry
    doc["backends"] = table
    sync = tomlkit.table()
    sync["on_start"] = False
    sync["interval_minutes"] = 0
    doc["sync"] = sync
    workspace.settings_path.parent.mkdir(parents=True, exist_ok=True)
    workspace.settings_path.write_text(tomlkit.dumps(doc), encoding="utf-8")


def app_config(dep: Deployment, registry: str = REGISTRIES[0]) -> dict[str, Any]:
    """The declarative app config a deploy by Modeldeck writes (``DeployService``)."""
    versions = list(dep.traffic)
    args: dict[str, Any] = {
        d.ARG_TRACKING: demo_url(registry),
        d.ARG_MODEL: dep.model_name,
        d.ARG_STABLE: versions[0],
    }
    if len(versions) > 1:
        args[d.ARG_CANARY] = versions[1]
        args[d.ARG_PERCENT] = dep.traffic[versions[1]]
    return {
        "name": dep.app,
        "route_prefix": dep.route or f"/{dep.app}",
        "import_path": IMPORT_PATH,
        "args": args,
        "deployments": [
            {"name": "Model", "num_replicas": dep.replicas, "ray_actor_options": {"num_cpus": 1.0}}
        ],
    }


def _previous(dep: Deployment) -> dict[str, int] | None:
    """The traffic before the last change: the stable version alone during a canary,
    else the version before the stable one (None for a first version)."""
    versions = list(dep.traffic)
    if len(versions) > 1:
        return {versions[0]: 100}
    stable = int(versions[0]) if versions[0].isdigit() else 0
    return {str(stable - 1): 100} if stable > 1 else None


def _world(catalog: DemoCatalog, models: int, versions: int | None, seed: int) -> dict[str, Any]:
    rng = random.Random(seed * 31 + 1)
    now = catalog.now.timestamp()
    clusters: dict[str, Any] = {}
    incidents: dict[str, dict[str, Any]] = {}
    broken: dict[str, dict[str, str]] = {}
    for target, deps in catalog.deployments.items():
        c = worlds.new_cluster({"proxy_location": "EveryNode", "http_options": HTTP_OPTIONS})
        c["deploy_seconds"] = sim.DEPLOY_S
        for dep in deps:
            cfg = app_config(dep)
            changed = dep.updated_at.timestamp() if dep.updated_at else now - 86400
            c["apps"].append(cfg)
            c["runtime"][dep.app] = {"since": changed}
            line: list[list[Any]] = []
            before = _previous(dep)
            if before is not None:
                line.append([now - 45 * 86400, before, dep.replicas])
            line.append([changed, traffic_of(cfg), dep.replicas])
            c["history"][dep.app] = line
            key = f"{target}/{dep.app}"
            if dep.status is DeploymentStatus.DEPLOY_FAILED:
                for v in dep.traffic:
                    broken.setdefault(dep.model_name, {})[v] = BROKEN_MESSAGE
            elif dep.status is DeploymentStatus.UNHEALTHY:
                incidents[key] = {sim.APP_WIDE: {"kind": sim.UNHEALTHY, "onset": changed}}
        clusters[target] = c
    _incidents(rng, catalog, now, incidents)
    # a few more versions that cannot start, for "deploy a bad version"
    for entries in catalog.entries.values():
        for e in entries:
            ready = [v for v in e.versions if v.status is VersionStatus.READY]
            if len(ready) > 1 and rng.random() < 0.03:
                broken.setdefault(e.model.name, {})[ready[-1].version] = BROKEN_MESSAGE
    return {
        "catalog": {
            "models": models,
            "versions": versions,
            "seed": seed,
            "now": catalog.now.isoformat(),
        },
        "clusters": clusters,
        "incidents": incidents,
        "broken": broken,
    }


def _incidents(
    rng: random.Random, catalog: DemoCatalog, now: float, incidents: dict[str, dict[str, Any]]
) -> None:
    """A few generated problems on running apps: two latency spikes (degraded), one
    error burst (failing), an exporter that stopped (unknown), a short gap in the past,
    and a canary whose new version is slightly worse than its stable one."""
    running = [
        (t, dep)
        for t in TARGETS
        for dep in catalog.deployments.get(t, [])
        if dep.status is DeploymentStatus.RUNNING and f"{t}/{dep.app}" not in incidents
    ]
    single = [(t, dep) for t, dep in running if len(dep.traffic) == 1]
    canaries = [(t, dep) for t, dep in running if len(dep.traffic) > 1]
    rng.shuffle(single)
    plan = [
        (sim.LATENCY, 35),
        (sim.LATENCY, 50),
        (sim.ERRORS, 25),
        (sim.GAP, 18),
        (sim.BLIP, 190),
    ]
    for (kind, minutes), (target, dep) in zip(plan, single, strict=False):
        onset = now - minutes * 60
        version = next(iter(dep.traffic))
        if kind in (sim.GAP, sim.BLIP):
            entry: dict[str, Any] = {"kind": kind, "onset": onset}
            if kind == sim.BLIP:
                entry["until"] = onset + 12 * 60
            incidents[f"{target}/{dep.app}"] = {sim.APP_WIDE: entry}
        else:
            incidents[f"{target}/{dep.app}"] = {version: {"kind": kind, "onset": onset}}
    if canaries:
        target, dep = canaries[0]
        canary = list(dep.traffic)[1]
        incidents[f"{target}/{dep.app}"] = {canary: {"kind": sim.WORSE, "onset": 0.0}}


def expected_unknown(workspace: Workspace) -> set[tuple[str, str]]:
    """(cluster, app) of the deployments generated to show as unknown (their metrics
    stopped): every other demo deployment has data."""
    world = worlds.load("demo", workspace.data_dir)
    out = set()
    for key, incs in world.incidents().items():
        app_wide = incs.get(sim.APP_WIDE) if isinstance(incs, dict) else None
        if isinstance(app_wide, dict) and app_wide.get("kind") == sim.GAP:
            target, _, app = key.partition("/")
            out.add((target, app))
    return out


# ------------------------------------------------------------------ history
def _iso(ts: float) -> str:
    when = datetime.fromtimestamp(ts, tz=UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _history(cache: Cache, catalog: DemoCatalog, world: dict[str, Any]) -> int:
    """The audit trail and deploy journal of the last weeks, as a team would have left
    them: who deployed what, canaries, a scale-up, a refused deploy and a rollback.
    Chained by the audit store itself, so ``modeldeck audit verify`` holds."""
    rng = random.Random(int(catalog.now.timestamp()) // 86400)
    now = catalog.now.timestamp()
    since = now - HISTORY_DAYS * 86400
    events: list[tuple[float, dict[str, str]]] = []
    owners = _owners(catalog)
    journal: list[tuple[float, str, str, str, ServeConfig]] = []
    for target, cluster in world["clusters"].items():
        settings = cluster["settings"]
        apps = {a["name"]: a for a in cluster["apps"]}
        before: dict[str, Any] = {}
        for name, cfg in apps.items():
            line = cluster["history"][name]
            if len(line) > 1:
                old_traffic = line[0][1]
                before[name] = _with_traffic(cfg, old_traffic)
        # one journal entry from before the changes, then the config as it is now
        old_config = ServeConfig(settings, tuple(before.get(n, a) for n, a in apps.items()))
        journal.append((since - 3600, target, "deploy", "", old_config))
        journal.append(
            (now - 1800, target, "deploy", "", ServeConfig(settings, tuple(apps.values())))
        )
        for name, cfg in apps.items():
            line = cluster["history"][name]
            at = float(line[-1][0])
            if at < since:
                continue
            dep = next(x for x in catalog.deployments[target] if x.app == name)
            user = owners.get(dep.model_name, "ana.silva")
            old = before.get(name)
            action, summary = _describe(dep, target, old)
            plan = _plan(action, target, name, summary, settings, old, cfg)
            status = "RUNNING"
            result = "ok"
            if dep.status is DeploymentStatus.DEPLOY_FAILED:
                status, result = f"DEPLOY_FAILED: {BROKEN_MESSAGE}", "failed"
            elif dep.status is DeploymentStatus.UNHEALTHY:
                status, result = "UNHEALTHY: replica health check failed 3 times", "failed"
            events.append((at, _entry(at, user, action, target, name, plan.text(), result, status)))
    events += _stories(rng, catalog, world, owners, since, now)
    events.sort(key=lambda e: e[0])
    with cache.write() as con:
        for at, action, target, app, config in sorted(journal, key=lambda j: j[0]):
            journal_store.record_applied(
                con, target=target, at=_iso(at), action=action, app=app, config=config
            )
        for _at, fields in events:
            journal_store.append_audit(con, fields)
    return len(events)


def _owners(catalog: DemoCatalog) -> dict[str, str]:
    return {
        e.model.name: e.model.owner or "ana.silva" for es in catalog.entries.values() for e in es
    }


def _with_traffic(cfg: dict[str, Any], traffic: dict[str, int]) -> dict[str, Any]:
    args = dict(cfg["args"])
    versions = list(traffic)
    args[d.ARG_STABLE] = versions[0]
    args.pop(d.ARG_CANARY, None)
    args.pop(d.ARG_PERCENT, None)
    if len(versions) > 1:
        args[d.ARG_CANARY] = versions[1]
        args[d.ARG_PERCENT] = traffic[versions[1]]
    return {**cfg, "args": args}


def _describe(dep: Deployment, target: str, old: dict[str, Any] | None) -> tuple[str, str]:
    versions = list(dep.traffic)
    if len(versions) > 1:
        pct = dep.traffic[versions[1]]
        return "canary", f"Send {pct}% of {dep.app} on {target} to {dep.model_name} v{versions[1]}"
    return "deploy", f"Deploy {dep.model_name} v{versions[0]} to {target} as {dep.app}"


def _plan(  # noqa: PLR0917 - a Plan's fields
    action: str,
    target: str,
    app: str,
    summary: str,
    settings: dict[str, Any],
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> Plan:
    before = ServeConfig(settings, (old,) if old else ())
    after = ServeConfig(settings, (new,) if new else ())
    checks = (Check("target reachable", True, "demo cluster (simulated)"),)
    return Plan(action, target, app, summary, before, after, checks)


def _entry(  # noqa: PLR0917 - an audit row's fields
    at: float,
    user: str,
    action: str,
    target: str,
    app: str,
    diff: str,
    result: str,
    detail: str,
) -> dict[str, str]:
    return {
        "at": _iso(at),
        "user": user,
        "identity": "demo",
        "action": action,
        "target": target,
        "app": app,
        "diff": diff,
        "result": result,
        "detail": detail,
    }


def _stories(  # noqa: PLR0917
    rng: random.Random,
    catalog: DemoCatalog,
    world: dict[str, Any],
    owners: dict[str, str],
    since: float,
    now: float,
) -> list[tuple[float, dict[str, str]]]:
    """Events that left no trace in today's config: a deploy rolled back after its
    error rate climbed, a scale-up for a traffic peak, a deploy refused by pre-flight."""
    out: list[tuple[float, dict[str, str]]] = []
    target = TARGETS[0]
    cluster = world["clusters"].get(target)
    if not cluster or not cluster["apps"]:
        return out
    apps = list(cluster["apps"])
    rng.shuffle(apps)
    settings = cluster["settings"]
    for cfg in apps[:3]:
        name = cfg["name"]
        model = cfg["args"][d.ARG_MODEL]
        stable = str(cfg["args"][d.ARG_STABLE])
        user = owners.get(model, "ana.silva")
        at = rng.uniform(since + 86400, now - 2 * 86400)
        if not stable.isdigit():
            continue
        newer = str(int(stable) + 1)
        bad = _with_traffic(cfg, {newer: 100})
        good = _with_traffic(cfg, {stable: 100})
        if cfg is apps[0]:
            # a new version went out, its error rate climbed; rolled back 40 minutes later
            text = f"Deploy {model} v{newer} to {target} as {name}"
            out.append(
                (
                    at,
                    _entry(
                        at,
                        user,
                        "deploy",
                        target,
                        name,
                        _plan("deploy", target, name, text, settings, good, bad).text(),
                        "ok",
                        "RUNNING",
                    ),
                )
            )
            back = at + 40 * 60
            text = f"Roll back {name} on {target} to its config of {_iso(at - 86400)}"
            out.append(
                (
                    back,
                    _entry(
                        back,
                        "hana.sato",
                        "rollback",
                        target,
                        name,
                        _plan("rollback", target, name, text, settings, bad, good).text(),
                        "ok",
                        "RUNNING: error rate 6.2 % after v" + newer,
                    ),
                )
            )
        elif cfg is apps[1]:
            n = int(cfg["deployments"][0]["num_replicas"])
            up = {**cfg, "deployments": [{**cfg["deployments"][0], "num_replicas": n + 2}]}
            text = f"Scale {name} on {target} to {n + 2} replica(s)"
            out.append(
                (
                    at,
                    _entry(
                        at,
                        user,
                        "scale",
                        target,
                        name,
                        _plan("scale", target, name, text, settings, cfg, up).text(),
                        "ok",
                        "RUNNING",
                    ),
                )
            )
            down = at + 6 * 3600
            text = f"Scale {name} on {target} to {n} replica(s)"
            out.append(
                (
                    down,
                    _entry(
                        down,
                        user,
                        "scale",
                        target,
                        name,
                        _plan("scale", target, name, text, settings, up, cfg).text(),
                        "ok",
                        "RUNNING",
                    ),
                )
            )
        else:
            text = f"Deploy {model} v{newer} to {target} as {name}"
            plan = _plan("deploy", target, name, text, settings, good, bad)
            out.append(
                (
                    at,
                    _entry(
                        at,
                        user,
                        "deploy",
                        target,
                        name,
                        plan.text(),
                        "refused",
                        f"{model} v{newer} is READY in the registry: no version {newer} "
                        f"of {model} in {REGISTRIES[0]}",
                    ),
                )
            )
    return out
