"""Wiring: the one place that builds the store, services and UI and hands them in."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Sequence

from app.cli import run as run_cli
from app.services.context import AppContext
from app.services.workspace import Workspace

log = logging.getLogger("app")


def setup_logging(workspace: Workspace) -> None:
    """A rotating log file in the workspace's log dir. Never logs secrets."""
    root = logging.getLogger("app")
    if any(isinstance(h, logging.handlers.RotatingFileHandler) for h in root.handlers):
        return
    workspace.log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        workspace.log_dir / "modeldeck.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def build_context(workspace: Workspace, demo: bool = False) -> AppContext:
    setup_logging(workspace)
    return AppContext.build(workspace, demo=demo)


def run_gui(context: AppContext, argv: list[str]) -> int:
    from app.ui.application import run  # Qt is imported only when a window is wanted

    return run(context, argv)


def self_test() -> int:
    """Start the real GUI offscreen on a temporary demo cache and check every part.

    Prints one line; exit 0 when all is well, 1 with the failing part otherwise.
    """
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app import __version__
    from app.services import selftest

    with tempfile.TemporaryDirectory(prefix="modeldeck-self-test-") as tmp:
        context = AppContext.build(Workspace.resolve(tmp), demo=True)
        try:
            checks = [
                selftest.prepare_demo(context),
                selftest.check_adapters(),
                selftest.check_keyring(),
            ]
            from app.ui.selftest import run_pages

            ok, detail = run_pages(context)
            checks.append(selftest.Check("gui", ok, detail))
        except Exception as exc:  # noqa: BLE001 - any failure is the self-test's finding
            checks = [selftest.Check("self-test", False, f"{type(exc).__name__}: {exc}")]
        finally:
            context.close()
    failed = [c for c in checks if not c.ok]
    summary = "; ".join(f"{c.name}: {c.detail}" for c in (failed or checks))
    verdict = "FAILED" if failed else "OK"
    print(f"modeldeck {__version__} self-test {verdict} — {summary}")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    return run_cli(args, ctx_factory=build_context, gui=run_gui, self_test=self_test)


if __name__ == "__main__":
    sys.exit(main())
