"""Ray Serve over the dashboard REST API ``/api/serve/applications/`` (declarative).

``GET`` gives every app's status and the config it was deployed with
(``deployed_app_config``); ``PUT`` replaces the WHOLE set of apps and answers at once;
``DELETE`` removes ALL apps and is therefore never used. Replies are validated here and
rejected with ``BadResponse`` naming the field.

``diagnose`` (``deployments why``) reads the same status plus each replica's log through
the dashboard's log API, ``GET /api/v0/logs/file?node_id=&filename=&lines=N`` (plain
text; a missing file is HTTP 500 with a one-line reason), bounded by lines and bytes.
``invoke`` (``predict``) posts to the app's route on the Serve HTTP proxy, whose address
the same status reports (``http_options.host/port``; a wildcard or loopback host means
the dashboard's host; the ``serve_url`` option overrides it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from app.adapters.http import HttpBackend
from app.domain import diagnose as dx
from app.domain.deploy import AppState, ClusterState, ReplicaState, ServeConfig
from app.domain.errors import BackendError, BadResponse, ConfigError, Conflict, NotFound
from app.domain.models import DeploymentStatus

PATH = "/api/serve/applications/"
#: target-wide keys of the declarative config we carry over from a read to a write
_SETTINGS = ("proxy_location", "http_options")
_HTTP_KEYS = ("host", "port")
LOG_PATH = "/api/v0/logs/file"
#: replicas whose logs a report reads (live ones first, then the most recent dead ones)
MAX_REPLICA_LOGS = 3
#: a wildcard or loopback proxy host is reached at the dashboard's own host
_LOCAL_HOSTS = frozenset({"", "0.0.0.0", "::", "127.0.0.1", "localhost", "::1"})  # noqa: S104


class RayServeTarget:
    def __init__(self, http: HttpBackend) -> None:
        self._http = http
        self.name = http.name

    def close(self) -> None:
        self._http.close()

    def read(self) -> ClusterState:
        return parse_applications(self.name, self._http.get_json(PATH))

    def apply(self, config: ServeConfig, *, expected: str) -> None:
        current = self.read().config.fingerprint()
        if current != expected:
            raise Conflict(
                self.name,
                "the cluster's config changed since the plan was made (someone else deployed); "
                "nothing was written — review the new plan and try again",
            )
        self._http.request("PUT", PATH, json=config.body(), idempotent=False)

    # ------------------------------------------------------------ why
    def diagnose(self, app: str, *, lines: int) -> dx.WhyReport:
        body = self._http.get_json(PATH)
        state = parse_applications(self.name, body)
        if app not in state.apps:
            raise NotFound(f"no app {app!r} on {self.name}")
        raw = _obj(self.name, _obj(self.name, body, "$").get("applications"), "applications")
        app_raw = _obj(self.name, raw[app], f"applications.{app}")
        deployments: list[dx.DeploymentWhy] = []
        to_read: list[tuple[str, Mapping[str, Any]]] = []
        for dname, draw in _obj(
            self.name, app_raw.get("deployments") or {}, f"applications.{app}.deployments"
        ).items():
            d = _obj(self.name, draw, f"applications.{app}.deployments.{dname}")
            live = [r for r in d.get("replicas") or [] if isinstance(r, Mapping)]
            dead = [r for r in d.get("recent_dead_replicas") or [] if isinstance(r, Mapping)]
            replicas = tuple(_replica(r) for r in live) + tuple(
                _replica(r, dead=True) for r in dead
            )
            deployments.append(
                dx.DeploymentWhy(
                    name=str(dname),
                    status=str(d.get("status") or "UNKNOWN"),
                    message=dx.strip_ansi(str(d.get("message") or "")),
                    replicas=replicas,
                )
            )
            to_read += [(f"replica {r.get('replica_id')}", r) for r in live]
            to_read += [(f"replica {r.get('replica_id')} (stopped)", r) for r in dead[-2:]]
        logs = [
            self._log(source, str(r.get("node_id") or ""), str(r.get("log_file_path") or ""), lines)
            for source, r in to_read[:MAX_REPLICA_LOGS]
        ]
        notes: list[str] = []
        if len(to_read) > MAX_REPLICA_LOGS:
            notes.append(
                f"logs of {len(to_read) - MAX_REPLICA_LOGS} more replica(s) left out "
                f"(at most {MAX_REPLICA_LOGS} are read)"
            )
        controller = _obj(self.name, body, "$").get("controller_info")
        if isinstance(controller, Mapping) and controller.get("log_file_path"):
            logs.append(
                self._log(
                    "controller",
                    str(controller.get("node_id") or ""),
                    str(controller["log_file_path"]),
                    lines,
                    about=app,
                )
            )
        if not to_read:
            notes.append("no replica was started (or none is left): nothing of theirs to read")
        status = state.apps[app]
        return dx.WhyReport(
            target=self.name,
            app=app,
            status=str(status.status),
            message=dx.strip_ansi(status.message),
            deployments=tuple(deployments),
            logs=tuple(logs),
            notes=tuple(notes),
        )

    def _log(
        self, source: str, node: str, path: str, lines: int, *, about: str | None = None
    ) -> dx.LogExcerpt:
        """The last ``lines`` lines of one log file on ``node`` (of those mentioning
        ``about``, when given: the controller's log covers every app)."""
        filename = path.lstrip("/")
        if not node or not filename:
            return dx.LogExcerpt(source, filename or "?", error="Ray reports no log file for it")
        # the controller's log is shared: read more of it, keep the lines about the app
        ask = min(lines * 20, 5000) if about else lines
        try:
            reply = self._http.send_raw(
                "GET",
                LOG_PATH,
                params={"node_id": node, "filename": filename, "lines": ask},
                max_bytes=dx.LOG_BYTES_CAP * (8 if about else 1),
            )
        except BackendError as exc:
            return dx.LogExcerpt(source, filename, error=str(exc))
        text = reply.body.decode("utf-8", "replace")
        if reply.status >= 400:
            reason = text.strip().splitlines()[-1][:300] if text.strip() else f"{reply.status}"
            return dx.LogExcerpt(
                source, filename, error=f"the dashboard answered HTTP {reply.status}: {reason}"
            )
        text = dx.strip_ansi(text)
        if about:
            rows = [r for r in text.splitlines() if f"app='{about}'" in r or f" {about}" in r]
            text = "\n".join(rows)
        kept, cut = dx.tail(text, lines)
        if reply.truncated and not about:
            cut = True
        return dx.LogExcerpt(
            source if not about else f"controller (lines about {about})",
            filename,
            kept,
            truncated=cut,
        )

    # ------------------------------------------------------------ predict
    def serve_url(self, body: Any | None = None) -> str:
        """The Serve HTTP proxy's base URL, as the cluster reports it."""
        override = self._http.backend.options.get("serve_url")
        if override:
            return str(override).rstrip("/")
        root = _obj(self.name, body if body is not None else self._http.get_json(PATH), "$")
        http = root.get("http_options")
        if not isinstance(http, Mapping) or not isinstance(http.get("port"), int):
            raise BadResponse(self.name, "http_options.port", "the cluster reports no HTTP proxy")
        dash = urlsplit(self._http.backend.url)
        host = str(http.get("host") or "")
        if host in _LOCAL_HOSTS:
            host = dash.hostname or "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if http.get("ssl_certfile") else "http"
        return f"{scheme}://{host}:{http['port']}"

    def invoke(
        self, app: str, body: bytes, *, version: str | None, timeout_s: float
    ) -> tuple[str, dx.Reply]:
        raw = self._http.get_json(PATH)
        state = parse_applications(self.name, raw)
        status = state.apps.get(app)
        if status is None:
            raise NotFound(f"no app {app!r} on {self.name}")
        if not status.route:
            raise ConfigError(f"{app} on {self.name} has no HTTP route (route_prefix)")
        url = self.serve_url(raw) + "/" + status.route.strip("/")
        headers = {"content-type": "application/json"}
        if version is not None:
            headers[dx.VERSION_HEADER] = version
        reply = self._http.send_raw(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout_s=timeout_s,
            max_bytes=dx.RESPONSE_BYTES_CAP,
        )
        return url, reply


def _replica(r: Mapping[str, Any], *, dead: bool = False) -> dx.ReplicaWhy:
    pid = r.get("pid")
    return dx.ReplicaWhy(
        replica_id=str(r.get("replica_id") or r.get("actor_name") or "?"),
        state=str(r.get("state") or "UNKNOWN") + (" (recently stopped)" if dead else ""),
        pid=pid if isinstance(pid, int) else None,
        node=str(r.get("node_ip") or r.get("node_id") or ""),
        log_file=str(r.get("log_file_path") or ""),
    )


def _obj(backend: str, value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise BadResponse(backend, where, f"expected an object, got {type(value).__name__}")
    return value


def _str(backend: str, value: Any, where: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise BadResponse(backend, where, f"expected text, got {type(value).__name__}")
    return value


def parse_applications(backend: str, body: Any) -> ClusterState:
    root = _obj(backend, body, "$")
    settings: dict[str, Any] = {}
    if root.get("proxy_location") is not None:
        settings["proxy_location"] = _str(backend, root["proxy_location"], "proxy_location")
    http = root.get("http_options")
    if http is not None:
        http = _obj(backend, http, "http_options")
        kept = {k: http[k] for k in _HTTP_KEYS if http.get(k) is not None}
        if "port" in kept and not isinstance(kept["port"], int):
            raise BadResponse(backend, "http_options.port", "expected an integer")
        if kept:
            settings["http_options"] = kept
    apps_raw = _obj(backend, root.get("applications", {}), "applications")
    apps: list[Mapping[str, Any]] = []
    states: dict[str, AppState] = {}
    for name, raw in apps_raw.items():
        where = f"applications.{name}"
        app = _obj(backend, raw, where)
        status = _str(backend, app.get("status"), f"{where}.status")
        cfg = app.get("deployed_app_config")
        if cfg is not None:
            cfg = dict(_obj(backend, cfg, f"{where}.deployed_app_config"))
            cfg_name = _str(backend, cfg.get("name"), f"{where}.deployed_app_config.name")
            if cfg_name != name:
                raise BadResponse(
                    backend, f"{where}.deployed_app_config.name", "differs from the key"
                )
            _str(backend, cfg.get("import_path"), f"{where}.deployed_app_config.import_path")
            if status != "DELETING":
                apps.append(cfg)
        deployments: dict[str, tuple[str, tuple[ReplicaState, ...]]] = {}
        for dname, draw in _obj(
            backend, app.get("deployments") or {}, f"{where}.deployments"
        ).items():
            dwhere = f"{where}.deployments.{dname}"
            d = _obj(backend, draw, dwhere)
            reps_raw = d.get("replicas") or []
            if not isinstance(reps_raw, list):
                raise BadResponse(backend, f"{dwhere}.replicas", "expected a list")
            reps = tuple(
                ReplicaState(
                    _str(
                        backend,
                        _obj(backend, r, f"{dwhere}.replicas[{i}]").get("state"),
                        f"{dwhere}.replicas[{i}].state",
                    )
                )
                for i, r in enumerate(reps_raw)
            )
            deployments[str(dname)] = (
                _str(backend, d.get("message"), f"{dwhere}.message", optional=True),
                reps,
            )
        states[str(name)] = AppState(
            name=str(name),
            status=DeploymentStatus.parse(status),
            message=_str(backend, app.get("message"), f"{where}.message", optional=True),
            route=_str(backend, app.get("route_prefix"), f"{where}.route_prefix", optional=True)
            or None,
            deployments=deployments,
        )
    return ClusterState(ServeConfig(settings, tuple(apps)), states)
