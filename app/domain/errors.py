"""The one error tree of Modeldeck.

Everything below the UI raises only these; adapters translate library errors
(httpx, sqlite, keyring) with ``raise ... from exc`` so that nothing above the
adapters ever catches a third-party exception::

    ModeldeckError                 anything Modeldeck reports to the user
    ├── ConfigError                settings or arguments that cannot be used
    │   └── NotConfigured          a named backend/target that does not exist
    ├── CacheError                 the local SQLite cache cannot be used
    │   ├── CacheCorrupt           not a database / damaged (file set aside)
    │   └── CacheTooNew            written by a newer Modeldeck (file set aside)
    ├── NotFound                   a model, version, app ... that does not exist
    ├── CredentialError            the OS keyring cannot store or give a secret
    │   └── KeyringUnavailable     no usable keyring (none installed, locked, plaintext only)
    ├── InternalError              a bug inside Modeldeck (logged with its traceback)
    └── BackendError               a backend call failed; names the backend
        ├── Unreachable            DNS, refused, timeout, TLS: nothing usable came back
        ├── Unauthorized           HTTP 401/403: missing or wrong credentials
        ├── BackendNotFound        HTTP 404 for something that should exist
        ├── Conflict               the remote state changed under us; refused
        ├── BadQuery               the backend refused our query (e.g. PromQL); names it
        └── BadResponse            the reply does not fit; names the field

Each error's ``str()`` is one line a user can act on.
"""

from __future__ import annotations


class ModeldeckError(Exception):
    """Base of every error Modeldeck reports to a user."""


class ConfigError(ModeldeckError):
    """Settings or command-line input that cannot be used as given."""


class NotConfigured(ConfigError):
    """A backend, target or source name that is not configured."""


class CacheError(ModeldeckError):
    """The local catalog cache cannot be opened or written."""


class CacheCorrupt(CacheError):
    """The cache file was damaged or not a database; it was set aside."""


class CacheTooNew(CacheError):
    """The cache file was written by a newer Modeldeck; it was set aside."""


class NotFound(ModeldeckError):
    """A model, version or deployment that does not exist."""


class CredentialError(ModeldeckError):
    """The OS keyring cannot store or return a secret."""


class KeyringUnavailable(CredentialError):
    """No usable OS keyring: none installed, locked, or only a plaintext file one.

    Callers offer to use the secret for this session only; they never fall back
    to writing it anywhere else.
    """


class InternalError(ModeldeckError):
    """Something failed that Modeldeck did not expect: a bug, not the user's doing.

    The UI wraps any non-``ModeldeckError`` raised by background work in this, so a
    page always shows one readable line; the original is the ``__cause__``, and its
    traceback is in the log and the crash dialog.
    """


class BackendError(ModeldeckError):
    """A call to a configured backend failed.

    ``backend`` names the configured backend (or its URL when unnamed) so the
    message always says *where* something failed.
    """

    def __init__(self, backend: str, message: str) -> None:
        self.backend = backend
        self.detail = message
        super().__init__(f"{backend}: {message}")


class Unreachable(BackendError):
    """No usable answer: DNS failure, connection refused, timeout, TLS failure."""


class Unauthorized(BackendError):
    """The backend refused our credentials (HTTP 401/403)."""


class BackendNotFound(BackendError):
    """The backend answered 404 for something that should exist."""


class Conflict(BackendError):
    """The remote state changed between our read and our write; nothing was written."""


class BadQuery(BackendError):
    """The backend refused a query as invalid; ``query`` is the exact text sent."""

    def __init__(self, backend: str, query: str, message: str) -> None:
        self.query = query
        super().__init__(backend, f"the query was refused: {message} — query: {query}")


class BadResponse(BackendError):
    """The backend's reply does not fit what we expect; ``field`` names where."""

    def __init__(self, backend: str, field: str, message: str) -> None:
        self.field = field
        super().__init__(backend, f"bad response at {field!r}: {message}")
