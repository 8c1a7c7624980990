"""The HTTP sender of notifications: one POST of a prepared body to a channel's URL.

Only ever to the configured URL: redirects are not followed (a 3xx is a failure),
nothing is retried here (the notify service owns retries, with backoff, and the
delivery state). The URL is a secret (a Slack incoming-webhook URL grants posting):
it is never logged nor put in an error message — errors name the channel.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from app import __version__

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    #: HTTP status (None: no answer)
    status: int | None
    #: one line, never the URL
    detail: str


class HttpSender:
    """POSTs bodies with explicit timeouts; one client reused across sends."""

    def __init__(
        self, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            follow_redirects=False,
            transport=transport,
            headers={"User-Agent": f"modeldeck/{__version__}"},
        )

    def post(self, channel: str, url: str, body: bytes, headers: Mapping[str, str]) -> SendResult:
        try:
            reply = self._client.post(
                url, content=body, headers={"Content-Type": "application/json", **headers}
            )
        except httpx.TimeoutException as exc:
            return SendResult(False, None, f"{channel}: timed out ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            # the exception's text may carry the URL; only its type and errno-like cause go out
            cause = exc.__cause__ or exc.__context__
            why = type(cause).__name__ if cause is not None else type(exc).__name__
            return SendResult(False, None, f"{channel}: no answer ({type(exc).__name__}: {why})")
        if 200 <= reply.status_code < 300:
            return SendResult(True, reply.status_code, f"{channel}: HTTP {reply.status_code}")
        if 300 <= reply.status_code < 400:
            return SendResult(
                False,
                reply.status_code,
                f"{channel}: HTTP {reply.status_code} redirect not followed",
            )
        return SendResult(False, reply.status_code, f"{channel}: HTTP {reply.status_code}")

    def close(self) -> None:
        self._client.close()
