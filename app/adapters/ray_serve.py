"""Ray Serve over the dashboard REST API ``/api/serve/applications/`` (declarative).

``GET`` gives every app's status and the config it was deployed with
(``deployed_app_config``); ``PUT`` replaces the WHOLE set of apps and answers at once;
``DELETE`` removes ALL apps and is therefore never used. Replies are validated here and
rejected with ``BadResponse`` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.adapters.http import HttpBackend
from app.domain.deploy import AppState, ClusterState, ReplicaState, ServeConfig
from app.domain.errors import BadResponse, Conflict
from app.domain.models import DeploymentStatus

PATH = "/api/serve/applications/"
#: target-wide keys of the declarative config we carry over from a read to a write
_SETTINGS = ("proxy_location", "http_options")
_HTTP_KEYS = ("host", "port")


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
