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

    [backends.prod-ray.options]     # kind-specific (see KindSpec.options, app.domain.kinds)
    metrics_backend = "prod-prom"

    [sync]                          # optional; the GUI's background syncs
    on_start = true                 # sync the registries when the app opens
    interval_minutes = 15           # then every N minutes; 0 turns it off

    [health]                        # optional; see app.services.health for the queries
    poll_seconds = 60               # 0 turns polling off
    [health.thresholds.latency_p95] # degraded / failing / direction / for
    [health.signals.drift]          # an extra signal: title, promql, unit + bounds
    [health.models."fraud-model"]   # per model: promql / thresholds / signals

    [notify]                        # optional; alerts (app.services.notify)
    hold_seconds = 120              # a status must hold this long before it is announced
    repeat_seconds = 3600           # the same status of a deployment at most once per this
    [notify.channels.team-slack]    # one table per channel; its URL is in the OS keyring
    kind = "slack"                  # slack | webhook
    events = ["health.failing", "health.recovered", "deploys"]
    min_status = "degraded"         # degraded | failing

Every table is one pydantic schema here (``BackendEntry``, ``SyncSettings``,
``HealthTable``), read from the one migrated document. A problem is one line naming
the file, the key and what is wrong: a broken backend entry is skipped, a broken
``[sync]`` falls back to its defaults, a broken ``[health]`` is an error where it is
used (``SettingsFile.health``).

Migrations: ``MIGRATIONS[n]`` turns a schema-``n`` document into schema ``n+1``
in place (on the tomlkit document, so comments survive). A file from a newer
Modeldeck is read-only: reported, never overwritten.
"""

from __future__ import annotations

import logging
import os
import tempfile
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import tomlkit
import tomlkit.exceptions
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)
from tomlkit.items import Table

from app.domain.backends import SECRET_KEYS, check_name, check_options, check_url
from app.domain.errors import ConfigError
from app.domain.health import HealthStatus, SignalSpec, Threshold, Unit
from app.domain.models import Backend, BackendKind
from app.domain.notify import DEFAULT_EVENTS, Channel, ChannelKind, parse_events

log = logging.getLogger(__name__)

_M = TypeVar("_M", bound=BaseModel)

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


def _describe(exc: ValidationError, prefix: str = "") -> str:
    """A pydantic error as one line: ``key.path: problem; other.key: problem``."""
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "is required"
        else:
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
        # above the first key or table, below the file's opening comments. tomlkit 0.13
        # has no public insert, and editing ``doc.body`` directly leaves its key index
        # stale (``doc.get("health")`` then answered another item)
        first = next((i for i, (key, _) in enumerate(doc.body) if key is not None), 0)
        doc._insert_at(first, "schema_version", SCHEMA_VERSION)
    return start


# ------------------------------------------------------------------ [sync]
class SyncSettings(BaseModel):
    """The ``[sync]`` table: when the GUI syncs registries in the background."""

    model_config = ConfigDict(extra="forbid")
    on_start: bool = True
    interval_minutes: int = Field(default=15, ge=0, le=24 * 60)


# ------------------------------------------------------------------ [notify]
class NotifyChannelEntry(BaseModel):
    """``[notify.channels.NAME]``: what a channel is sent (its URL is in the keyring)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["slack", "webhook"]
    events: list[str] = Field(default_factory=lambda: list(DEFAULT_EVENTS))
    min_status: Literal["degraded", "failing"] = "degraded"

    @model_validator(mode="before")
    @classmethod
    def _no_secrets(cls, data: Any) -> Any:
        if isinstance(data, dict) and ({"url", *SECRET_KEYS} & set(data)):
            raise ValueError(
                "a channel's URL and secret are not kept in the settings file; they live "
                "in the OS keyring (modeldeck notify add NAME --url-stdin)"
            )
        return data

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str]) -> list[str]:
        parse_events(value)
        return value

    def to_channel(self, name: str) -> Channel:
        return Channel(
            name,
            ChannelKind(self.kind),
            parse_events(self.events),
            HealthStatus(self.min_status),
        )


