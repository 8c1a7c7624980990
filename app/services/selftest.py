"""Non-GUI half of ``modeldeck --self-test``: can this build reach its parts?

Checks only what a broken bundle or install would lose (a hidden import, a
data file, a keyring backend) and never contacts a server or reads a secret.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

from app.adapters.http import HttpBackend
from app.adapters.secrets import KeyringSecrets
from app.domain.models import Backend, BackendKind
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
    """Construct one client per HTTP backend kind (no request is sent)."""
    kinds = [BackendKind.MLFLOW, BackendKind.RAY_SERVE, BackendKind.PROMETHEUS]
    for kind in kinds:
        HttpBackend(Backend(f"self-test-{kind}", kind, "http://127.0.0.1:9")).close()
    return Check("adapters", True, ", ".join(kinds))


def check_keyring() -> Check:
    """The keyring library and, on Linux, its Secret Service backend are importable,
    and a backend resolves (which one depends on the session: no secret is read)."""
    if sys.platform.startswith("linux"):
        try:
            importlib.import_module("keyring.backends.SecretService")
        except ImportError as exc:
            return Check("keyring", False, f"Secret Service backend missing: {exc}")
    return Check("keyring", True, KeyringSecrets().describe())
