"""The connection doctor's probes: one or two cheap, read-only GETs per backend kind,
and a verdict that tells apart DNS, refused, timeout, TLS (untrusted / wrong host),
401/403 and "a different kind of server answers at that URL".

The per-kind checks are plain functions here; which kind uses which (``KindProbe``)
is declared in ``app.adapters.registry``, with the kind's adapters. Each request is
sent once (no retries): the doctor reports what happens now.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.adapters.http import build_client, classify_transport_error
from app.domain.doctor import Verdict, VerdictCode
from app.domain.errors import ConfigError
from app.domain.kinds import spec
from app.domain.models import Backend, BackendKind, Credential

log = logging.getLogger(__name__)

_VERSION = re.compile(r"^\d+\.\d+[\w.+-]*$")

#: the cheap read-only GETs that say whether a kind answers at the URL (raising
#: ``_Stop`` with the verdict when it does not)
HttpCheck = Callable[["Prober", httpx.Client], Verdict]
#: "is this server of my kind?": what it is ("Prometheus 2.53") or ``None``
Fingerprint = Callable[[httpx.Client], str | None]


@dataclass(frozen=True)
class KindProbe:
    """How the doctor tries one kind."""

    #: the check over HTTP; ``None``: the kind is not probed (``unprobed`` says why)
    check: HttpCheck | None = None
    #: recognises a server of this kind behind another kind's URL (wrong-kind verdicts)
    looks_like: Fingerprint | None = None
    #: (summary, cause, next step) of the NOT_PROBED verdict when ``check`` is None
    unprobed: tuple[str, str, str] | None = None


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
        probes: Mapping[BackendKind, KindProbe],
        now: Callable[[], datetime] = lambda: datetime.now(tz=UTC),
    ) -> None:
        self.backend = backend
        self.credential = credential
        self.transport = transport
        self.probes = probes
        self.now = now
        self.host = urlsplit(backend.url).hostname or backend.url
        self.label = spec(backend.kind).label

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
        kind_probe = self.probes.get(b.kind, KindProbe())
        if kind_probe.check is None:
            summary, cause, step = kind_probe.unprobed or (
                f"not probed: Modeldeck has no probe for {self.label} yet",
                f"no connection check is written for kind {b.kind!r}",
                "check the server with its own tools",
            )
            return self.verdict(VerdictCode.NOT_PROBED, summary, cause, step)
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
                return kind_probe.check(self, client)
            except _Stop as stop:
                return stop.verdict

    # ------------------------------------------------------------------ helpers
    def ok(self, version: str | None, how: str) -> Verdict:
        shown = f"{self.label} {version}" if version else self.label
        auth = "with the saved credentials" if self.credential else "without credentials"
        return self.verdict(
            VerdictCode.OK, f"OK: {shown}", f"{how} ({auth})", "", server_version=version
        )

    def get(
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

    def mismatch(self, client: httpx.Client, r: httpx.Response, path: str) -> Verdict:
        found = self._fingerprint(client)
        if found:
            kind, detected = found
            return self.verdict(
                VerdictCode.WRONG_KIND,
                f"not {self.label}: this URL serves {detected}",
                f"GET {path} answered HTTP {r.status_code}; the server looks like {detected}",
                f"fix the URL, or register it with the right kind (--kind {kind})",
                detected_kind=str(kind),
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

    def _fingerprint(self, client: httpx.Client) -> tuple[BackendKind, str] | None:
        """What kind of server this is, judged by other kinds' cheap read-only GETs."""
        for kind, kind_probe in self.probes.items():
            if kind is self.backend.kind or kind_probe.looks_like is None:
                continue
            try:
                found = kind_probe.looks_like(client)
            except httpx.HTTPError:
                continue
            if found:
                return kind, found
        return None


# ------------------------------------------------------------------ kinds
def check_mlflow(p: Prober, client: httpx.Client) -> Verdict:
    r = p.get(client, "/version")
    version = None
    if r.status_code == 200 and _VERSION.match(r.text.strip()):
        version = r.text.strip()
    path = "/api/2.0/mlflow/registered-models/search"
    r2 = p.get(client, path, params={"max_results": 1})
    body = _json(r2)
    if (
        r2.status_code == 200
        and isinstance(body, dict)
        and (not body or "registered_models" in body or "next_page_token" in body)
    ):
        return p.ok(version, "the Model Registry API answered")
    raise _Stop(p.mismatch(client, r2, path))


def check_prometheus(p: Prober, client: httpx.Client) -> Verdict:
    path = "/api/v1/status/buildinfo"
    r = p.get(client, path)
    body = _json(r)
    if r.status_code == 200 and isinstance(body, dict) and body.get("status") == "success":
        data = body.get("data")
        version = data.get("version") if isinstance(data, dict) else None
        return p.ok(version if isinstance(version, str) else None, "the build-info API answered")
    raise _Stop(p.mismatch(client, r, path))


def check_ray(p: Prober, client: httpx.Client) -> Verdict:
    r = p.get(client, "/api/version")
    body = _json(r)
    if not (r.status_code == 200 and isinstance(body, dict) and "ray_version" in body):
        raise _Stop(p.mismatch(client, r, "/api/version"))
    version = body.get("ray_version")
    path = "/api/serve/applications/"
    r2 = p.get(client, path)
    if r2.status_code == 200 and isinstance(_json(r2), dict):
        return p.ok(str(version), "the Serve REST API answered")
    return p.verdict(
        VerdictCode.HTTP_ERROR,
        f"Ray {version} answers, but its Serve API does not (HTTP {r2.status_code})",
        f"GET {path} answered HTTP {r2.status_code}: {_snippet(r2)}",
        "start Serve on the cluster (serve start / deploy a config) and check the dashboard's logs",
        server_version=str(version),
    )


def looks_prometheus(client: httpx.Client) -> str | None:
    body = _json(client.get("/api/v1/status/buildinfo"))
    if isinstance(body, dict) and body.get("status") == "success":
        data = body.get("data")
        v = data.get("version") if isinstance(data, dict) else None
        return f"Prometheus {v}" if v else "Prometheus"
    return None


def looks_mlflow(client: httpx.Client) -> str | None:
    r = client.get("/version")
    if r.status_code == 200 and _VERSION.match(r.text.strip()):
        health = client.get("/health")
        if health.status_code == 200 and health.text.strip() == "OK":
            return f"MLflow {r.text.strip()}"
    return None


def looks_ray(client: httpx.Client) -> str | None:
    body = _json(client.get("/api/version"))
    if isinstance(body, dict) and "ray_version" in body:
        return f"Ray {body['ray_version']}"
    return None


KSERVE_UNPROBED = (
    "not probed: KServe is reached through the Kubernetes API",
    "KServe InferenceServices are managed through a Kubernetes API server with "
    "a kubeconfig; Modeldeck does not probe Kubernetes yet",
    "check the cluster with 'kubectl get inferenceservices' using the same kubeconfig and context",
)


def probe(
    backend: Backend,
    credential: Credential | None,
    probes: Mapping[BackendKind, KindProbe],
    *,
    transport: httpx.BaseTransport | None = None,
) -> Verdict:
    """Try ``backend`` now with its kind's probe and say what works or what is wrong."""
    verdict = Prober(backend, credential, transport=transport, probes=probes).run()
    log.info("doctor %s: %s (%s)", backend.name, verdict.code, verdict.summary)
    return verdict


def _json(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def _snippet(r: httpx.Response) -> str:
    text = " ".join(r.text.split())[:160]
    return text or r.reason_phrase or "(empty body)"
