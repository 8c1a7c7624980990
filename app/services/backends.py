"""Configured backends and their secrets: the one API the rest of Modeldeck uses.

Configuration comes from the settings file (``SettingsFile``), secrets from the OS
keyring (``SecretStore``), read only when a connection is made. When no keyring
is usable the caller may choose to keep a secret in memory for this session
(``add(..., save_secret=False)``); it is never written anywhere.
"""

from __future__ import annotations

import builtins
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from app import APP_ID
from app.adapters import registry
from app.adapters.http import HttpBackend
from app.domain.backends import check_name, check_options, check_url, transport_problem
from app.domain.errors import ConfigError, CredentialError, KeyringUnavailable, NotConfigured
from app.domain.kinds import KindSpec, Role, demo_refusal, spec
from app.domain.models import Backend, BackendKind, Credential
from app.services.settings import SettingsFile, SettingsProblem

log = logging.getLogger(__name__)


class SecretStore(Protocol):
    def get(self, name: str) -> Credential | None: ...
    def set(self, name: str, credential: Credential) -> None: ...
    def delete(self, name: str) -> bool: ...


class SessionSecrets:
    """Secrets kept in memory for this session only (the demo workspace: nothing it
    does reads or writes the OS keyring)."""

    def __init__(self) -> None:
        self._items: dict[str, Credential] = {}

    def get(self, name: str) -> Credential | None:
        return self._items.get(name)

    def set(self, name: str, credential: Credential) -> None:
        self._items[name] = credential

    def delete(self, name: str) -> bool:
        return self._items.pop(name, None) is not None


@dataclass(frozen=True, slots=True)
class KindInfo:
    """A kind as the CLI and the GUI offer it: its spec and the roles Modeldeck supports."""

    spec: KindSpec
    #: roles an adapter exists for today (empty: the kind cannot be added)
    supported: frozenset[Role]

    @property
    def kind(self) -> BackendKind:
        return self.spec.kind

    @property
    def usable(self) -> bool:
        return bool(self.supported)

    @property
    def unsupported_reason(self) -> str | None:
        """Why a backend of this kind cannot be added, or ``None``."""
        return registry.unsupported(self.spec.kind)


def kinds() -> list[KindInfo]:
    """Every declared kind (label, icon, URL hint, options ...) with what is supported."""
    return [KindInfo(spec(k), registry.adapters(k).roles) for k in BackendKind]


def supported_kinds(role: Role | None = None) -> tuple[BackendKind, ...]:
    """The kinds that can be used in ``role`` (in some role when None): the CLI's
    ``--kind`` choices and the dialog's kind menu."""
    return registry.supported_kinds(role)


def validate(backend: Backend) -> None:
    """Raise ``ConfigError`` naming the first rule ``backend`` breaks."""
    problem = (
        check_name(backend.name)
        or check_url(backend.url, insecure_http=backend.insecure_http)
        or check_options(backend.kind, dict(backend.options))
    )
    if problem is None and backend.timeout_s <= 0:
        problem = "the timeout must be more than 0 seconds"
    if problem:
        raise ConfigError(f"backend {backend.name!r}: {problem}")


