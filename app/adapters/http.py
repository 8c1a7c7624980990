"""Shared HTTP plumbing for every adapter: one ``httpx.Client`` per backend,
explicit timeouts, TLS settings, auth, bounded retries for idempotent reads,
and translation of every httpx failure into the domain error tree.

Nothing above the adapters ever sees an httpx exception.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
import time
from collections.abc import Mapping
from typing import Any

import httpx

from app import __version__
from app.domain.diagnose import Reply, TimedOut
from app.domain.doctor import VerdictCode
from app.domain.errors import (
    BackendError,
    BackendNotFound,
    BadResponse,
    ConfigError,
    Conflict,
    Unauthorized,
    Unreachable,
)
from app.domain.models import Backend, Credential

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({502, 503, 504})


def build_client(
    backend: Backend,
    credential: Credential | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """A client bound to ``backend.url`` with its TLS settings and credentials."""
    verify: bool | str | ssl.SSLContext = backend.verify_tls
    if backend.verify_tls and backend.ca_bundle:
        try:
            verify = ssl.create_default_context(cafile=backend.ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{backend.name}: cannot use the CA bundle {backend.ca_bundle} ({exc}); "
                "point --ca-bundle at a PEM file of CA certificates"
            ) from exc
    auth: httpx.Auth | None = None
    if credential is not None:
        if credential.token:
            auth = _BearerAuth(credential.token)
        elif credential.username is not None:
            auth = httpx.BasicAuth(credential.username, credential.password or "")
    timeout = httpx.Timeout(backend.timeout_s, connect=min(backend.timeout_s, 5.0))
    return httpx.Client(
        base_url=backend.url.rstrip("/"),
        auth=auth,
        verify=verify,
        timeout=timeout,
        transport=transport,
        headers={"User-Agent": f"modeldeck/{__version__}"},
        # httpx drops the Authorization header when a redirect leaves the origin
        follow_redirects=True,
    )


class _BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = self._header
        yield request


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (httpx → httpcore → ssl/socket error)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


#: OpenSSL verify codes (X509_V_ERR_*) that mean "no trusted CA signed this"
_UNTRUSTED_CODES = frozenset({2, 18, 19, 20, 21, 27})
#: X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
_MISMATCH_CODES = frozenset({62, 64})


def classify_transport_error(exc: httpx.TransportError) -> tuple[VerdictCode, str]:
    """The kind of connection failure (from the causing ssl/socket error, not the
    message text) and one line naming it."""
    causes = _causes(exc)
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            code = cause.verify_code
            reason = cause.verify_message or str(cause)
            if code in _MISMATCH_CODES:
                return (
                    VerdictCode.TLS_HOSTNAME,
                    f"TLS: the certificate is for another host ({reason})",
                )
            if code in _UNTRUSTED_CODES:
                return VerdictCode.TLS_UNTRUSTED, f"TLS: certificate not trusted ({reason})"
            return VerdictCode.TLS, f"TLS: certificate rejected ({reason})"
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return VerdictCode.TLS, f"TLS handshake failed ({cause.reason or cause})"
        if isinstance(cause, socket.gaierror):
            return VerdictCode.DNS, f"cannot resolve the host name ({cause.strerror or cause})"
        if isinstance(cause, ConnectionRefusedError):
            return VerdictCode.REFUSED, "connection refused (nothing listens on that port)"
    if isinstance(exc, httpx.ConnectTimeout):
        return VerdictCode.TIMEOUT, "timed out while connecting"
    if isinstance(exc, httpx.TimeoutException):
        return VerdictCode.TIMEOUT, "connected, but no answer came back in time"
    text = str(exc) or type(exc).__name__
    return VerdictCode.UNREACHABLE, f"cannot connect ({type(exc).__name__}: {text})"


def describe_transport_error(exc: httpx.TransportError) -> str:
    """One line naming the cause of a failed connection."""
    return classify_transport_error(exc)[1]


class HttpBackend:
    """A backend's HTTP endpoint with mapped errors.

    ``get_json``/``post_json(idempotent=True)`` retry connect errors, timeouts
    and 502/503/504 with jittered exponential backoff, at most ``retries``
    times; writes (``idempotent=False``) are sent exactly once.
    """

    def __init__(
        self,
        backend: Backend,
        credential: Credential | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        backoff_s: float = 0.25,
    ) -> None:
        self.backend = backend
        self.name = backend.name
        self.client = build_client(backend, credential, transport=transport)
        #: the basic-auth user name sent on every request (None: a token, or no auth)
        self.username = (
            credential.username if credential is not None and not credential.token else None
        )
        self.retries = retries
        self.backoff_s = backoff_s

    def close(self) -> None:
        self.client.close()

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params, idempotent=True)

    def post_json(self, path: str, body: Any, *, idempotent: bool) -> Any:
        return self.request("POST", path, json=body, idempotent=idempotent)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool,
    ) -> Any:
        """Send one request, return the decoded JSON body (``None`` for an empty body)."""
        return self._decode(
            self._response(method, path, params=params, json=json, idempotent=idempotent)
        )

    def get_text(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """GET a text body (e.g. an artifact file), with the retries and error mapping of
        :meth:`request`."""
        response = self._response("GET", path, params=params, json=None, idempotent=True)
        if response.status_code >= 400:
            self._decode(response)  # raises the mapped error
        return response.text

    def send_raw(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        max_bytes: int,
    ) -> Reply:
        """Send one request — once, never retried — and read at most ``max_bytes`` of the
        answer, whatever its status (an app's own 4xx/5xx is an answer, not an error).
        ``url`` may be absolute (an app's route on another port of the same cluster);
        the backend's credentials and TLS settings go with it. ``TimedOut`` when no
        answer came in time, ``Unreachable`` when it could not connect."""
        timeout = (
            httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0))
            if timeout_s is not None
            else httpx.USE_CLIENT_DEFAULT
        )
        started = time.perf_counter()
        try:
            with self.client.stream(
                method, url, params=params, content=content, headers=headers, timeout=timeout
            ) as response:
                buf = bytearray()
                truncated = False
                for chunk in response.iter_bytes():
                    buf += chunk
                    if len(buf) > max_bytes:
                        truncated = True
                        del buf[max_bytes:]
                        break
                latency_ms = (time.perf_counter() - started) * 1000
                return Reply(
                    status=response.status_code,
                    headers=dict(response.headers),
                    body=bytes(buf),
                    latency_ms=latency_ms,
                    truncated=truncated,
                )
        except httpx.TimeoutException as exc:
            waited = (time.perf_counter() - started) * 1000
            raise TimedOut(
                self.name, f"{describe_transport_error(exc)} (waited {waited:.0f} ms)"
            ) from exc
        except httpx.TransportError as exc:
            raise Unreachable(self.name, describe_transport_error(exc)) from exc

    def _response(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        json: Any,
        idempotent: bool,
    ) -> httpx.Response:
        attempts = 1 + (self.retries if idempotent else 0)
        for attempt in range(1, attempts + 1):
            try:
                response = self.client.request(method, path, params=params, json=json)
            except httpx.TransportError as exc:
                if attempt < attempts:
                    self._pause(attempt, f"{method} {path}: {exc!r}")
                    continue
                raise Unreachable(self.name, describe_transport_error(exc)) from exc
            if response.status_code in RETRY_STATUS and attempt < attempts:
                self._pause(attempt, f"{method} {path}: HTTP {response.status_code}")
                continue
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _pause(self, attempt: int, why: str) -> None:
        delay = self.backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random())  # noqa: S311 - jitter
        log.info("%s: retry %d after %s in %.2fs", self.name, attempt, why, delay)
        time.sleep(delay)

    def _decode(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status in (401, 403):
            raise Unauthorized(
                self.name,
                f"HTTP {status}: the server refused the credentials "
                "(missing, wrong or without permission)",
            )
        if status >= 400:
            message = _error_message(response)
            if status == 404:
                raise BackendNotFound(self.name, f"HTTP 404: {message}")
            if status == 409:
                raise Conflict(self.name, f"HTTP 409: {message}")
            raise BackendError(self.name, f"HTTP {status}: {message}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise BadResponse(self.name, "body", f"not JSON ({exc})") from exc


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason_phrase).strip()[:300]
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                code = body.get("error_code")
                return f"{code}: {body[key]}" if isinstance(code, str) else str(body[key])
    return str(body)[:300]
