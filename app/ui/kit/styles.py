"""Stylesheet templates shared across pages (on top of ``theme.py``'s application sheet)."""

from __future__ import annotations

from PySide6.QtGui import QColor

from app.ui.theme import Tokens


def rgba(hex_color: str, alpha: int) -> str:
    """``#rrggbb`` + alpha 0-255 → ``rgba(...)`` (Qt reads ``#aarrggbb``, not CSS's order)."""
    h = hex_color.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    return f"rgba({r}, {g}, {b}, {alpha})"


_PAGE_QSS = """
QPushButton#chip {{
    background: {surface}; border: 1px solid {border}; border-radius: 13px;
    padding: 3px 12px; color: {text}; min-height: 18px;
}}
QPushButton#chip:hover {{ background: {hover}; }}
QPushButton#chip:checked {{
    background: {accent_soft}; border: 1px solid {accent}; color: {accent}; font-weight: 600;
}}
QPushButton#segment {{
    background: {surface}; border: 1px solid {border}; border-radius: 0; padding: 4px 12px;
    min-width: 28px;
}}
QPushButton#segment:checked {{ background: {accent_soft}; color: {accent}; font-weight: 600; }}
QPushButton#segmentFirst {{
    background: {surface}; border: 1px solid {border}; border-top-left-radius: 7px;
    border-bottom-left-radius: 7px; border-top-right-radius: 0; border-bottom-right-radius: 0;
    padding: 4px 12px;
}}
QPushButton#segmentLast {{
    background: {surface}; border: 1px solid {border}; border-top-right-radius: 7px;
    border-bottom-right-radius: 7px; border-top-left-radius: 0; border-bottom-left-radius: 0;
    padding: 4px 12px;
}}
QPushButton#segmentFirst:checked, QPushButton#segmentLast:checked {{
    background: {accent_soft}; color: {accent}; font-weight: 600;
}}
QComboBox {{
    background: {surface}; border: 1px solid {border}; border-radius: 8px; padding: 5px 10px;
    min-width: 120px;
}}
QComboBox::drop-down {{ border: none; width: 22px; }}
QFrame#offline {{
    background: {warn_soft}; border: 1px solid {degraded}; border-radius: 8px;
}}
QLabel#offlineText {{ color: {text}; }}
QLabel#kpi {{ color: {muted}; }}
"""


def page_qss(t: Tokens) -> str:
    """Filter chips, segmented controls, combo boxes and the offline banner."""
    warn = QColor(t.degraded)
    warn.setAlpha(30)
    return _PAGE_QSS.format(
        surface=t.surface,
        border=t.border,
        text=t.text,
        hover=t.hover,
        accent=t.accent,
        accent_soft=t.accent_soft,
        degraded=t.degraded,
        muted=t.muted,
        warn_soft=f"rgba({warn.red()}, {warn.green()}, {warn.blue()}, 0.12)",
    )


def catalog_stylesheet(t: Tokens) -> str:
    """Styles of the catalog, model page, compare view and palette (on top of theme.py)."""
    return f"""
    QTreeView#facets {{ background: transparent; border: none; outline: none; }}
    QLabel#modelTitle {{ font-size: 14pt; font-weight: 600; color: {t.text}; }}
    QLabel#sectionTitle {{ font-weight: 600; color: {t.text}; }}
    QLabel#chip {{
        background: {t.hover}; color: {t.text}; border-radius: 9px; padding: 1px 8px;
        font-size: 8.5pt;
    }}
    QLabel#chipAccent {{
        background: {t.accent}; color: {t.accent_text}; border-radius: 9px; padding: 1px 8px;
        font-size: 8.5pt; font-weight: 600;
    }}
    QPushButton#flat {{ border: none; background: transparent; color: {t.accent}; }}
    QPushButton#primary:disabled {{
        background: {t.hover}; color: {t.muted}; border: 1px solid {t.border};
    }}
    QTabWidget::pane {{ border: none; border-top: 1px solid {t.border}; }}
    QTabBar::tab {{
        background: transparent; color: {t.muted}; padding: 6px 12px; border: none;
        border-bottom: 2px solid transparent; margin-right: 4px;
    }}
    QTabBar::tab:selected {{ color: {t.text}; border-bottom: 2px solid {t.accent}; }}
    QTextBrowser#markdown {{ background: {t.surface}; border: none; padding: 8px 4px; }}
    QToolButton {{ border: none; border-radius: 6px; padding: 4px; }}
    QToolButton:hover {{ background: {t.hover}; }}
    QComboBox {{
        background: {t.surface}; border: 1px solid {t.border}; border-radius: 7px;
        padding: 4px 10px;
    }}
    QSplitter::handle {{ background: transparent; }}
    QFrame#palette {{
        background: {t.surface}; border: 1px solid {t.border}; border-radius: 12px;
    }}
    QFrame#palette QListWidget {{ border: none; background: transparent; outline: none; }}
    QFrame#palette QListWidget::item {{ padding: 6px 8px; border-radius: 6px; }}
    QFrame#palette QListWidget::item:selected {{ background: {t.accent_soft}; color: {t.text}; }}
    """
