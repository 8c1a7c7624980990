"""Retake the demo screenshots of the README: the catalog, the Health page and a
deployment's charts, in a 1440x900 window on a fresh demo workspace, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots/take_demo.py

The canary page is the demo's canary whose v2 is slightly worse than v1.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
OUT = Path(__file__).resolve().parent


def _wait(app: object, check: object, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not settle")
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)  # offscreen event loop polling with a deadline


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from app.adapters.demo import world as worlds
    from app.services import demo
    from app.services.context import AppContext
    from app.services.workspace import Workspace
    from app.ui import theme
    from app.ui.main_window import MainWindow
    from app.ui.pages.health.page import HealthPage

    app = QApplication(sys.argv)
    app.setOrganizationName("ModeldeckScreenshots")
    theme.apply(app, theme.LIGHT)
    with tempfile.TemporaryDirectory(prefix="modeldeck-shots-") as tmp:
        ws = Workspace.under(Path(tmp) / "data" / "demo")
        demo.create(ws, 2000)
        ctx = AppContext.build(ws)
        w = MainWindow(ctx)
        w.resize(1440, 900)
        w.show()
        w.show_page("catalog")
        _wait(app, lambda: w.catalog_page.is_loaded() and "synced" in w.freshness.text())
        w.grab().save(str(OUT / "catalog-light.png"))
        w.show_page("health")
        page = w.page("health")
        assert isinstance(page, HealthPage)
        _wait(app, lambda: page.model.rowCount() > 0 and not page.controller.running)
        w.grab().save(str(OUT / "health-demo.png"))
        world = worlds.load("shots", ws.data_dir)
        key = next(
            k
            for k, incs in world.incidents().items()
            if any(isinstance(i, dict) and i.get("kind") == "worse" for i in incs.values())
        )
        target, _, name = key.partition("/")
        view = page.open_deployment(target, name, "6h")
        _wait(app, lambda: view.health is not None and not view.loading)
        for _ in range(20):
            app.processEvents()
        w.grab().save(str(OUT / "model-health-demo.png"))
        w.shutdown()
        ctx.close()
    print(f"saved catalog-light, health-demo and model-health-demo.png in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
