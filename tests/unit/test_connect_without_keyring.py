"""Without a usable keyring, a backend is still reachable: with no secret, not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.errors import KeyringUnavailable
from app.domain.models import Backend, BackendKind, Credential
from app.services.backends import BackendService
from app.services.settings import SettingsFile


class _NoKeyring:
    """The failure every keyring call raises when no backend is usable (as keyring does)."""

    def get(self, name: str) -> Credential | None:
        raise KeyringUnavailable("no recommended backend was available")

    def set(self, name: str, credential: Credential) -> None:
        raise KeyringUnavailable("no recommended backend was available")

    def delete(self, name: str) -> bool:
        raise KeyringUnavailable("no recommended backend was available")


def test_connect_http_goes_on_without_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = BackendService(SettingsFile(tmp_path / "settings.toml"), _NoKeyring())
    service.add(Backend("ray", BackendKind.RAY_SERVE, "http://127.0.0.1:8265"))
    http = service.connect_http("ray")
    try:
        assert "authorization" not in {k.lower() for k in http.client.headers}
        assert "connecting without a saved secret" in caplog.text
    finally:
        http.close()
    with pytest.raises(KeyringUnavailable):
        service.credential("ray")  # asking for the secret itself still says why it can't
