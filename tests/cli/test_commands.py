"""What a user of the command line sees: the README's commands are the ones
``--help`` lists, bad input is one line and exit 2, counts read '1 version' and
'1 app'. Help and usage errors go through ``app.__main__.main`` in this process (no
command runs); the rest through the real entry point as a subprocess."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.__main__ import main
from app.cli import Exit, build_parser
from tests.cli.test_cli import run

README = Path(__file__).resolve().parents[2] / "README.md"


# ------------------------------------------------------------------ the README's table
def _readme_block() -> list[str]:
    """The lines of the ```sh block under '## Command line'."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return block.splitlines()


def _alternatives(line: str) -> list[str]:
    """``a X | b Y [--p | --q]`` → ``["a X", "b Y [--p | --q]"]`` (bars in [] stay)."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(line):
        depth += {"[": 1, "]": -1}.get(c, 0)
        if depth == 0 and line.startswith(" | ", i):
            parts.append(line[start:i])
            start = i + 3
    parts.append(line[start:])
    return parts


def _words(segment: str) -> list[str]:
    """The leading command words of a segment (placeholders are UPPER, options --x)."""
    words = []
    for token in segment.split():
        if not re.fullmatch(r"[a-z][a-z-]*", token):
            break
        words.append(token)
    return words


def readme_commands() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every (command path, its flags) the README documents, e.g.
    ``(("backends", "add"), ("--kind", "--url", ...))``; ``()`` is plain ``modeldeck``."""
    lines: list[str] = []
    for raw in _readme_block():
        text = re.sub(r"\s+#\s.*$", "", raw).rstrip()
        if text.startswith("modeldeck"):
            lines.append(text.removeprefix("modeldeck").strip())
        elif text.strip():
            lines[-1] += " " + text.strip()  # a continuation line
    found: dict[tuple[str, ...], set[str]] = {}
    for line in lines:
        segments = _alternatives(line)
        first = _words(segments[0])
        for n, segment in enumerate(segments):
            path = first if n == 0 else [*first[:-1], *_words(segment)[:1]]
            found.setdefault(tuple(path), set()).update(re.findall(r"--[a-z][a-z-]*", segment))
    return [(path, tuple(sorted(flags))) for path, flags in found.items()]


COMMANDS = readme_commands()


def _id(path: tuple[str, ...]) -> str:
    return " ".join(("modeldeck", *path))


def help_of(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    return capsys.readouterr().out


def _has_flag(text: str, flag: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", text) is not None


def test_the_readme_table_was_read() -> None:
    paths = {path for path, _ in COMMANDS}
    # a few rows of each shape: plain, group + action, 'a | b | c' alternatives
    assert {(), ("models", "show"), ("backends", "remove"), ("rollback",)} <= paths
    assert ("audit", "verify") in paths
    assert dict(COMMANDS)[("sync",)] == ("--full", "--quick")


@pytest.mark.parametrize(("path", "flags"), COMMANDS, ids=[_id(p) for p, _ in COMMANDS])
def test_every_readme_command_and_flag_is_in_help(
    path: tuple[str, ...], flags: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    if path:
        listing = help_of(path[:-1], capsys)
        assert re.search(rf"^\s+{re.escape(path[-1])}(\s|$)", listing, re.MULTILINE), (
            f"{_id(path[:-1])} --help does not list {path[-1]!r}:\n{listing}"
        )
    own = help_of(path, capsys)
    missing = [f for f in flags if not _has_flag(own, f)]
    assert not missing, f"{_id(path)} --help lacks {missing}:\n{own}"


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every runnable command path of the real parser (a group needs its action)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return {path}
    found = set() if subs[0].required else {path}
    for name, child in subs[0].choices.items():
        found |= _commands(child, (*path, name))
    return found


def test_every_command_of_the_parser_is_in_the_readme() -> None:
    documented = {path for path, _ in COMMANDS}
    assert _commands(build_parser()) - documented == set()


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[_id(p) for p, _ in COMMANDS])
def test_a_bad_flag_is_one_line_and_exit_2(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main([*path, "--no-such-flag"])
    out, err = capsys.readouterr()
    assert rc == Exit.USAGE
    assert int(Exit.USAGE) == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("modeldeck"), err


def _groups() -> list[str]:
    """The top-level commands that take an action (``models list``, ``audit verify`` ...)."""
    top = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return [
        name
        for name, child in top.choices.items()
        if any(isinstance(a, argparse._SubParsersAction) for a in child._actions)
    ]


@pytest.mark.parametrize("group", _groups())
def test_a_group_without_its_action_is_a_usage_error(
    group: str, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main([group])
    _, err = capsys.readouterr()
    assert rc == Exit.USAGE
    assert err.splitlines() == [f"modeldeck {group}: the following arguments are required: ACTION"]


def test_a_bad_flag_in_the_real_process(tmp_path: Path) -> None:
    proc = run(tmp_path, "backends", "list", "--verbose", check=False)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == ["modeldeck: unrecognized arguments: --verbose"]


# ------------------------------------------------------------------ counts
@pytest.fixture
def demo_home(tmp_path: Path, demo_cache_file: Path) -> Path:
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    shutil.copy(demo_cache_file, home / "data" / "cache.sqlite")
    return home


def _by_version_count(home: Path, *, desc: bool) -> dict[str, object]:
    args = ["models", "list", "--sort", "versions", "--limit", "1", "--json"]
    doc = json.loads(run(home, *args, *(["--desc"] if desc else [])).stdout)
    model: dict[str, object] = doc["models"][0]
    return model


def test_models_show_of_a_one_version_model_says_1_version(demo_home: Path) -> None:
    model = _by_version_count(demo_home, desc=False)
    assert model["version_count"] == 1  # the demo has single-version models
    out = run(demo_home, "models", "show", str(model["name"]), "--source", str(model["source"]))
    lines = out.stdout.splitlines()
    assert "1 version" in lines
    assert "1 versions" not in out.stdout


def test_models_show_of_a_many_version_model_says_n_versions(demo_home: Path) -> None:
    model = _by_version_count(demo_home, desc=True)
    n = model["version_count"]
    assert isinstance(n, int)
    assert n > 1
    out = run(demo_home, "models", "show", str(model["name"]), "--source", str(model["source"]))
    assert f"{n} versions" in out.stdout.splitlines()


def test_cache_info_counts_read_as_words(demo_home: Path) -> None:
    out = run(demo_home, "cache", "info").stdout
    deployed = next(line for line in out.splitlines() if line.startswith("deployed:"))
    assert re.fullmatch(r"deployed:\s+[\d,]+ apps?", deployed), deployed
    # the demo cache's registries are the demo kind (app.adapters.demo)
    assert re.search(r"\(demo-registry\) [\d,]+ models, synced \d+ \w+ ago", out), out


class _RayDashboard(BaseHTTPRequestHandler):
    """A Ray Serve dashboard serving one app: just ``GET /api/serve/applications/``."""

    body = json.dumps(
        {
            "applications": {
                "fraud-scorer": {
                    "status": "RUNNING",
                    "route_prefix": "/fraud",
                    "deployed_app_config": {
                        "name": "fraud-scorer",
                        "route_prefix": "/fraud",
                        "import_path": "modeldeck_serving.app:build",
                        "args": {"model_name": "fraud-detector", "stable_version": "3"},
                    },
                    "deployments": {"Model": {"replicas": [{"state": "RUNNING"}]}},
                }
            }
        }
    ).encode()

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/api/serve/applications":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the test reads the CLI's output, not the server's


@pytest.fixture
def ray_dashboard() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RayDashboard)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_deployments_list_with_one_app_says_1_app(tmp_path: Path, ray_dashboard: str) -> None:
    run(tmp_path, "backends", "add", "ray", "--kind", "ray-serve", "--url", ray_dashboard)
    proc = run(tmp_path, "deployments", "list")
    rows = proc.stdout.splitlines()
    assert rows[0].split()[:3] == ["TARGET", "APP", "MODEL"]
    assert rows[1].split()[:4] == ["ray", "fraud-scorer", "fraud-detector", "v3:100%"]
    assert len(rows) == 2
    assert proc.stderr.splitlines()[-1] == "1 app on 1 target"
    listed = json.loads(run(tmp_path, "deployments", "list", "--json").stdout)
    assert [(d["target"], d["app"], d["traffic"]) for d in listed] == [
        ("ray", "fraud-scorer", {"3": 100})
    ]
