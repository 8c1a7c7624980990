"""Non-GUI half of ``modeldeck --self-test``: can this build reach its parts?

Checks only what a broken bundle or install would lose (a hidden import, a
data file, a keyring backend) and never contacts a server or reads a secret.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

from app.adapters import registry
from app.adapters.http import HttpBackend
from app.adapters.secrets import KeyringSecrets
from app.domain.models import Backend
from app.services.context import AppContext
from app.services.demo import generate


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def prepare_demo(context: AppContext, models: int = 300) -> Check:
    stats = generate(context.cache, models)
    ok = context.catalog.count() == stats.models
    return Check("cache", ok, f"{stats.models} models, schema {context.cache.schema_version}")


def check_adapters() -> Check:
    """Construct every supported kind's adapter for each of its roles, over a client to a
    dead port (no request is sent): a bundle that lost an adapter's import fails here."""
    built: list[str] = []
    for kind in registry.supported_kinds():
        backend = Backend(f"self-test-{kind}", kind, "http://127.0.0.1:9")
        for role in sorted(registry.adapters(kind).roles):
            http = HttpBackend(backend)
            try:
                adapter = registry.build(role, backend, http)
            except Exception as exc:  # noqa: BLE001 - any failure (a lost import) is the finding
                http.close()
                return Check("adapters", False, f"{kind} ({role}): {exc}")
            adapter.close()
        built.append(str(kind))
    return Check("adapters", True, ", ".join(built))


def check_keyring() -> Check:
    """The keyring library and, on Linux, its Secret Service backend are importable,
    and a backend resolves (which one depends on the session: no secret is read)."""
    if sys.platform.startswith("linux"):
        try:
            importlib.import_module("keyring.backends.SecretService")
        except ImportError as exc:
            return Check("keyring", False, f"Secret Service backend missing: {exc}")
    return Check("keyring", True, KeyringSecrets().describe())
