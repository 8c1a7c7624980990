"""Credentials never follow a redirect to another origin.

httpx drops ``Authorization`` when a redirect leaves the origin (scheme, host,
port). This proves it with real servers: a redirecting server on 127.0.0.1 sends
us to a recording server reached as ``localhost`` on another port."""

from __future__ import annotations

import pytest

from app.adapters.http import HttpBackend
from app.domain.models import Backend, BackendKind, Credential
from tests.integration.servers import HeaderRecorder, Redirector

pytestmark = pytest.mark.integration

TOKEN = "redirect-secret-5f2e"


def test_authorization_is_sent_to_the_origin():
    """Control: the recorder does see our token when we talk to it directly."""
    with HeaderRecorder() as rec:
        http = HttpBackend(Backend("direct", BackendKind.MLFLOW, rec.url), Credential(token=TOKEN))
        try:
            assert http.get_json("/x") == {"ok": True, "path": "/x"}
        finally:
            http.close()
    assert rec.seen[0]["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "credential", [Credential(token=TOKEN), Credential(username="ana", password=TOKEN)]
)
def test_cross_origin_redirect_drops_credentials(credential):
    with HeaderRecorder() as rec, Redirector(f"http://localhost:{rec.port}") as redirector:
        http = HttpBackend(Backend("hop", BackendKind.MLFLOW, redirector.url), credential)
        try:
            body = http.get_json("/api/2.0/mlflow/registered-models/search")
        finally:
            http.close()
    assert body == {"ok": True, "path": "/api/2.0/mlflow/registered-models/search"}
    assert len(rec.seen) == 1
    headers = rec.seen[0]
    assert headers["host"] == f"localhost:{rec.port}"
    assert "authorization" not in headers
    assert TOKEN not in repr(headers)
