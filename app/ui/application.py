"""QApplication set-up and the GUI entry point."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from app import APP_ID, APP_NAME, __version__
from app.services.context import AppContext


def create_application(argv: list[str]) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setApplicationName(APP_NAME)
    QApplication.setOrganizationName("Modeldeck")
    QApplication.setOrganizationDomain("modeldeck.io")
    QApplication.setApplicationVersion(__version__)
    QApplication.setDesktopFileName(APP_ID)
    qapp = QApplication(argv)
    qapp.setStyle("Fusion")
    return qapp


def run(context: AppContext, argv: list[str]) -> int:
    from app.ui.main_window import MainWindow

    qapp = create_application(argv)
    window = MainWindow(context)
    window.show()
    code = qapp.exec()
    window.shutdown()
    return int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(0)