class BackendService:
    """List, add, remove and connect to configured backends. Thread-safe."""

    def __init__(self, settings: SettingsFile, secrets: SecretStore, *, demo: bool = False) -> None:
        self._settings = settings
        self._secrets = secrets
        #: the demo workspace: its simulated kinds may be added here (and only here)
        self.demo = demo
        self._lock = threading.RLock()
        self._session: dict[str, Credential] = {}
        self._backends: dict[str, Backend] = {}
        self._problems: tuple[SettingsProblem, ...] = ()
        self._loaded = False

    # ------------------------------------------------------------- reading
    def reload(self) -> None:
        with self._lock:
            loaded = self._settings.load()
            self._backends = {b.name: b for b in loaded.backends}
            self._problems = loaded.problems
            self._loaded = True

    def _ensure(self) -> None:
        if not self._loaded:
            self.reload()

    def list(self) -> list[Backend]:
        with self._lock:
            self._ensure()
            return sorted(self._backends.values(), key=lambda b: b.name.lower())

    @property
    def problems(self) -> tuple[SettingsProblem, ...]:
        """Entries of the settings file that were reported and skipped."""
        with self._lock:
            self._ensure()
            return self._problems

    @property
    def settings_path(self) -> str:
        return str(self._settings.path)

    def with_role(self, role: Role) -> builtins.list[Backend]:
        """Configured backends whose kind Modeldeck can use in ``role``."""
        return [b for b in self.list() if registry.supports(b.kind, role)]

    @staticmethod
    def kinds() -> builtins.list[KindInfo]:
        """Every declared kind with what is supported (``app.services.backends.kinds``)."""
        return kinds()

    @staticmethod
    def supported_kinds(role: Role | None = None) -> tuple[BackendKind, ...]:
        return supported_kinds(role)

    def get(self, name: str) -> Backend:
        with self._lock:
            self._ensure()
            try:
                return self._backends[name]
            except KeyError:
                known = ", ".join(sorted(self._backends)) or "none configured"
                raise NotConfigured(
                    f"no backend named {name!r} (known: {known}); "
                    "add one with: modeldeck backends add NAME --kind KIND --url URL"
                ) from None

    def credential(self, name: str) -> Credential | None:
        """The secret for ``name``: this session's, else the keyring's; ``None`` if none.

        Raises ``KeyringUnavailable`` / ``CredentialError`` when the keyring cannot be read.
        """
        self.get(name)
        with self._lock:
            if name in self._session:
                return self._session[name]
        return self._secrets.get(name)

    def is_session_only(self, name: str) -> bool:
        with self._lock:
            return name in self._session

    # ------------------------------------------------------------- writing
    def add(
        self,
        backend: Backend,
        credential: Credential | None = None,
        *,
        save_secret: bool = True,
        replace: bool = False,
    ) -> Backend:
        """Save ``backend`` and its secret. The secret goes to the keyring first, so
        when the keyring is unusable (``KeyringUnavailable``) nothing is written at all.

        ``save_secret=False`` keeps ``credential`` in memory for this session only.
        With ``replace=True`` and no credential, an existing secret is kept.
        A kind Modeldeck has no adapter for is refused (``ConfigError``).
        """
        validate(backend)
        unusable = registry.unsupported(backend.kind)
        if unusable:
            raise ConfigError(unusable)
        if spec(backend.kind).demo and not self.demo:
            raise ConfigError(demo_refusal(backend.kind))
        with self._lock:
            self._ensure()
            if backend.name in self._backends and not replace:
                raise ConfigError(
                    f"a backend named {backend.name!r} already exists; "
                    "remove it first or replace it"
                )
            stored = False
            if credential is not None and save_secret:
                self._secrets.set(backend.name, credential)
                stored = True
            try:
                self._settings.put_backend(backend, replace=replace)
            except BaseException:
                if stored:
                    self._secrets.delete(backend.name)
                raise
            if credential is not None:
                if save_secret:
                    self._session.pop(backend.name, None)
                else:
                    self._session[backend.name] = credential
            self.reload()
            log.info("backend %s (%s) saved", backend.name, backend.kind)
            return self.get(backend.name)

    def remember_for_session(self, name: str, credential: Credential) -> None:
        """Use ``credential`` for ``name`` until the app quits; never saved."""
        self.get(name)
        with self._lock:
            self._session[name] = credential

    def forget_secret(self, name: str) -> bool:
        """Delete ``name``'s secret from the keyring and this session."""
        with self._lock:
            had = self._session.pop(name, None) is not None
        return self._secrets.delete(name) or had

    def remove(self, name: str) -> str | None:
        """Remove ``name`` from the settings file and its secret from the keyring.

        Returns a warning when the keyring could not be reached to delete the
        secret (the entry is removed from the settings anyway).
        """
        self.get(name)
        warning = None
        with self._lock:
            try:
                self.forget_secret(name)
            except CredentialError as exc:
                warning = (
                    f"could not delete a saved secret: {exc}. If one was saved, it stays in "
                    f"the OS keyring under service {APP_ID!r}, entry {name!r}"
                )
                log.warning("remove %s: %s", name, warning)
            self._settings.remove_backend(name)
            self.reload()
            log.info("backend %s removed", name)
        return warning

    # ------------------------------------------------------------- connecting
    def connect_http(
        self, name: str, *, credential: Credential | None = None, retries: int = 3
    ) -> HttpBackend:
        """An ``HttpBackend`` for ``name`` with its secret (read now, from the keyring).

        The caller closes it. Refuses a configuration that breaks the transport
        policy (hand-edited plain http:// to a remote host).
        """
        backend = self.get(name)
        problem = transport_problem(backend)
        if problem:
            raise ConfigError(f"{name}: {problem}")
        cred = credential
        if cred is None:
            try:
                cred = self.credential(name)
            except KeyringUnavailable as exc:
                # No keyring, so no saved secret can be read: connect without one. A
                # backend that needs a secret answers 401, reported as unauthorized.
                log.warning("%s: connecting without a saved secret: %s", name, exc)
        return HttpBackend(backend, cred, retries=retries)
