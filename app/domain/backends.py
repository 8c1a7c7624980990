"""Rules about configured backends that need no I/O: names, URLs, transport policy,
kind-specific options (declared per kind in ``app.domain.kinds``). The settings schema,
the CLI and the GUI dialogs all use these, so a rule is written once and says the same
thing everywhere.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from app.domain.kinds import spec
from app.domain.models import Backend, BackendKind

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")

#: keys that smell of a secret; refused anywhere but the keyring
SECRET_KEYS = frozenset({"token", "password", "secret", "api_key", "apikey", "bearer"})


def check_name(name: str) -> str | None:
    """``None`` when ``name`` can name a backend, else why not."""
    if not name:
        return "a name is required"
    if not NAME_PATTERN.match(name):
        return "use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, *, insecure_http: bool = False) -> str | None:
    """``None`` when ``url`` is a usable backend URL under the transport policy."""
    if not url:
        return "a URL is required"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "the URL must start with https:// (or http://)"
    if not parts.hostname:
        return "the URL has no host name"
    if parts.username or parts.password:
        return "do not put credentials in the URL; give a token instead (it goes to the keyring)"
    if parts.query or parts.fragment:
        return "the URL must not have a query or fragment"
    if port == 0:
        return "port 0 is not a valid port"
    if parts.scheme == "http" and not insecure_http and not is_loopback_host(parts.hostname):
        return (
            f"plain http:// to {parts.hostname} sends data and credentials unencrypted; "
            "use https://, or allow plain HTTP explicitly (--insecure-http)"
        )
    return None


def check_options(kind: BackendKind, options: dict[str, object]) -> str | None:
    kind_spec = spec(kind)
    allowed = kind_spec.options
    for key, value in options.items():
        if key.lower() in SECRET_KEYS:
            return f"option {key!r} looks like a secret; secrets go to the OS keyring only"
        prefixed = any(key.startswith(p) and len(key) > len(p) for p in kind_spec.option_prefixes)
        if key not in allowed and not prefixed:
            known = ", ".join(sorted(allowed)) or "none"
            return f"unknown option {key!r} for {kind} (known: {known})"
        if not isinstance(value, str):
            return f"option {key!r} must be text"
    return None


def transport_problem(backend: Backend) -> str | None:
    """Why Modeldeck must not connect to ``backend`` as configured, or ``None``."""
    return check_url(backend.url, insecure_http=backend.insecure_http)


def is_plain_http(url: str) -> bool:
    return url.lower().startswith("http://")
