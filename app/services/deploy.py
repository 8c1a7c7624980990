"""Deploy, scale, canary, promote, roll back and undeploy apps on serving targets.

Every operation is a ``Plan`` first (pre-flight checks + the diff of the whole target
config, naming every other app it touches), then ``apply``: one write (never retried;
refused with ``Conflict`` when the target changed since the plan was read), progress by
polling until RUNNING / DEPLOY_FAILED / UNHEALTHY, a re-read of the real state into the
cache, a journal entry (for rollback) and an audit row — whatever the outcome.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.adapters import registry
from app.adapters.targets import DeploymentTarget, DiagnosableTarget, InvocableTarget
from app.domain import deploy as d
from app.domain import diagnose as dx
from app.domain.deploy import AppState, Check, ClusterState, Plan, ServeConfig
from app.domain.errors import (
    BackendError,
    ConfigError,
    Conflict,
    CredentialError,
    ModeldeckError,
    NotFound,
)
from app.domain.kinds import Role
from app.domain.models import (
    Backend,
    BackendKind,
    Deployment,
    DeploymentStatus,
    VersionStatus,
)
from app.services.audit import AuditService, now_iso
from app.services.backends import BackendService
from app.store import deploy as journal_store
from app.store import queries
from app.store.db import Cache

log = logging.getLogger(__name__)

DEFAULT_IMPORT_PATH = "modeldeck_serving.app:build"
DEPLOYMENT_NAME = "Model"
MAX_REPLICAS = 64
Progress = Callable[[int, int, str], None]
TERMINAL = (DeploymentStatus.RUNNING, DeploymentStatus.DEPLOY_FAILED, DeploymentStatus.UNHEALTHY)


@dataclass(frozen=True, slots=True)
class Outcome:
    plan: Plan
    ok: bool
    status: str  # RUNNING | DEPLOY_FAILED | UNHEALTHY | REMOVED | TIMEOUT | CANCELLED
    message: str
    deployments: tuple[Deployment, ...] = ()


class DeployService:
    def __init__(
        self,
        cache: Cache,
        backends: BackendService,
        audit: AuditService,
        *,
        poll_s: float = 0.5,
        target_factory: Callable[[str], DeploymentTarget] | None = None,
    ) -> None:
        self._cache = cache
        self._backends = backends
        self._audit = audit
        self._poll_s = poll_s
        self._target_factory = target_factory or self._connect

    # ------------------------------------------------------------ plumbing
    def _connect(self, name: str) -> DeploymentTarget:
        backend = self._backends.get(name)
        # refused before connecting: a kind with no deployment adapter, or not a cluster
        registry.require(backend, Role.DEPLOY)
        return registry.deployment_target(backend, self._backends.connect_http(name))

    def check_target(self, name: str) -> None:
        """Raise ``ConfigError`` / ``NotConfigured`` unless ``name`` is a backend this
        service can deploy to (the Deploy dialog and the CLI say why before planning)."""
        registry.require(self._backends.get(name), Role.DEPLOY)

    def _option(self, target: str, key: str, default: str = "") -> str:
        value = self._backends.get(target).options.get(key)
        return str(value) if value else default

    def _identity(self, target: str) -> str:
        try:
            cred = self._backends.credential(target)
        except CredentialError:
            return "unknown"
        if cred is None:
            return "anonymous"
        return cred.username or "token"

    def _read(self, target: str) -> tuple[ClusterState | None, Check]:
        t = self._target_factory(target)
        try:
            state = t.read()
        except BackendError as exc:
            return None, Check("target reachable", False, str(exc))
        finally:
            t.close()
        return state, Check("target reachable", True, f"{len(state.apps)} app(s) running")

    def _version_check(self, target: str, model: str, version: str) -> Check:
        name = f"{model} v{version} is READY in the registry"
        registry = self._option(target, "registry")
        if not registry:
            return Check(name, False, f"set the 'registry' option of {target} (an MLflow backend)")
        try:
            versions = self._registry_versions(registry, model)
        except ModeldeckError as exc:
            return Check(name, False, str(exc))
        statuses = dict(versions)
        if version not in statuses:
            known = ", ".join(sorted(statuses, key=int)) or "none"
            return Check(
                name, False, f"no version {version} of {model} in {registry} (known: {known})"
            )
        status = VersionStatus.parse(statuses[version])
        if status is not VersionStatus.READY:
            return Check(name, False, f"its status is {status}")
        return Check(name, True, registry)

    def _registry_versions(self, name: str, model: str) -> list[tuple[str, str | None]]:
        """(version, status) of every version of ``model`` in registry ``name``, asked now."""
        backend = self._backends.get(name)
        if backend.kind is BackendKind.MLFLOW:
            from app.adapters.mlflow import MlflowSource

            source = MlflowSource(backend, http=self._backends.connect_http(name), concurrency=1)
            try:
                return [(v.version, v.status) for v in source.versions_of([model]).get(model, [])]
            finally:
                source.close()
        # any other registry kind through its CatalogSource (the kind registry's)
        other = registry.catalog_source(backend, self._backends.connect_http(name))
        try:
            entry = other.get_model(model)
        finally:
            other.close()
        return [(v.version, str(v.status)) for v in entry.versions] if entry is not None else []

    def _app_args(self, target: str, model: str, version: str) -> dict[str, Any]:
        registry = self._option(target, "registry")
        uri = self._option(target, "registry_uri")
        if not uri and registry:
            uri = self._backends.get(registry).url
        return {d.ARG_TRACKING: uri, d.ARG_MODEL: model, d.ARG_STABLE: version}

    def _num_cpus(self, target: str) -> float:
        raw = self._option(target, "num_cpus", "1")
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{target}: option num_cpus={raw!r} is not a number") from None

    @staticmethod
    def _need_app(state: ClusterState | None, app: str) -> Mapping[str, Any]:
        cfg = state.config.app(app) if state is not None else None
        if cfg is None:
            raise NotFound(f"no app {app!r} on this target")
        return cfg

    @staticmethod
    def _args(cfg: Mapping[str, Any]) -> dict[str, Any]:
        args = cfg.get("args")
        if not isinstance(args, Mapping) or d.ARG_MODEL not in args:
            raise ConfigError(
                f"app {cfg.get('name')!r} was not deployed by Modeldeck (no model args)"
            )
        return dict(args)

    @staticmethod
    def _with_replicas(cfg: Mapping[str, Any], replicas: int) -> dict[str, Any]:
        out = dict(cfg)
        deps = [dict(x) for x in cfg.get("deployments") or [{"name": DEPLOYMENT_NAME}]]
        for dep in deps:
            dep["num_replicas"] = replicas
        out["deployments"] = deps
        return out

    def _plan(
        self,
        *,
        action: str,
        target: str,
        app: str,
        summary: str,
        state: ClusterState | None,
        after: ServeConfig | None,
        checks: list[Check],
    ) -> Plan:
        before = state.config if state is not None else ServeConfig()
        return Plan(action, target, app, summary, before, after or before, tuple(checks))

    @staticmethod
    def _replica_check(replicas: int, cpus: float) -> Check:
        ok = 1 <= replicas <= MAX_REPLICAS and cpus > 0
        return Check(
            "replicas and CPUs plausible",
            ok,
            f"{replicas} replica(s) × {cpus:g} CPU"
            if ok
            else f"use 1–{MAX_REPLICAS} replicas and CPUs > 0",
        )

    # ------------------------------------------------------------ plans
    def plan_deploy(
        self,
        target: str,
        model: str,
        version: str,
        *,
        app: str | None = None,
        replicas: int | None = None,
    ) -> Plan:
        app = app or d.app_name_for(model)
        state, reach = self._read(target)
        checks = [reach]
        bad = d.check_app_name(app)
        checks.append(Check("app name valid", bad is None, bad or app))
        checks.append(self._version_check(target, model, version))
        cpus = self._num_cpus(target)
        current = state.config.app(app) if state is not None else None
        if current is not None:
            args = dict(current.get("args") or {})
            if args.get(d.ARG_MODEL) not in (None, model):
                checks.append(
                    Check(
                        "app free for this model",
                        False,
                        f"{app} serves {args.get(d.ARG_MODEL)}; choose another --app",
                    )
                )
            args.update(self._app_args(target, model, version))
            for k in (d.ARG_CANARY, d.ARG_PERCENT):
                args.pop(k, None)
            cfg = {**current, "args": args}
            if replicas is not None:
                cfg = self._with_replicas(cfg, replicas)
            n = replicas or _replicas_of(cfg)
        else:
            n = replicas or 1
            cfg = {
                "name": app,
                "route_prefix": f"/{app}",
                "import_path": self._option(target, "import_path", DEFAULT_IMPORT_PATH),
                "args": self._app_args(target, model, version),
                "deployments": [
                    {
                        "name": DEPLOYMENT_NAME,
                        "num_replicas": n,
                        "ray_actor_options": {"num_cpus": cpus},
                    }
                ],
            }
        checks.append(self._replica_check(n, cpus))
        after = state.config.with_app(cfg) if state is not None else None
        return self._plan(
            action="deploy",
            target=target,
            app=app,
            summary=f"Deploy {model} v{version} to {target} as {app}",
            state=state,
            after=after,
            checks=checks,
        )

    def plan_scale(self, target: str, app: str, replicas: int) -> Plan:
        state, reach = self._read(target)
        checks = [reach, self._replica_check(replicas, self._num_cpus(target))]
        after = None
        if state is not None:
            after = state.config.with_app(self._with_replicas(self._need_app(state, app), replicas))
        return self._plan(
            action="scale",
            target=target,
            app=app,
            summary=f"Scale {app} on {target} to {replicas} replica(s)",
            state=state,
            after=after,
            checks=checks,
        )

    def plan_canary(self, target: str, app: str, version: str, percent: int) -> Plan:
        state, reach = self._read(target)
        checks = [reach]
        after = None
        checks.append(Check("percent between 1 and 99", 1 <= percent <= 99, f"{percent}%"))
        model = "?"
        if state is not None:
            cfg = self._need_app(state, app)
            args = self._args(cfg)
            model = str(args[d.ARG_MODEL])
            checks.append(self._version_check(target, model, version))
            args.update({d.ARG_CANARY: version, d.ARG_PERCENT: percent})
            after = state.config.with_app({**cfg, "args": args})
        return self._plan(
            action="canary",
            target=target,
            app=app,
            summary=f"Send {percent}% of {app} on {target} to {model} v{version}",
            state=state,
            after=after,
            checks=checks,
        )

    def plan_promote(self, target: str, app: str) -> Plan:
        state, reach = self._read(target)
        checks = [reach]
        after = None
        summary = f"Promote the canary of {app} on {target}"
        if state is not None:
            cfg = self._need_app(state, app)
            args = self._args(cfg)
            canary = args.pop(d.ARG_CANARY, None)
            args.pop(d.ARG_PERCENT, None)
            checks.append(
                Check("a canary runs", bool(canary), f"v{canary}" if canary else "no canary")
            )
            if canary:
                args[d.ARG_STABLE] = canary
                summary = f"Promote {args[d.ARG_MODEL]} v{canary} to stable on {app} ({target})"
            after = state.config.with_app({**cfg, "args": args})
        return self._plan(
            action="promote",
            target=target,
            app=app,
            summary=summary,
            state=state,
            after=after,
            checks=checks,
        )

    def plan_rollback(self, target: str, app: str) -> Plan:
        state, reach = self._read(target)
        checks = [reach]
        after = None
        summary = f"Roll back {app} on {target}"
        if state is not None:
            current = d.canonical_json(state.config.app(app))
            with self._cache.read() as con:
                history = journal_store.journal(con, target)
            earlier = next(
                ((at, cfg) for at, _a, cfg in history if d.canonical_json(cfg.app(app)) != current),
                None,
            )
            checks.append(
                Check(
                    "an earlier config in the journal",
                    earlier is not None,
                    f"applied {earlier[0]}" if earlier else "nothing to roll back to",
                )
            )
            if earlier is not None:
                old = earlier[1].app(app)
                after = state.config.with_app(old) if old is not None else state.config.without(app)
                summary = f"Roll back {app} on {target} to its config of {earlier[0]}"
        return self._plan(
            action="rollback",
            target=target,
            app=app,
            summary=summary,
            state=state,
            after=after,
            checks=checks,
        )

    def plan_undeploy(self, target: str, app: str) -> Plan:
        state, reach = self._read(target)
        after = None
        if state is not None:
            self._need_app(state, app)
            after = state.config.without(app)
        return self._plan(
            action="undeploy",
            target=target,
            app=app,
            summary=f"Undeploy {app} from {target}",
            state=state,
            after=after,
            checks=[reach],
        )

    # ------------------------------------------------------------ apply
    def apply(
        self,
        plan: Plan,
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
        timeout_s: float = 600,
    ) -> Outcome:
        """Write ``plan.after``, follow it to a final state, record it. Raises when nothing
        was written (failed pre-flight, unreachable, conflict); every attempt is audited."""
        report = progress or (lambda _d, _t, _s: None)
        identity = self._identity(plan.target)
        diff = plan.text()

        def audit(result: str, detail: str) -> None:
            self._audit.record(
                action=plan.action,
                target=plan.target,
                app=plan.app,
                diff=diff,
                result=result,
                detail=detail,
                identity=identity,
            )

        if not plan.ok:
            failed = "; ".join(f"{c.name}: {c.detail}" for c in plan.checks if not c.ok)
            audit("refused", failed)
            raise ConfigError(f"pre-flight failed — {failed}")
        report(0, 3, "writing the new config")
        target = self._target_factory(plan.target)
        try:
            try:
                target.apply(plan.after, expected=plan.before.fingerprint())
            except Conflict as exc:
                audit("failed", f"nothing written: {exc}")
                raise
            except ModeldeckError as exc:
                # the write may or may not have landed (e.g. a timeout after sending):
                # never resend it; re-read and tell which
                if not self._landed(target, plan):
                    audit("failed", f"not applied: {exc}")
                    raise
                log.warning("%s: the write reported %s but the config landed", plan.target, exc)
            at = now_iso()
            with self._cache.write() as con:
                journal_store.record_applied(
                    con,
                    target=plan.target,
                    at=at,
                    action=plan.action,
                    app=plan.app,
                    config=plan.after,
                )
            report(1, 3, "waiting for the cluster")
            try:
                status, message = self._follow(target, plan, report, cancel, timeout_s)
                report(2, 3, "reading the real state")
                deployments = self.refresh(plan.target, target=target)
            except ModeldeckError as exc:
                audit("unknown", f"written, then: {exc}")
                raise
        finally:
            target.close()
        ok = status in ("RUNNING", "REMOVED")
        audit("ok" if ok else "failed", f"{status}: {message}" if message else status)
        report(3, 3, status)
        return Outcome(plan, ok, status, message, tuple(deployments))

    @staticmethod
    def _landed(target: DeploymentTarget, plan: Plan) -> bool:
        try:
            return target.read().config.fingerprint() == plan.after.fingerprint()
        except ModeldeckError:
            return False

    def _follow(
        self,
        target: DeploymentTarget,
        plan: Plan,
        report: Progress,
        cancel: threading.Event | None,
        timeout_s: float,
    ) -> tuple[str, str]:
        want = plan.after.app(plan.app)
        deadline = time.monotonic() + timeout_s
        last = ""
        while True:
            state = target.read()
            app = state.apps.get(plan.app)
            if want is None:
                if app is None:
                    return "REMOVED", ""
            elif app is not None:
                text = f"{app.status}: {app.messages()}" if app.messages() else str(app.status)
                if text != last:
                    report(1, 3, text)
                    last = text
                current = state.config.app(plan.app)
                applied = current is not None and d.canonical_json(current) == d.canonical_json(
                    want
                )
                if applied and app.status in (
                    DeploymentStatus.DEPLOY_FAILED,
                    DeploymentStatus.UNHEALTHY,
                ):
                    return str(app.status), app.messages()
                if (
                    applied
                    and app.status is DeploymentStatus.RUNNING
                    and app.running_replicas() >= _replicas_of(want)
                ):
                    return "RUNNING", app.message
            if cancel is not None and cancel.is_set():
                return "CANCELLED", "stopped waiting; the cluster goes on applying the config"
            if time.monotonic() > deadline:
                return "TIMEOUT", f"not settled after {timeout_s:.0f} s; last: {last}"
            time.sleep(self._poll_s)  # polling with a deadline

    # ------------------------------------------------------------ reads
    def refresh(
        self, target_name: str, *, target: DeploymentTarget | None = None
    ) -> list[Deployment]:
        """Read the target's real state and make the cache's deployments table match it."""
        own = target is None
        t = target or self._target_factory(target_name)
        try:
            state = t.read()
        finally:
            if own:
                t.close()
        registry = self._option(target_name, "registry") or None
        out = [
            _deployment(target_name, registry, cfg, state.apps.get(str(cfg.get("name"))))
            for cfg in state.config.apps
        ]
        with self._cache.write() as con:
            queries.replace_deployments(con, target_name, out)
        return out

    # ------------------------------------------------------------ why / predict
    def why(self, target: str, app: str, *, lines: int = dx.DEFAULT_LOG_LINES) -> dx.WhyReport:
        """Everything ``target`` says about ``app``: states, messages and the last
        ``lines`` log lines of its replicas (read-only, bounded). A target kind that keeps
        no logs Modeldeck can read gets the states and messages, and a note saying so."""
        bad = dx.check_lines(lines)
        if bad:
            raise ConfigError(bad)
        t = self._target_factory(target)
        try:
            if isinstance(t, DiagnosableTarget):
                return t.diagnose(app, lines=lines)
            state = t.read()
        finally:
            t.close()
        status = state.apps.get(app)
        if status is None:
            raise NotFound(f"no app {app!r} on {target}")
        return dx.WhyReport(
            target=target,
            app=app,
            status=str(status.status),
            message=status.message,
            deployments=tuple(
                dx.DeploymentWhy(
                    name=name,
                    status="",
                    message=message,
                    replicas=tuple(
                        dx.ReplicaWhy(replica_id=str(i), state=r.state) for i, r in enumerate(reps)
                    ),
                )
                for name, (message, reps) in status.deployments.items()
            ),
            notes=(f"{target}: this kind of target keeps no logs Modeldeck can read",),
        )

    def served_versions(self, target: str, app: str) -> tuple[str, str | None, int]:
        """(stable, canary or None, canary percent) of a Modeldeck app, read now."""
        state, reach = self._read(target)
        if state is None:
            raise ConfigError(reach.detail)
        args = self._args(self._need_app(state, app))
        canary = args.get(d.ARG_CANARY)
        return (
            str(args[d.ARG_STABLE]),
            str(canary) if canary else None,
            int(args.get(d.ARG_PERCENT) or 0) if canary else 0,
        )

    def predict(
        self,
        target: str,
        app: str,
        body: Any,
        *,
        version: str | None = None,
        timeout_s: float = 30.0,
    ) -> dx.PredictResult:
        """Send ``body`` (JSON) once to ``app``'s own route on ``target`` and read the
        answer (cut at a bound, with a note), its latency and the version that answered;
        pinned to ``version`` when given (it must be one the app serves). A timeout is a
        result (``timed_out``), not an error."""
        if version is not None:
            stable, canary, _pct = self.served_versions(target, app)
            served = [v for v in (stable, canary) if v]
            if version not in served:
                raise ConfigError(
                    f"{app} on {target} serves {', '.join('v' + v for v in served)}, not v{version}"
                )
        data = d.canonical_json(body).encode()
        if len(data) > dx.MAX_REQUEST_BYTES:
            raise ConfigError(
                f"the request body is {len(data)} bytes; at most {dx.MAX_REQUEST_BYTES} are sent"
            )
        t = self._target_factory(target)
        try:
            if not isinstance(t, InvocableTarget):
                kind = self._backends.get(target).kind
                raise ConfigError(f"{target}: sending requests is not supported for kind {kind}")
            try:
                url, reply = t.invoke(app, data, version=version, timeout_s=timeout_s)
            except dx.TimedOut as exc:
                return dx.PredictResult(
                    target=target,
                    app=app,
                    url="",
                    version=None,
                    status=None,
                    latency_ms=timeout_s * 1000,
                    timed_out=True,
                    note=f"no answer within {timeout_s:g} s ({exc.detail})",
                    pinned=version,
                )
        finally:
            t.close()
        return dx.predict_result(target=target, app=app, url=url, reply=reply, pinned=version)

    def compare(
        self, target: str, app: str, body: Any, *, timeout_s: float = 30.0
    ) -> tuple[dx.PredictResult, dx.PredictResult]:
        """The same body once to the stable version and once to the canary (pinned)."""
        stable, canary, _pct = self.served_versions(target, app)
        if canary is None:
            raise ConfigError(f"{app} on {target} runs no canary: nothing to compare")
        return (
            self.predict(target, app, body, version=stable, timeout_s=timeout_s),
            self.predict(target, app, body, version=canary, timeout_s=timeout_s),
        )

    def example_body(self, target: str, app: str, version: str | None = None) -> dx.ExampleBody:
        """A request body for ``app`` built from the version's MLflow input example (the
        ``MLmodel`` file's ``saved_input_example_info``), else from its signature; the
        stable version unless ``version``. ``NotFound`` when it has neither."""
        stable, _canary, _pct = self.served_versions(target, app)
        version = version or stable
        state, _reach = self._read(target)
        model = str(self._args(self._need_app(state, app))[d.ARG_MODEL])
        registry_name = self._option(target, "registry")
        if not registry_name:
            raise ConfigError(f"set the 'registry' option of {target} (an MLflow backend)")
        backend = self._backends.get(registry_name)
        if backend.kind is not BackendKind.MLFLOW:
            raise ConfigError(
                f"{registry_name}: input examples are read from MLflow registries only"
            )
        from app.adapters.mlflow import MlflowSource

        source = MlflowSource(
            backend, http=self._backends.connect_http(registry_name), concurrency=1
        )
        try:
            mlmodel = source.version_artifact(model, version, "MLmodel")
            if mlmodel is None:
                raise NotFound(f"{model} v{version} has no MLmodel file in {registry_name}")
            path = dx.example_path_in_mlmodel(mlmodel)
            if path:
                text = source.version_artifact(model, version, path)
                if text is not None:
                    try:
                        return dx.ExampleBody(dx.body_from_example(json.loads(text)))
                    except (ValueError, dx.NoExample) as exc:
                        log.info("%s v%s: input example not usable: %s", model, version, exc)
            inputs = dx.signature_inputs_in_mlmodel(mlmodel)
            if inputs:
                try:
                    return dx.ExampleBody(
                        dx.body_from_signature(inputs),
                        origin="signature",
                        notes=("built from the signature (zeros); no usable input example",),
                    )
                except dx.NoExample:
                    pass
        finally:
            source.close()
        raise NotFound(
            f"{model} v{version} has no input example and no signature in {registry_name}; "
            "pass --input FILE (log the model with input_example= to have one)"
        )

    def target_backends(self) -> list[Backend]:
        """Configured backends that can be deployed to (kinds with a deployment adapter)."""
        return self._backends.with_role(Role.DEPLOY)

    def targets(self) -> list[str]:
        """Names of the configured backends that can be deployed to (the Deploy dialog's
        target menu, ``deploy status`` without --target)."""
        return [b.name for b in self.target_backends()]


def _replicas_of(cfg: Mapping[str, Any]) -> int:
    total = 0
    for dep in cfg.get("deployments") or []:
        n = dep.get("num_replicas", 1) if isinstance(dep, Mapping) else 1
        total += n if isinstance(n, int) else 1
    return total or 1


def _deployment(
    target: str, registry: str | None, cfg: Mapping[str, Any], app: AppState | None
) -> Deployment:
    args = cfg.get("args") if isinstance(cfg.get("args"), Mapping) else {}
    assert isinstance(args, Mapping)
    name = str(cfg.get("name"))
    traffic: dict[str, int] = {}
    if d.ARG_STABLE in args:
        canary, pct = args.get(d.ARG_CANARY), int(args.get(d.ARG_PERCENT) or 0)
        traffic[str(args[d.ARG_STABLE])] = 100 - pct if canary else 100
        if canary:
            traffic[str(canary)] = pct
    dep = Deployment(
        target=target,
        app=name,
        model_name=str(args.get(d.ARG_MODEL, name)),
        traffic=traffic,
        replicas=_replicas_of(cfg),
        status=app.status if app else DeploymentStatus.UNKNOWN,
        message=app.messages()[:2000] if app else "",
        route=str(cfg.get("route_prefix")) if cfg.get("route_prefix") else None,
        model_source=registry if d.ARG_MODEL in args else None,
    )
    return replace(dep)
