"""Secrets in the OS keyring (``keyring``): one entry per backend under the service
name ``app.APP_ID``, the backend's name as the entry's user name, the value a small
JSON object (``{"token": ...}`` or ``{"username": ..., "password": ...}``).

The keyring is opened lazily, at the first read or write, so start-up never
touches it. A plaintext keyring (``keyrings.alt``) is refused like a missing
one: the caller may keep the secret in memory for the session, nothing else.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import keyring
import keyring.backend
import keyring.errors

from app import APP_ID
from app.domain.errors import CredentialError, KeyringUnavailable
from app.domain.models import Credential

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    keyring.errors.NoKeyringError,
    keyring.errors.InitError,
    keyring.errors.KeyringLocked,
)


class KeyringSecrets:
    """Reads, writes and deletes backend secrets in the OS keyring."""

    def __init__(
        self, service: str = APP_ID, backend: keyring.backend.KeyringBackend | None = None
    ) -> None:
        self.service = service
        self._backend = backend

    def _keyring(self) -> keyring.backend.KeyringBackend:
        kr = self._backend or keyring.get_keyring()
        for part in [kr, *getattr(kr, "backends", [])]:
            module = type(part).__module__
            if module.startswith("keyrings.alt") or "plaintext" in type(part).__name__.lower():
                raise KeyringUnavailable(
                    f"the only keyring found ({module}.{type(part).__name__}) keeps secrets "
                    "in a plain file; Modeldeck refuses to use it"
                )
        return kr

    def describe(self) -> str:
        """Which keyring is in use, for messages (never raises)."""
        try:
            kr = self._keyring()
        except KeyringUnavailable as exc:
            return str(exc)
        return f"{type(kr).__module__}.{type(kr).__name__}"

    def get(self, name: str) -> Credential | None:
        raw = self._call("read", lambda kr: kr.get_password(self.service, name))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            # an entry made by hand (e.g. with secret-tool): take it as a bare token
            return Credential(token=raw)
        if not isinstance(data, dict):
            return Credential(token=raw)
        token, user, password = data.get("token"), data.get("username"), data.get("password")
        return Credential(
            token=token if isinstance(token, str) else None,
            username=user if isinstance(user, str) else None,
            password=password if isinstance(password, str) else None,
        )

    def set(self, name: str, credential: Credential) -> None:
        data: dict[str, str] = {}
        if credential.token:
            data["token"] = credential.token
        if credential.username is not None:
            data["username"] = credential.username
        if credential.password is not None:
            data["password"] = credential.password
        value = json.dumps(data)
        self._call("save", lambda kr: kr.set_password(self.service, name, value))
        log.info("saved the secret for backend %s in the OS keyring", name)

    def delete(self, name: str) -> bool:
        """Remove the entry; False when there was none."""

        def _delete(kr: keyring.backend.KeyringBackend) -> bool:
            try:
                kr.delete_password(self.service, name)
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        gone: bool = self._call("delete", _delete)
        if gone:
            log.info("deleted the secret for backend %s from the OS keyring", name)
        return gone

    def _call(self, what: str, fn: Any) -> Any:
        kr = self._keyring()
        try:
            return fn(kr)
        except _UNAVAILABLE as exc:
            raise KeyringUnavailable(_unavailable_reason(exc)) from exc
        except keyring.errors.KeyringError as exc:
            raise CredentialError(f"the OS keyring could not {what} the secret: {exc}") from exc
        except Exception as exc:
            # backend libraries (secretstorage, jeepney, dbus) raise their own types;
            # the message never contains the secret, only the failure
            raise CredentialError(
                f"the OS keyring could not {what} the secret ({type(exc).__name__}: {exc})"
            ) from exc


def _unavailable_reason(exc: BaseException) -> str:
    if isinstance(exc, keyring.errors.KeyringLocked):
        return f"the OS keyring is locked ({exc}); unlock it and try again"
    if isinstance(exc, keyring.errors.NoKeyringError):
        return "no OS keyring is available (no Secret Service / KWallet / macOS Keychain found)"
    return f"the OS keyring cannot be opened ({exc})"
