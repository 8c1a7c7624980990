"""The settings file: broken entries are reported and skipped, old schemas migrate,
and a save keeps the user's comments."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.errors import ConfigError
from app.domain.models import Backend, BackendKind
from app.services.settings import SCHEMA_VERSION, SettingsFile

GOOD = """
[backends.prod-mlflow]  # the main registry
kind = "mlflow"
url = "https://mlflow.example.com"
timeout_s = 20.0
"""


def write(tmp_path: Path, text: str) -> SettingsFile:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return SettingsFile(path)


def test_broken_entries_are_reported_and_skipped(tmp_path: Path) -> None:
    s = write(
        tmp_path,
        "schema_version = 2\n"
        + GOOD
        + """
[backends.typo]
kind = "mlfow"
url = "https://x.example.com"

[backends.plain]
kind = "prometheus"
url = "http://prom.example.com:9090"

[backends.leaky]
kind = "mlflow"
url = "https://y.example.com"
token = "do-not-put-me-here"

[backends.extra]
kind = "mlflow"
url = "https://z.example.com"
verfy_tls = false
""",
    )
    loaded = s.load()
    assert [b.name for b in loaded.backends] == ["prod-mlflow"]
    assert loaded.backends[0].timeout_s == 20.0
    problems = {p.where: p.message for p in loaded.problems}
    assert set(problems) == {"backends.typo", "backends.plain", "backends.leaky", "backends.extra"}
    assert "mlflow" in problems["backends.typo"]
    assert "--insecure-http" in problems["backends.plain"]
    assert "keyring" in problems["backends.leaky"]
    assert "do-not-put-me-here" not in problems["backends.leaky"]
    assert "verfy_tls" in problems["backends.extra"]


def test_invalid_toml_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    s = write(tmp_path, "schema_version = 2\n[backends.a\n")
    loaded = s.load()
    assert loaded.backends == ()
    assert "not valid TOML" in loaded.problems[0].message
    with pytest.raises(ConfigError, match="not valid TOML"):
        s.put_backend(Backend("b", BackendKind.MLFLOW, "https://b.example.com"))
    assert s.path.read_text() == "schema_version = 2\n[backends.a\n"


def test_newer_schema_is_read_only(tmp_path: Path) -> None:
    s = write(tmp_path, f"schema_version = {SCHEMA_VERSION + 1}\n" + GOOD)
    loaded = s.load()
    assert loaded.backends == ()
    assert "newer Modeldeck" in loaded.problems[0].message


def test_migrates_schema_1_and_keeps_comments(tmp_path: Path) -> None:
    s = write(
        tmp_path,
        """# my hand-written notes
schema_version = 1

[[backends]]
name = "old-registry"
kind = "mlflow"
url = "https://mlflow.example.com"
verify_ssl = false
timeout = 5
""",
    )
    loaded = s.load()
    assert loaded.found_version == 1
    assert loaded.problems == ()
    (b,) = loaded.backends
    assert (b.name, b.verify_tls, b.timeout_s) == ("old-registry", False, 5.0)
    # the file is rewritten in the new layout on the next save, comments kept
    s.put_backend(Backend("new", BackendKind.PROMETHEUS, "https://prom.example.com"))
    text = s.path.read_text()
    assert "# my hand-written notes" in text
    assert f"schema_version = {SCHEMA_VERSION}" in text
    assert "[backends.old-registry]" in text
    assert "verify_tls = false" in text
    assert [x.name for x in s.load().backends] == ["old-registry", "new"]


def test_round_trip_keeps_user_comments(tmp_path: Path) -> None:
    s = write(
        tmp_path,
        "# top comment\nschema_version = 2\n"
        + GOOD
        + """
