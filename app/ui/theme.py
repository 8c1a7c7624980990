"""Light and dark themes: Fusion + a palette + a small stylesheet (docs/architecture.md, "The UI").

The theme follows the system colour scheme; ``MODELDECK_THEME=light|dark``
forces one (screenshots, tests).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class Tokens:
    dark: bool
    window: str
    surface: str
    rail: str
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    accent_soft: str
    hover: str
    selection: str
    healthy: str = "#1f9d55"
    degraded: str = "#d97706"
    failing: str = "#dc2626"
    unknown: str = "#8a8f9c"


LIGHT = Tokens(
    dark=False,
    window="#f6f7f9",
    surface="#ffffff",
    rail="#eef0f4",
    text="#1b1d24",
    muted="#676d7c",
    border="#e1e4ea",
    accent="#4f5bff",
    accent_text="#ffffff",
    accent_soft="#e8eaff",
    hover="#f1f2f6",
    selection="#dfe3ff",
)
DARK = Tokens(
    dark=True,
    window="#15161a",
    surface="#1b1d22",
    rail="#111215",
    text="#e5e7ec",
    muted="#9297a5",
    border="#2a2d35",
    accent="#7c86ff",
    accent_text="#0d0e12",
    accent_soft="#272b52",
    hover="#23252c",
    selection="#2e3463",
)


def current_tokens() -> Tokens:
    forced = os.environ.get("MODELDECK_THEME", "").lower()
    if forced in ("light", "dark"):
        return DARK if forced == "dark" else LIGHT
    scheme = QGuiApplication.styleHints().colorScheme()
    return DARK if scheme == Qt.ColorScheme.Dark else LIGHT


def resource_path(*parts: str) -> Path:
    """A file under ``resources/``, from a source checkout or a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    roots = [Path(bundle) / "resources"] if bundle else []
    roots.append(Path(__file__).resolve().parents[2] / "resources")
    for root in roots:
        candidate = root.joinpath(*parts)
        if candidate.exists():
            return candidate
    return roots[-1].joinpath(*parts)


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        icon.addFile(str(resource_path("icons", f"modeldeck-{size}.png")))
    return icon


def apply(app: QApplication, t: Tokens | None = None) -> Tokens:
    t = t or current_tokens()
    app.setStyle("Fusion")
    pal = QPalette()
    c = QColor
    pal.setColor(QPalette.ColorRole.Window, c(t.window))
    pal.setColor(QPalette.ColorRole.WindowText, c(t.text))
    pal.setColor(QPalette.ColorRole.Base, c(t.surface))
    pal.setColor(QPalette.ColorRole.AlternateBase, c(t.hover))
    pal.setColor(QPalette.ColorRole.Text, c(t.text))
    pal.setColor(QPalette.ColorRole.Button, c(t.surface))
    pal.setColor(QPalette.ColorRole.ButtonText, c(t.text))
    pal.setColor(QPalette.ColorRole.Highlight, c(t.selection))
    pal.setColor(QPalette.ColorRole.HighlightedText, c(t.text))
    pal.setColor(QPalette.ColorRole.ToolTipBase, c(t.surface))
    pal.setColor(QPalette.ColorRole.ToolTipText, c(t.text))
    pal.setColor(QPalette.ColorRole.PlaceholderText, c(t.muted))
    pal.setColor(QPalette.ColorRole.Link, c(t.accent))
    pal.setColor(QPalette.ColorRole.Mid, c(t.border))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        pal.setColor(QPalette.ColorGroup.Disabled, role, c(t.muted))
    app.setPalette(pal)
    font = QFont(app.font())
    font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(stylesheet(t))
    return t


def stylesheet(t: Tokens) -> str:
    return f"""
    QMainWindow, QWidget#page {{ background: {t.window}; }}
    QWidget#rail {{ background: {t.rail}; border-right: 1px solid {t.border}; }}
    QToolButton#railButton {{
        border: none; border-radius: 8px; padding: 6px 2px; margin: 2px 6px;
        color: {t.muted}; font-size: 8.5pt;
    }}
    QToolButton#railButton:hover {{ background: {t.hover}; color: {t.text}; }}
    QToolButton#railButton:checked {{
        background: {t.accent_soft}; color: {t.accent}; font-weight: 600;
    }}
    QLabel#pageTitle {{ font-size: 15pt; font-weight: 600; color: {t.text}; }}
    QLabel#pageSubtitle, QLabel#muted {{ color: {t.muted}; }}
    QLabel#emptyTitle {{ font-size: 13pt; font-weight: 600; color: {t.text}; }}
    QLabel#emptyText {{ color: {t.muted}; }}
    QLineEdit {{
        background: {t.surface}; border: 1px solid {t.border}; border-radius: 8px;
        padding: 6px 10px; selection-background-color: {t.selection};
    }}
    QLineEdit:focus {{ border: 1px solid {t.accent}; }}
    QPushButton {{
        background: {t.surface}; border: 1px solid {t.border}; border-radius: 7px;
        padding: 6px 14px;
    }}
    QPushButton:hover {{ background: {t.hover}; }}
    QPushButton#primary {{
        background: {t.accent}; color: {t.accent_text}; border: 1px solid {t.accent};
        font-weight: 600;
    }}
    QPushButton#primary:hover {{ background: {t.accent}; }}
    QTableView {{
        background: {t.surface}; border: 1px solid {t.border}; border-radius: 10px;
        gridline-color: transparent; selection-background-color: {t.selection};
        selection-color: {t.text}; outline: none;
    }}
    QTableView::item {{ padding: 0 8px; border-bottom: 1px solid {t.hover}; }}
    QHeaderView::section {{
        background: {t.surface}; color: {t.muted}; border: none;
        border-bottom: 1px solid {t.border}; padding: 6px 8px; font-weight: 600;
    }}
    QStatusBar {{ background: {t.rail}; border-top: 1px solid {t.border}; color: {t.muted}; }}
    QStatusBar QLabel {{ color: {t.muted}; padding: 0 6px; }}
    QLabel#badge {{
        background: {t.accent_soft}; color: {t.accent}; border-radius: 8px;
        padding: 1px 8px; font-weight: 600;
    }}
    QLabel#offlineBadge {{
        background: {t.degraded}; color: white; border-radius: 8px; padding: 1px 8px;
        font-weight: 600;
    }}
    QFrame#banner {{
        background: {t.accent_soft}; border: 1px solid {t.accent}; border-radius: 8px;
    }}
    QFrame#card {{
        background: {t.surface}; border: 1px solid {t.border}; border-radius: 10px;
    }}
    QProgressBar {{
        background: {t.hover}; border: none; border-radius: 3px; max-height: 6px;
    }}
    QProgressBar::chunk {{ background: {t.accent}; border-radius: 3px; }}
    QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
    QScrollBar::handle:vertical {{ background: {t.border}; border-radius: 4px; min-height: 30px; }}
    QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
    QToolTip {{ background: {t.surface}; color: {t.text}; border: 1px solid {t.border}; }}
    """