class NotifySettings(BaseModel):
    """The ``[notify]`` table."""

    model_config = ConfigDict(extra="forbid")
    hold_seconds: float = Field(default=120, ge=0, le=24 * 3600)
    repeat_seconds: float = Field(default=3600, ge=0, le=7 * 24 * 3600)
    #: attempts per delivery in one round, with exponential backoff between them
    attempts: int = Field(default=3, ge=1, le=10)
    backoff_seconds: float = Field(default=1.0, ge=0, le=300)
    #: a delivery that failed this many attempts in all is given up (and logged)
    max_attempts: int = Field(default=12, ge=1, le=1000)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    channels: dict[str, NotifyChannelEntry] = Field(default_factory=dict)

    def channel_list(self) -> list[Channel]:
        return [entry.to_channel(name) for name, entry in sorted(self.channels.items())]


# ------------------------------------------------------------------ [health]
def _threshold_table(table: dict[str, Any]) -> dict[str, Any]:
    Threshold("signal").merged(table)  # validate now, not at the first poll
    return table


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError("must be non-empty text")
    return text


ThresholdTable = Annotated[dict[str, Any], AfterValidator(_threshold_table)]
PromQL = Annotated[str, Field(strict=True), AfterValidator(_non_empty)]


class SignalTable(BaseModel):
    """``[health.signals.KEY]``: an extra signal; keys besides these are its threshold
    (``degraded``, ``failing``, ``direction``, ``for`` ...)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    title: str | None = None
    promql: PromQL
    unit: Unit = Unit.NONE

    @model_validator(mode="after")
    def _bounds(self) -> SignalTable:
        Threshold("signal").merged(self.bounds)
        return self

    @property
    def bounds(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def to_spec(self, key: str) -> tuple[SignalSpec, Threshold | None]:
        spec = SignalSpec(key, self.title or key, self.unit, self.promql)
        bounds = self.bounds
        return spec, (Threshold(key).merged(bounds) if bounds else None)


class ModelHealthTable(BaseModel):
    """``[health.models.NAME]``: one model's queries, thresholds and extra signals."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    promql: dict[str, PromQL] = Field(default_factory=dict)
    thresholds: dict[str, ThresholdTable] = Field(default_factory=dict)
    signals: dict[str, SignalTable] = Field(default_factory=dict)


