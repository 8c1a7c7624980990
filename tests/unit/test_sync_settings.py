"""The [sync] table of the settings file: defaults, values, and a broken table."""

from __future__ import annotations

from pathlib import Path

from app.services.settings import SettingsFile, SyncSettings


def test_defaults_without_a_file(tmp_path: Path) -> None:
    assert SettingsFile(tmp_path / "settings.toml").sync_settings() == SyncSettings(
        on_start=True, interval_minutes=15
    )


def test_values_are_read(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("schema_version = 2\n\n[sync]\non_start = false\ninterval_minutes = 0\n")
    assert SettingsFile(path).sync_settings() == SyncSettings(on_start=False, interval_minutes=0)


def test_broken_table_falls_back_to_defaults_and_keeps_backends(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        "schema_version = 2\n\n[sync]\ninterval_minutes = -5\nbogus = 1\n\n"
        '[backends.reg]\nkind = "mlflow"\nurl = "http://127.0.0.1:5000"\n'
    )
    settings = SettingsFile(path)
    assert settings.sync_settings() == SyncSettings()
    assert [b.name for b in settings.load().backends] == ["reg"]


def test_sync_that_is_not_a_table_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text("schema_version = 2\nsync = 3\n")
    assert SettingsFile(path).sync_settings() == SyncSettings()


def test_sync_reads_the_migrated_document(tmp_path: Path) -> None:
    # schema 1 (an array of backends) migrates; [sync] is read from the same document
    path = tmp_path / "settings.toml"
    path.write_text(
        "schema_version = 1\n[sync]\ninterval_minutes = 5\n\n"
        '[[backends]]\nname = "reg"\nkind = "mlflow"\nurl = "http://127.0.0.1:5000"\n'
    )
    settings = SettingsFile(path)
    assert settings.sync_settings() == SyncSettings(interval_minutes=5)
    assert [b.name for b in settings.load().backends] == ["reg"]


def test_a_broken_file_gives_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(b"[sync]\non_start = false\non_start = true\n")
    assert SettingsFile(path).sync_settings() == SyncSettings()