# a note about staging
[backends.staging]
kind = "mlflow"
url = "https://staging.example.com"  # behind the VPN
""",
    )
    s.put_backend(Backend("prom", BackendKind.PROMETHEUS, "https://prom.example.com"))
    s.put_backend(
        Backend("staging", BackendKind.MLFLOW, "https://staging2.example.com", timeout_s=3),
        replace=True,
    )
    s.remove_backend("prom")
    text = s.path.read_text()
    for kept in ("# top comment", "# the main registry", "# a note about staging"):
        assert kept in text
    assert "[backends.prom]" not in text
    names = {b.name: b for b in s.load().backends}
    assert names["staging"].url == "https://staging2.example.com"
    assert names["staging"].timeout_s == 3


def test_new_file_has_header_and_no_secrets(tmp_path: Path) -> None:
    s = SettingsFile(tmp_path / "cfg" / "settings.toml")
    s.put_backend(
        Backend(
            "a", BackendKind.RAY_SERVE, "http://127.0.0.1:8265", options={"metrics_backend": "prom"}
        )
    )
    text = s.path.read_text()
    assert text.startswith("# Modeldeck settings.")
    assert "[backends.a.options]" in text or "[backends.a]" in text
    (b,) = s.load().backends
    assert b.options == {"metrics_backend": "prom"}


# ------------------------------------------------------------------ unreadable files
BROKEN_FILES = {
    "duplicate key": (
        b'schema_version = 2\n[backends.a]\nkind = "mlflow"\nkind = "mlflow"\n',
        'not valid TOML (Key "kind" already exists; Cannot overwrite a value (at line 4',
    ),
    "duplicate table": (
        b'[backends.a]\nkind = "mlflow"\n[backends.a]\nurl = "https://a.example.com"\n',
        'not valid TOML (Key "a" already exists',
    ),
    "invalid UTF-8": (b"schema_version = 2\n# caf\xe9\n", "not UTF-8 text (line 2"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_an_unreadable_file_is_one_clear_line(tmp_path: Path, case: str) -> None:
    data, expected = BROKEN_FILES[case]
    path = tmp_path / "settings.toml"
    path.write_bytes(data)
    s = SettingsFile(path)
    (problem,) = s.load().problems
    assert problem.where == str(path)
    assert expected in problem.message
    assert "\n" not in str(problem)
    for use in (s.health, lambda: s.put_backend(Backend("b", BackendKind.MLFLOW, "https://b.x"))):
        with pytest.raises(ConfigError) as exc:
            use()
        assert str(exc.value).startswith(f"{path}: ")
        assert expected in str(exc.value)
        assert "\n" not in str(exc.value)
    assert path.read_bytes() == data  # never overwritten


def test_a_directory_in_place_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.mkdir()
    s = SettingsFile(path)
    (problem,) = s.load().problems
    assert "is a directory" in problem.message
    with pytest.raises(ConfigError, match="is a directory"):
        s.health()
    assert s.sync_settings() == s.sync_settings().__class__()  # defaults


def test_backends_that_is_not_a_table(tmp_path: Path) -> None:
    s = write(tmp_path, "schema_version = 2\nbackends = 3\n")
    loaded = s.load()
    assert loaded.backends == ()
    assert [str(p) for p in loaded.problems] == [
        "backends: must be a table of [backends.NAME], not 3"
    ]
    with pytest.raises(ConfigError, match=r"backends: must be a table of \[backends.NAME\], not 3"):
        s.put_backend(Backend("b", BackendKind.MLFLOW, "https://b.example.com"))
    assert s.path.read_text() == "schema_version = 2\nbackends = 3\n"


def test_a_file_without_schema_version_reads_every_table(tmp_path: Path) -> None:
    # the version is inserted on reading; every table must still be found by its key
    s = write(tmp_path, "# notes\n[health]\npoll_seconds = 30\n" + GOOD)
    assert s.health().poll_seconds == 30
    assert [b.name for b in s.load().backends] == ["prod-mlflow"]
    s.put_backend(Backend("prom", BackendKind.PROMETHEUS, "https://prom.example.com"))
    text = s.path.read_text()
    assert text.startswith("# notes\nschema_version = 2\n")
    assert s.health().poll_seconds == 30


# ------------------------------------------------------------------ [health]
HEALTH = """schema_version = 2
[health]
poll_seconds = 30
[health.thresholds.latency_p95]
degraded = 250
for = "10m"
[health.signals.drift]
title = "Drift score"
promql = 'max(drift_score{model="m"})'
degraded = 0.2
[health.models."fraud-model".promql]
rps = 'sum(rate(x[1m]))'
[health.models."fraud-model".thresholds.error_rate]
failing = 0.1
"""


def test_health_table_loads_with_its_key_names(tmp_path: Path) -> None:
    h = write(tmp_path, HEALTH).health()
    assert h.poll_seconds == 30
    assert h.thresholds == {"latency_p95": {"degraded": 250, "for": "10m"}}
    ((spec, threshold),) = h.signals
    assert (spec.key, spec.title) == ("drift", "Drift score")
    assert threshold is not None
    assert threshold.degraded == 0.2
    model = h.models["fraud-model"]
    assert model.promql == {"rps": "sum(rate(x[1m]))"}
    assert model.thresholds == {"error_rate": {"failing": 0.1}}


def test_health_defaults_without_a_file_or_table(tmp_path: Path) -> None:
    assert SettingsFile(tmp_path / "none.toml").health().poll_seconds == 60
    assert write(tmp_path, "schema_version = 2\n" + GOOD).health().models == {}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("[health]\nbogus = 1\n", "health.bogus: unknown key"),
        ("[health]\npoll_seconds = '60'\n", "health.poll_seconds: Input should be a valid int"),
        ("[health]\npoll_seconds = -1\n", "health.poll_seconds: Input should be greater than"),
        ("health = 3\n", "health: must be a table ([health]), not 3"),
        (
            "[health.thresholds.latency_p95]\ndegraded = 'x'\n",
            "health.thresholds.latency_p95: threshold 'degraded' must be a number",
        ),
        (
            "[health.signals.drift]\ntitle = 'x'\n",
            "health.signals.drift.promql: is required",
        ),
        (
            "[health.models.m.promql]\nrps = ''\n",
            "health.models.m.promql.rps: must be non-empty text",
        ),
        ("[health.models.m]\nquery = 'x'\n", "health.models.m.query: unknown key"),
    ],
)
def test_health_errors_name_the_file_and_key(tmp_path: Path, table: str, expected: str) -> None:
    s = write(tmp_path, "schema_version = 2\n" + table)
    with pytest.raises(ConfigError) as exc:
        s.health()
    message = str(exc.value)
    assert message.startswith(f"{s.path}: {expected}"), message
    assert "\n" not in message
    assert s.load().problems == ()  # backends are unaffected
