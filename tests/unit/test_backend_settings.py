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
