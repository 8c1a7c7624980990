"""GUI half of ``modeldeck --self-test``: open the real window offscreen, visit every page."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer
from PySide6.QtWidgets import QApplication

from app.services.context import AppContext
from app.ui.application import create_application
from app.ui.main_window import MainWindow


def run_pages(context: AppContext, timeout_ms: int = 20_000) -> tuple[bool, str]:
    app = create_application(["modeldeck"])
    window = MainWindow(context)
    window.resize(1280, 800)
    window.show()
    clock = QElapsedTimer()
    clock.start()
    expected = context.catalog.count()
    while window.catalog_page.model.rowCount() != expected and clock.elapsed() < timeout_ms:
        app.processEvents()
        QApplication.sendPostedEvents()
    rows = window.catalog_page.model.rowCount()
    visited = []
    for key in window.pages:
        window.show_page(key)
        app.processEvents()
        if window.grab().isNull():
            return False, f"page {key} did not render"
        visited.append(key)
    icon_ok = not window.windowIcon().isNull()
    window.close()
    window.shutdown()
    if rows != expected:
        return False, f"catalog showed {rows} of {expected} models"
    if not icon_ok:
        return False, "window icon missing (resources not found)"
    return True, f"{rows} rows, pages {'/'.join(visited)}, icon ok"
