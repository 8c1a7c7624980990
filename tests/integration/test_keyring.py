"""Secrets in the real OS keyring (gnome-keyring's Secret Service in the private
D-Bus session that tests/run.sh starts), driven through the real CLI entry point in
separate processes, against a real MLflow behind a real token-checking server.

Afterwards every file under MODELDECK_HOME, the log and all command output are
scanned for the secrets: zero hits."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from app import APP_ID
from tests.integration.servers import Gateway, closed_port, require

pytestmark = pytest.mark.integration

MODELDECK = Path(sys.executable).with_name("modeldeck")


@pytest.fixture
def keyring_session() -> None:
    require(
        os.environ.get("MODELDECK_KEYRING_READY") == "1",
        "no unlocked Secret Service (run the suite with: bash tests/run.sh)",
    )


def keyring_value(name: str) -> str | None:
    import keyring

    return keyring.get_password(APP_ID, name)


class Cli:
    """Runs ``modeldeck --home DIR ...`` as a new process each time; keeps all output."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.transcript: list[str] = []

    def __call__(
        self,
        *args: str,
        stdin: str | None = None,
        ok: bool = True,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        exe = [str(MODELDECK)] if MODELDECK.exists() else [sys.executable, "-m", "app"]
        result = subprocess.run(
            [*exe, "--home", str(self.home), *args],
            check=False,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **(env or {})},
        )
        self.transcript += [" ".join(args), result.stdout, result.stderr]
        if ok:
            assert result.returncode == 0, result.stderr
        return result


def scan_for(secrets_: list[str], home: Path, transcript: list[str]) -> list[str]:
    hits = []
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {s[:4]}…" for s in secrets_ if s.encode() in data]
    text = "\n".join(transcript)
    hits += [f"command output: {s[:4]}…" for s in secrets_ if s in text]
    return hits


def test_token_lifecycle_in_the_real_keyring(
    keyring_session: None, tmp_path: Path, mlflow_server: str
) -> None:
    home = tmp_path / "home"
    cli = Cli(home)
    token = "mdk-" + secrets.token_urlsafe(24)
    wrong = "mdk-wrong-" + secrets.token_urlsafe(16)
    password = "pw-" + secrets.token_urlsafe(16)
    with Gateway(mlflow_server, token=token) as gw:
        # add with the token on stdin: it lands in the keyring, nowhere else
        cli(
            "backends",
            "add",
            "prod",
            "--kind",
            "mlflow",
            "--url",
            gw.url,
            "--token-stdin",
            stdin=token + "\n",
        )
        stored = keyring_value("prod")
        assert stored is not None
        assert json.loads(stored) == {"token": token}
        assert token not in (home / "config" / "settings.toml").read_text()

        # "restart": a new process reads the token from the keyring and the server accepts it
        result = cli("backends", "test", "prod", "--json")
        verdict = json.loads(result.stdout)
        assert verdict["code"] == "ok", verdict
        assert verdict["server_version"] == "3.17.2"
        assert verdict["authenticated"] is True
        assert gw.refused == 0

        # errors with secrets in play: a wrong token, a basic-auth password, a dead port
        cli(
            "backends",
            "add",
            "stale",
            "--kind",
            "mlflow",
            "--url",
            gw.url,
            "--token-stdin",
            stdin=wrong,
        )
        bad = cli("backends", "test", "stale", "--json", ok=False)
        assert bad.returncode == 1
        assert json.loads(bad.stdout)["code"] == "unauthorized"
        cli(
            "backends",
            "add",
            "dead",
            "--kind",
            "prometheus",
            "--url",
            f"http://127.0.0.1:{closed_port()}",
            "--username",
            "ana",
            "--token-stdin",
            stdin=password,
        )
        assert json.loads(keyring_value("dead") or "{}") == {
            "username": "ana",
            "password": password,
        }
        dead = cli("backends", "test", "dead", ok=False)
        assert "connection refused" in dead.stdout
        # a one-off token for a test is used but not saved
        once = cli("backends", "test", "stale", "--token-stdin", "--json", stdin=token)
        assert json.loads(once.stdout)["code"] == "ok"
        assert json.loads(keyring_value("stale") or "{}") == {"token": wrong}
        listed = json.loads(cli("backends", "list", "--json").stdout)
        assert [b["name"] for b in listed["backends"]] == ["dead", "prod", "stale"]

    # remove: the settings entry and the keyring entry are gone
    for name in ("prod", "stale", "dead"):
        cli("backends", "remove", name)
        assert keyring_value(name) is None
    gone = cli("backends", "test", "prod", ok=False)
    assert gone.returncode == 1
    assert "no backend named 'prod'" in gone.stderr

    log_text = (home / "logs" / "modeldeck.log").read_text()
    assert "saved the secret for backend prod" in log_text
    assert scan_for([token, wrong, password], home, cli.transcript) == []


def test_no_keyring_backend_is_refused_clearly(tmp_path: Path) -> None:
    """With keyring's fail backend nothing is saved (no settings, no plaintext file)."""
    home = tmp_path / "home"
    cli = Cli(home)
    token = "mdk-" + secrets.token_urlsafe(24)
    env = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    r = cli(
        "backends",
        "add",
        "prod",
        "--kind",
        "mlflow",
        "--url",
        "http://127.0.0.1:5000",
        "--token-stdin",
        stdin=token,
        ok=False,
        env=env,
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "no OS keyring is available" in lines[0]
    assert "Nothing was saved" in lines[0]
    assert not (home / "config" / "settings.toml").exists()
    # without a secret the backend can be added and removed with the fail keyring
    cli("backends", "add", "open", "--kind", "mlflow", "--url", "http://127.0.0.1:5000", env=env)
    rm = cli("backends", "remove", "open", env=env)
    assert "could not delete a saved secret" in rm.stderr
    assert scan_for([token], home, cli.transcript) == []