class HealthTable(BaseModel):
    """The ``[health]`` table as written in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    poll_seconds: StrictInt = Field(60, ge=0, description="seconds between polls; 0: off")
    thresholds: dict[str, ThresholdTable] = Field(default_factory=dict)
    signals: dict[str, SignalTable] = Field(default_factory=dict)
    models: dict[str, ModelHealthTable] = Field(default_factory=dict)

    def to_settings(self) -> HealthSettings:
        return HealthSettings(
            poll_seconds=self.poll_seconds,
            thresholds=self.thresholds,
            signals=tuple(t.to_spec(k) for k, t in self.signals.items()),
            models={
                name: ModelHealthSettings(
                    promql=dict(m.promql),
                    thresholds=dict(m.thresholds),
                    signals=tuple(t.to_spec(k) for k, t in m.signals.items()),
                )
                for name, m in self.models.items()
            },
        )


@dataclass(frozen=True)
class ModelHealthSettings:
    promql: Mapping[str, str] = field(default_factory=dict)
    thresholds: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    signals: tuple[tuple[SignalSpec, Threshold | None], ...] = ()


@dataclass(frozen=True)
class HealthSettings:
    """The ``[health]`` table, ready for the health service."""

    poll_seconds: int = 60
    thresholds: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    signals: tuple[tuple[SignalSpec, Threshold | None], ...] = ()
    models: Mapping[str, ModelHealthSettings] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> HealthSettings:
        """``[health]`` of the settings file at ``path`` (``SettingsFile.health``)."""
        return SettingsFile(path).health()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> HealthSettings:
        """A ``[health]`` table already read (``ValueError`` naming the key)."""
        try:
            return HealthTable.model_validate(raw).to_settings()
        except ValidationError as exc:
            raise ValueError(_describe(exc)) from exc


# ------------------------------------------------------------------ the file


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
        if self.path.is_dir():
            raise ConfigError(f"{self.path}: is a directory, not a settings file; move it away")
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read it ({exc.strerror or exc})") from exc
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            lineno = data[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"{self.path}: not UTF-8 text (line {lineno}, byte {exc.start}); save it as UTF-8"
            ) from exc
        # tomlkit keeps the layout but lets a few invalid files through (some re-opened
        # tables); the standard library's strict parser has the last word, and says where
        strict: tomllib.TOMLDecodeError | None = None
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            strict = exc
        try:
            doc = tomlkit.parse(text)
        except tomlkit.exceptions.TOMLKitError as exc:
            why = " ".join(str(exc).split())
            if strict is not None and " line " not in why:
                why = f"{why.rstrip('.')}; {strict}"
            raise ConfigError(f"{self.path}: not valid TOML ({why}); fix or move it") from exc
        if strict is not None:
            raise ConfigError(f"{self.path}: not valid TOML ({strict}); fix or move it")
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
            problems.append(
                SettingsProblem(
                    "backends", f"must be a table of [backends.NAME], not {_plain(table)!r}"
                )
            )
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

    def _table(self, key: str, schema: type[_M]) -> _M:
        """Table ``key`` of the file validated by ``schema`` (its defaults when absent).

        Raises ``ConfigError``: one line naming the file, the key and the problem."""
        doc, _ = self._read()
        raw = _plain(doc.get(key, {}))
        if not isinstance(raw, dict):
            raise ConfigError(f"{self.path}: {key}: must be a table ([{key}]), not {raw!r}")
        try:
            return schema.model_validate(raw)
        except ValidationError as exc:
            raise ConfigError(f"{self.path}: {_describe(exc, key)}") from None

    def sync_settings(self) -> SyncSettings:
        """The ``[sync]`` table, or the defaults when it is missing or broken (logged)."""
        try:
            return self._table("sync", SyncSettings)
        except ConfigError as exc:
            log.warning("settings: [sync] ignored, defaults used: %s", exc)
            return SyncSettings()

    def health(self) -> HealthSettings:
        """The ``[health]`` table; defaults when there is none (or no file yet).

        A broken table raises ``ConfigError`` naming the file and the key."""
        return self._table("health", HealthTable).to_settings()

    def notify(self) -> NotifySettings:
        """The ``[notify]`` table; defaults when there is none. A broken table raises
        ``ConfigError`` naming the file and the key."""
        return self._table("notify", NotifySettings)

    def put_channel(self, channel: Channel, *, replace: bool = False) -> None:
        doc, _ = self._read()
        notify = doc.get("notify")
        if notify is None:
            notify = tomlkit.table(is_super_table=True)
            doc["notify"] = notify
        if not isinstance(notify, dict):
            raise ConfigError(f"{self.path}: notify: must be a table ([notify])")
        table = notify.get("channels")
        if table is None:
            table = tomlkit.table(is_super_table=True)
            notify["channels"] = table
        if not isinstance(table, dict):
            raise ConfigError(f"{self.path}: notify.channels: must be a table of channels")
        if channel.name in table and not replace:
            raise ConfigError(f"a channel named {channel.name!r} already exists")
        entry = tomlkit.table()
        data = channel.to_json()
        entry["kind"] = data["kind"]
        entry["events"] = data["events"]
        entry["min_status"] = data["min_status"]
        table[channel.name] = entry
        self._write(doc)

    def remove_channel(self, name: str) -> bool:
        doc, _ = self._read()
        notify = doc.get("notify")
        table = notify.get("channels") if isinstance(notify, dict) else None
        if not isinstance(table, dict) or name not in table:
            return False
        del table[name]
        self._write(doc)
        return True

    def put_backend(self, backend: Backend, *, replace: bool = False) -> None:
        doc, _ = self._read()
        table = doc.get("backends")
        if table is None:
            table = tomlkit.table(is_super_table=True)
            doc["backends"] = table
        if not isinstance(table, dict):
            raise ConfigError(
                f"{self.path}: backends: must be a table of [backends.NAME], not "
                f"{_plain(table)!r}; fix it before adding a backend"
            )
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
