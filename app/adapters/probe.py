"""The connection doctor's probes: one or two cheap, read-only GETs per backend kind,
and a verdict that tells apart DNS, refused, timeout, TLS (untrusted / wrong host),
401/403 and "a different kind of server answers at that URL".

Each request is sent once (no retries): the doctor reports what happens now.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.adapters.http import build_client, classify_transport_error
from app.domain.doctor import Verdict, VerdictCode
from app.domain.errors import ConfigError
from app.domain.models import Backend, BackendKind, Credential

log = logging.getLogger(__name__)

_VERSION = re.compile(r"^\d+\.\d+[\w.+-]*$")

KIND_LABEL = {
    BackendKind.MLFLOW: "MLflow",
    BackendKind.PROMETHEUS: "Prometheus",
    BackendKind.RAY_SERVE: "Ray Serve",
    BackendKind.KSERVE: "KServe",
}


@dataclass(frozen=True)
class _Answer:
    """What one probe request found."""

    ok: bool
    version: str | None = None
    status: int | None = None
    why: str = ""


class _Stop(Exception):
    """Internal control flow: carries the verdict out of nested probe steps."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict


class Prober:
    """Probe one backend with ``credential`` (may be ``None``)."""

    def __init__(
        self,
        backend: Backend,
        credential: Credential | None,
        *,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.backend = backend
        self.credential = credential
        self.transport = transport
        self.now = now
        self.host = urlsplit(backend.url).hostname or backend.url
        self.label = KIND_LABEL[backend.kind]

    def verdict(
        self, code: VerdictCode, summary: str, cause: str, next_step: str, **extra: Any
    ) -> Verdict:
        return Verdict(
            backend=self.backend.name,
            kind=str(self.backend.kind),
            url=self.backend.url,
            code=code,
            summary=summary,
            cause=cause,
            next_step=next_step,
            checked_at=self.now(),
            authenticated=self.credential is not None,
            **extra,
        )

    # ------------------------------------------------------------------ run
    def run(self) -> Verdict:
        b = self.backend
        if b.kind is BackendKind.KSERVE:
            return self.verdict(
                VerdictCode.NOT_PROBED,
                "not probed: KServe is reached through the Kubernetes API",
                "KServe InferenceServices are managed through a Kubernetes API server with "
                "a kubeconfig; Modeldeck does not probe Kubernetes yet",
                "check the cluster with 'kubectl get inferenceservices' using the same "
                "kubeconfig and context",
            )
        try:
            client = build_client(b, self.credential, transport=self.transport)
        except ConfigError as exc:
            return self.verdict(
                VerdictCode.BAD_CONFIG,
                "cannot use the configuration",
                str(exc),
                "fix the backend's settings (Edit, or backends add --replace)",
            )
        with client:
            try:
                if b.kind is BackendKind.MLFLOW:
                    return self._mlflow(client)
                if b.kind is BackendKind.PROMETHEUS:
                    return self._prometheus(client)
                return self._ray(client)
            except _Stop as stop:
                return stop.verdict

    # ------------------------------------------------------------------ kinds
    def _mlflow(self, client: httpx.Client) -> Verdict:
        r = self._get(client, "/version")
        version = None
        if r.status_code == 200 and _VERSION.match(r.text.strip()):
            version = r.text.strip()
        r2 = self._get(
            client, "/api/2.0/mlflow/registered-models/search", params={"max_results": 1}
        )
        body = _json(r2)
        if (
            r2.status_code == 200
            and isinstance(body, dict)
            and (not body or "registered_models" in body or "next_page_token" in body)
        ):
            return self._ok(version, "the Model Registry API answered")
        raise _Stop(self._mismatch(client, r2, "/api/2.0/mlflow/registered-models/search"))

    def _prometheus(self, client: httpx.Client) -> Verdict:
        path = "/api/v1/status/buildinfo"
        r = self._get(client, path)
        body = _json(r)
        if r.status_code == 200 and isinstance(body, dict) and body.get("status") == "success":
            data = body.get("data")
            version = data.get("version") if isinstance(data, dict) else None
            return self._ok(
                version if isinstance(version, str) else None, "the build-info API answered"
            )
        raise _Stop(self._mismatch(client, r, path))

    def _ray(self, client: httpx.Client) -> Verdict:
        r = self._get(client, "/api/version")
        body = _json(r)
        if not (r.status_code == 200 and isinstance(body, dict) and "ray_version" in body):
            raise _Stop(self._mismatch(client, r, "/api/version"))
        version = body.get("ray_version")
        path = "/api/serve/applications/"
        r2 = self._get(client, path)
        if r2.status_code == 200 and isinstance(_json(r2), dict):
            return self._ok(str(version), "the Serve REST API answered")
        return self.verdict(
            VerdictCode.HTTP_ERROR,
            f"Ray {version} answers, but its Serve API does not (HTTP {r2.status_code})",
            f"GET {path} answered HTTP {r2.status_code}: {_snippet(r2)}",
            "start Serve on the cluster (serve start / deploy a config) and check the "
            "dashboard's logs",
            server_version=str(version),
        )

    # ------------------------------------------------------------------ helpers
    def _ok(self, version: str | None, how: str) -> Verdict:
        shown = f"{self.label} {version}" if version else self.label
        auth = "with the saved credentials" if self.credential else "without credentials"
        return self.verdict(
            VerdictCode.OK, f"OK: {shown}", f"{how} ({auth})", "", server_version=version
        )

    def _get(
        self, client: httpx.Client, path: str, params: dict[str, Any] | None = None
    ) -> httpx.Response:
        try:
            r = client.get(path, params=params)
        except httpx.TransportError as exc:
            raise _Stop(self._transport_verdict(exc)) from exc
        if r.status_code == 401:
            raise _Stop(self._unauthorized(path))
        if r.status_code == 403:
            raise _Stop(
                self.verdict(
                    VerdictCode.FORBIDDEN,
                    "forbidden (HTTP 403): the credentials lack permission",
                    f"GET {path} answered 403: the server knows who we are but refuses access",
                    "ask the server's admin for read access for this account or token",
                )
            )
        return r

    def _unauthorized(self, path: str) -> Verdict:
        if self.credential is None:
            return self.verdict(
                VerdictCode.UNAUTHORIZED,
                "needs credentials (HTTP 401)",
                f"GET {path} answered 401 and no token or password is saved for this backend",
                f"save a token in the OS keyring: modeldeck backends add {self.backend.name} "
                f"--replace --kind {self.backend.kind} --url {self.backend.url} --token-stdin "
                "(or Edit in the app)",
            )
        return self.verdict(
            VerdictCode.UNAUTHORIZED,
            "credentials refused (HTTP 401)",
            f"GET {path} answered 401: the saved token or password is wrong or expired",
            "save a fresh token: modeldeck backends add "
            f"{self.backend.name} --replace --kind {self.backend.kind} --url {self.backend.url} "
            "--token-stdin (or Edit in the app)",
        )

    def _transport_verdict(self, exc: httpx.TransportError) -> Verdict:
        code, detail = classify_transport_error(exc)
        b = self.backend
        steps = {
            VerdictCode.DNS: (
                f"cannot resolve {self.host}",
                f"check the host name in the URL ({self.host}); on a corporate network, "
                "connect the VPN or check the DNS settings",
            ),
            VerdictCode.REFUSED: (
                f"connection refused by {self.host}",
                "check that the server is running and that the URL's port is right",
            ),
            VerdictCode.TIMEOUT: (
                f"no answer from {self.host} within {b.timeout_s:g} s",
                "check firewall/VPN and that the server is healthy; a slow server may need a "
                "longer timeout (--timeout S)",
            ),
            VerdictCode.TLS_UNTRUSTED: (
                "TLS: the server's certificate is not trusted",
                "if the server uses a private CA, give its certificate as the CA bundle "
                "(--ca-bundle FILE, or Edit in the app)",
            ),
            VerdictCode.TLS_HOSTNAME: (
                f"TLS: the certificate is not valid for {self.host}",
                "use the host name the certificate was issued for, or have the certificate "
                f"reissued to include {self.host}",
            ),
            VerdictCode.TLS: (
                "TLS handshake failed",
                "check the URL's scheme (https:// vs http://) and the server's TLS set-up",
            ),
            VerdictCode.UNREACHABLE: (
                f"cannot connect to {self.host}",
                "check the URL and the network",
            ),
        }
        summary, step = steps.get(code, steps[VerdictCode.UNREACHABLE])
        return self.verdict(code, summary, detail, step)

    def _mismatch(self, client: httpx.Client, r: httpx.Response, path: str) -> Verdict:
        detected = self._fingerprint(client)
        if detected:
            return self.verdict(
                VerdictCode.WRONG_KIND,
                f"not {self.label}: this URL serves {detected}",
                f"GET {path} answered HTTP {r.status_code}; the server looks like {detected}",
                f"fix the URL, or register it with the right kind (--kind {_kind_for(detected)})",
                detected_kind=_kind_for(detected),
            )
        if r.status_code >= 500:
            return self.verdict(
                VerdictCode.HTTP_ERROR,
                f"server error (HTTP {r.status_code})",
                f"GET {path} answered HTTP {r.status_code}: {_snippet(r)}",
                "the server has a problem; check its logs and try again",
            )
        return self.verdict(
            VerdictCode.WRONG_KIND,
            f"not {self.label} (GET {path} → HTTP {r.status_code})",
            f"something answers at {self.backend.url}, but not the {self.label} API: {_snippet(r)}",
            f"check the URL (base URL of the {self.label} API, no extra path) and the kind",
        )

    def _fingerprint(self, client: httpx.Client) -> str | None:
        """What kind of server this is, judged by cheap read-only GETs."""
        checks: list[tuple[BackendKind, Callable[[], str | None]]] = [
            (BackendKind.PROMETHEUS, lambda: self._looks_prometheus(client)),
            (BackendKind.MLFLOW, lambda: self._looks_mlflow(client)),
            (BackendKind.RAY_SERVE, lambda: self._looks_ray(client)),
        ]
        for kind, check in checks:
            if kind is self.backend.kind:
                continue
            try:
                found = check()
            except httpx.HTTPError:
                continue
            if found:
                return found
        return None

    @staticmethod
    def _looks_prometheus(client: httpx.Client) -> str | None:
        body = _json(client.get("/api/v1/status/buildinfo"))
        if isinstance(body, dict) and body.get("status") == "success":
            data = body.get("data")
            v = data.get("version") if isinstance(data, dict) else None
            return f"Prometheus {v}" if v else "Prometheus"
        return None

    @staticmethod
    def _looks_mlflow(client: httpx.Client) -> str | None:
        r = client.get("/version")
        if r.status_code == 200 and _VERSION.match(r.text.strip()):
            health = client.get("/health")
            if health.status_code == 200 and health.text.strip() == "OK":
                return f"MLflow {r.text.strip()}"
        return None

    @staticmethod
    def _looks_ray(client: httpx.Client) -> str | None:
        body = _json(client.get("/api/version"))
        if isinstance(body, dict) and "ray_version" in body:
            return f"Ray {body['ray_version']}"
        return None


def probe(
    backend: Backend,
    credential: Credential | None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> Verdict:
    """Try ``backend`` now and say what works or what is wrong."""
    verdict = Prober(backend, credential, transport=transport).run()
    log.info("doctor %s: %s (%s)", backend.name, verdict.code, verdict.summary)
    return verdict


def _kind_for(detected: str) -> str:
    low = detected.lower()
    if low.startswith("prometheus"):
        return str(BackendKind.PROMETHEUS)
    if low.startswith("mlflow"):
        return str(BackendKind.MLFLOW)
    return str(BackendKind.RAY_SERVE)


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _snippet(r: httpx.Response) -> str:
    text = " ".join(r.text.split())[:160]
    return text or r.reason_phrase or "(empty body)"
