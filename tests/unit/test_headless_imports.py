"""The headless face never needs Qt: every module outside ``app.ui`` imports with
PySide6, shiboken6 and pyqtgraph made unimportable (docs/architecture.md, "Layers").

Runs in a fresh interpreter so nothing this test process already imported helps."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = textwrap.dedent(
    """
    import importlib, importlib.abc, pkgutil, sys

    BLOCKED = ("PySide6", "shiboken6", "pyqtgraph")

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"{name} is blocked in this test", name=name)
            return None

    sys.meta_path.insert(0, Block())
    imported = []
    for top in ("app.domain", "app.store", "app.adapters", "app.services", "app.cli"):
        package = importlib.import_module(top)
        imported.append(top)
        for info in pkgutil.walk_packages(package.__path__, top + "."):
            if info.name.startswith("app.store.migrations"):
                continue  # alembic's scripts: run by alembic inside a migration, not imported
            importlib.import_module(info.name)
            imported.append(info.name)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    assert not leaked, leaked
    print(len(imported))
    print("\\n".join(imported))
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter at the repository root."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_everything_but_the_ui_imports_without_qt() -> None:
    done = _run(_CHILD)
    count, *names = done.stdout.split("\n")
    # the walk really covered the packages, down to their leaf modules
    assert int(count) >= 30
    for expected in ("app.services.sync", "app.adapters.mlflow", "app.store.queries"):
        assert expected in names
    assert any(n.startswith("app.cli.") for n in names), "app.cli has no submodules"


def test_the_cli_entry_point_runs_without_qt(tmp_path: Path) -> None:
    """``modeldeck cache info`` on a machine without Qt: the whole headless path."""
    child = _CHILD.split("imported = []")[0] + textwrap.dedent(
        f"""
        from app.__main__ import main
        code = main(["--home", {str(tmp_path)!r}, "cache", "info", "--json"])
        leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        assert not leaked, leaked
        sys.exit(code)
        """
    )
    assert '"models": 0' in _run(child).stdout
