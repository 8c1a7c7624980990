"""Wiring: the one place that builds the store, services and UI and hands them in."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Sequence

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


def main(argv: Sequence[str] | None = None) -> int:
    from app import cli

    return cli.run(sys.argv[1:] if argv is None else argv, ctx_factory=build_context, gui=run_gui)


if __name__ == "__main__":
    sys.exit(main())
