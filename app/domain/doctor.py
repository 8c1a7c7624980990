"""The connection doctor's verdict: what happened when Modeldeck tried a backend,
why, and what to do next. Built by ``app.adapters.probe``; kept by
``app.services.doctor``; shown by the CLI and the Backends page.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class VerdictCode(enum.StrEnum):
    OK = "ok"
    DNS = "dns"  # the host name does not resolve
    REFUSED = "refused"  # nothing listens on that port
    TIMEOUT = "timeout"  # connect or read timed out
    TLS_UNTRUSTED = "tls-untrusted"  # certificate not signed by a trusted CA
    TLS_HOSTNAME = "tls-hostname"  # certificate is for another host name
    TLS = "tls"  # any other TLS failure (expired, protocol)
    UNREACHABLE = "unreachable"  # any other connection failure
    UNAUTHORIZED = "unauthorized"  # HTTP 401: missing or wrong credentials
    FORBIDDEN = "forbidden"  # HTTP 403: credentials without permission
    WRONG_KIND = "wrong-kind"  # something answers, but not the configured kind of server
    HTTP_ERROR = "http-error"  # any other HTTP error status
    BAD_CONFIG = "bad-config"  # refused before connecting (policy, missing CA file ...)
    NOT_PROBED = "not-probed"  # this kind cannot be probed (yet)


class Health(enum.StrEnum):
    """How a verdict is shown: colour, icon and word (never colour alone)."""

    HEALTHY = "healthy"
    FAILING = "failing"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verdict:
    backend: str
    kind: str
    url: str
    code: VerdictCode
    #: one line: what happened ("MLflow 3.17.2 answered", "connection refused")
    summary: str
    #: why, in words a user can check
    cause: str
    #: what to try next ("" when nothing is needed)
    next_step: str
    checked_at: datetime
    server_version: str | None = None
    #: for WRONG_KIND, what the server looks like instead, when we can tell
    detected_kind: str | None = None
    #: whether a credential was sent
    authenticated: bool = False

    @property
    def ok(self) -> bool:
        return self.code is VerdictCode.OK

    @property
    def health(self) -> Health:
        if self.code is VerdictCode.OK:
            return Health.HEALTHY
        if self.code is VerdictCode.NOT_PROBED:
            return Health.UNKNOWN
        return Health.FAILING

    def one_line(self) -> str:
        line = f"{self.backend}: {self.summary}"
        if self.next_step:
            line += f" — {self.next_step}"
        return line
