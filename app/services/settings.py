"""The settings file: typed, versioned, human-editable TOML (``Workspace.settings_path``).

Read with tomlkit so a save keeps the user's comments and layout; each backend
entry is validated with pydantic on its own, so one broken entry is reported
(``SettingsProblem``) and skipped while the others load. Secrets never appear
here: a ``token``/``password`` key is refused with a pointer to the keyring.

Layout (schema 2)::

    schema_version = 2

    [backends.prod-mlflow]          # the table name is the backend's name
    kind = "mlflow"                 # mlflow | ray-serve | prometheus | kserve
    url = "https://mlflow.example.com"
    ca_bundle = "/etc/ssl/corp-ca.pem"   # optional
    verify_tls = true
    insecure_http = false           # plain http:// to a non-loopback host
    timeout_s = 10.0

    [backends.prod-ray.options]     # kind-specific (see app.domain.backends.KIND_OPTIONS)
    metrics_backend = "prod-prom"

    [sync]                          # optional; the GUI's background syncs
    on_start = true                 # sync the registries when the app opens
    interval_minutes = 15           # then every N minutes; 0 turns it off

Migrations: ``MIGRATIONS[n]`` turns a schema-``n`` document into schema ``n+1``
in place (on the tomlkit document, so comments survive). A file from a newer
Modeldeck is read-only: reported, never overwritten.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from tomlkit.items import Table

from app.domain.backends import SECRET_KEYS, check_name, check_options, check_url
from app.domain.errors import ConfigError
from app.domain.models import Backend, BackendKind

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

HEADER = """\
Modeldeck settings. Edit freely: comments and layout are kept when Modeldeck saves.
Secrets (tokens, passwords) are NOT stored here; they live in the OS keyring.
"""


@dataclass(frozen=True, slots=True)
class SettingsProblem:
    """Something in the settings file that could not be used; ``where`` names it."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class BackendEntry(BaseModel):
    """One ``[backends.NAME]`` table as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: BackendKind = Field(description="mlflow | ray-serve | prometheus | kserve")
    url: str = Field(description="base URL of the backend's API")
    ca_bundle: str | None = Field(None, description="PEM file of CA certificates to trust")
    verify_tls: bool = Field(True, description="verify the server's TLS certificate")
    insecure_http: bool = Field(False, description="allow plain http:// to a non-loopback host")
    timeout_s: float = Field(10.0, gt=0, le=600, description="per-request timeout in seconds")
    options: dict[str, str] = Field(default_factory=dict, description="kind-specific settings")

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if str(key).lower() in SECRET_KEYS:
                    raise ValueError(
                        f"{key!r} must not be in the settings file: secrets live in the OS "
                        "keyring (modeldeck backends add NAME ... --token-stdin)"
                    )
        return data

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _rules(self) -> BackendEntry:
        problem = check_url(self.url, insecure_http=self.insecure_http) or check_options(
            self.kind, dict(self.options)
        )
        if problem:
            raise ValueError(problem)
        return self

    def to_backend(self, name: str) -> Backend:
        return Backend(
            name=name,
            kind=self.kind,
            url=self.url,
            ca_bundle=self.ca_bundle,
            verify_tls=self.verify_tls,
            insecure_http=self.insecure_http,
            timeout_s=self.timeout_s,
            options=dict(self.options),
        )


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


# ------------------------------------------------------------------ migrations
def _migrate_1_to_2(doc: tomlkit.TOMLDocument) -> None:
    """Schema 1 (the first draft) kept ``[[backends]]`` as an array with a ``name`` key,
    ``verify_ssl`` and ``timeout`` (seconds). Schema 2 keys the tables by name."""
    old = doc.get("backends")
    if not isinstance(old, list):
        return  # already table-shaped (hand-written without a version): nothing to do
    new = tomlkit.table(is_super_table=True)
    for i, item in enumerate(old):
        entry = dict(item) if isinstance(item, dict) else {}
        name = str(entry.pop("name", f"backend-{i + 1}"))
        table = tomlkit.table()
        if isinstance(item, Table):
            comment = item.trivia.comment if hasattr(item, "trivia") else ""
            if comment:
                table.comment(comment.lstrip("# "))
        renames = {"verify_ssl": "verify_tls", "timeout": "timeout_s"}
        for key, value in entry.items():
            table[renames.get(key, key)] = value
        new[name] = table
    del doc["backends"]
    doc["backends"] = new


MIGRATIONS: dict[int, Callable[[tomlkit.TOMLDocument], None]] = {1: _migrate_1_to_2}


def migrate(doc: tomlkit.TOMLDocument) -> int:
    """Bring ``doc`` to ``SCHEMA_VERSION`` in place; returns the version it had."""
    raw = doc.get("schema_version", 1)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw < 1:
        raise ConfigError(f"schema_version must be a whole number ≥ 1, not {raw!r}")
    version = int(raw)
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"written by a newer Modeldeck (schema_version {version}, this one knows "
            f"{SCHEMA_VERSION}); it is read-only here — upgrade Modeldeck"
        )
    start = version
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](doc)
        version += 1
        log.info("settings migrated from schema %d to %d", version - 1, version)
    if "schema_version" in doc:
        doc["schema_version"] = SCHEMA_VERSION
    else:
        doc.body.insert(0, ("schema_version", tomlkit.item(SCHEMA_VERSION)))  # type: ignore[arg-type]
    return start


# ------------------------------------------------------------------ the file
class SyncSettings(BaseModel):
    """The ``[sync]`` table: when the GUI syncs registries in the background."""

    model_config = ConfigDict(extra="forbid")
    on_start: bool = True
    interval_minutes: int = Field(default=15, ge=0, le=24 * 60)


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    backends: tuple[Backend, ...]
    problems: tuple[SettingsProblem, ...]
    #: schema_version found in the file before migration (None: no file yet)
    found_version: int | None = None


class SettingsFile:
    """Reads and edits the settings file; every edit is a whole-file atomic replace."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> tuple[tomlkit.TOMLDocument, int | None]:
        if not self.path.exists():
            doc = tomlkit.document()
            for line in HEADER.splitlines():
                doc.add(tomlkit.comment(line))
            doc.add("schema_version", tomlkit.item(SCHEMA_VERSION))
            return doc, None
        text = self.path.read_text(encoding="utf-8")
        try:
            doc = tomlkit.parse(text)
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"{self.path}: not valid TOML ({exc}); fix or move it") from exc
        try:
            found = migrate(doc)
        except ConfigError as exc:
            raise ConfigError(f"{self.path}: {exc}") from exc
        return doc, found

    def load(self) -> LoadedSettings:
        try:
            doc, found = self._read()
        except ConfigError as exc:
            log.warning("settings not loaded: %s", exc)
            return LoadedSettings(
                (), (SettingsProblem(str(self.path), str(exc).split(": ", 1)[-1]),)
            )
        backends: list[Backend] = []
        problems: list[SettingsProblem] = []
        table = doc.get("backends", {})
        if not isinstance(table, dict):
            problems.append(SettingsProblem("backends", "must be a table of [backends.NAME]"))
            table = {}
        for name, raw in table.items():
            where = f"backends.{name}"
            bad_name = check_name(str(name))
            if bad_name:
                problems.append(SettingsProblem(where, f"bad name: {bad_name}"))
                continue
            if not isinstance(raw, dict):
                problems.append(SettingsProblem(where, "must be a table"))
                continue
            try:
                entry = BackendEntry.model_validate(_plain(raw))
            except ValidationError as exc:
                problems.append(SettingsProblem(where, _describe(exc)))
                continue
            backends.append(entry.to_backend(str(name)))
        for p in problems:
            log.warning("settings: %s skipped: %s", p.where, p.message)
        return LoadedSettings(tuple(backends), tuple(problems), found)

    def sync_settings(self) -> SyncSettings:
        """The ``[sync]`` table, or the defaults when it is missing or broken (logged)."""
        try:
            doc, _ = self._read()
            return SyncSettings.model_validate(_plain(doc.get("sync", {})))
        except (ConfigError, ValidationError, TypeError) as exc:
            log.warning("settings: [sync] ignored, defaults used: %s", exc)
            return SyncSettings()

    def put_backend(self, backend: Backend, *, replace: bool = False) -> None:
        doc, _ = self._read()
        table = doc.get("backends")
        if table is None:
            table = tomlkit.table(is_super_table=True)
            doc["backends"] = table
        if backend.name in table and not replace:
            raise ConfigError(f"a backend named {backend.name!r} already exists")
        entry = _entry_table(backend)
        if backend.name in table:
            old = table[backend.name]
            # keep the user's comments on the existing table's lines where the key survives
            if isinstance(old, Table):
                for key in list(old.keys()):
                    if key not in entry:
                        del old[key]
                for key, value in entry.items():
                    old[key] = value
                self._write(doc)
                return
        table[backend.name] = entry
        self._write(doc)

    def remove_backend(self, name: str) -> bool:
        doc, _ = self._read()
        table = doc.get("backends")
        if not isinstance(table, dict) or name not in table:
            return False
        del table[name]
        self._write(doc)
        return True

    def _write(self, doc: tomlkit.TOMLDocument) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".toml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(tomlkit.dumps(doc))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _entry_table(backend: Backend) -> Table:
    t = tomlkit.table()
    t["kind"] = str(backend.kind)
    t["url"] = backend.url
    if backend.ca_bundle:
        t["ca_bundle"] = backend.ca_bundle
    t["verify_tls"] = backend.verify_tls
    if backend.insecure_http:
        t["insecure_http"] = True
    t["timeout_s"] = float(backend.timeout_s)
    if backend.options:
        opts = tomlkit.table()
        for key, value in backend.options.items():
            opts[key] = str(value)
        t["options"] = opts
    return t


def _plain(value: Any) -> Any:
    """tomlkit items → plain Python values for pydantic."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if callable(unwrap) else value
