"""Icons are drawn from the bundled MDI SVGs, in the colour each state asks for."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QColor, QIcon, QImage

from app.ui import icons

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted(p.stem for p in (ROOT / "resources" / "icons" / "mdi").glob("*.svg"))


def _opaque_colours(image: QImage) -> set[str]:
    return {
        image.pixelColor(x, y).name()
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() == 255
    }


def _max_alpha(image: QImage) -> int:
    return max(
        image.pixelColor(x, y).alpha() for x in range(image.width()) for y in range(image.height())
    )


#: calls whose first argument names an icon
ICON_CALLS = {"icon", "EmptyState", "show_state"}


def _icon_names_in_ui() -> set[str]:
    """Every icon name the UI can ask for: string literals in the first argument of an
    icon call (both arms of a conditional too), and the icon column of the tables that
    feed calls with a variable (rail pages, backend kinds and states)."""
    from app.ui.main_window import MainWindow
    from app.ui.pages.backends.style import HEALTH_STYLE, KIND_STYLE

    names = {icon for _key, _label, icon in MainWindow.PAGES}
    names |= {style[0] for style in (*KIND_STYLE.values(), *HEALTH_STYLE.values())}
    for source in (ROOT / "app" / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ICON_CALLS:
                names |= {
                    c.value
                    for c in ast.walk(node.args[0])
                    if isinstance(c, ast.Constant) and isinstance(c.value, str)
                }
    return names


def test_every_icon_name_in_the_ui_is_bundled() -> None:
    """A name the UI asks for but nobody bundled would raise on some page."""
    names = _icon_names_in_ui()
    assert {"view-list-outline", "magnify", "arrow-expand", "kubernetes"} <= names
    assert sorted(names - set(BUNDLED)) == []
    assert sorted(set(BUNDLED) - names) == []  # nothing bundled that nothing uses


@pytest.mark.parametrize("name", BUNDLED)
def test_each_bundled_icon_draws_in_its_colour(qapp, name: str) -> None:
    image = icons.icon(name, "#d11a2a").pixmap(QSize(32, 32)).toImage()
    assert _opaque_colours(image) == {"#d11a2a"}  # something is drawn, all in that colour
    assert image.pixelColor(0, 0).alpha() == 0  # on a transparent background


def test_checked_and_disabled_states(qapp) -> None:
    icon = icons.icon("history", "#676d7c", color_on="#4f5bff")
    size = QSize(48, 48)
    assert _opaque_colours(icon.pixmap(size, QIcon.Mode.Normal, QIcon.State.Off).toImage()) == {
        "#676d7c"
    }
    assert _opaque_colours(icon.pixmap(size, QIcon.Mode.Normal, QIcon.State.On).toImage()) == {
        "#4f5bff"
    }
    disabled = icon.pixmap(size, QIcon.Mode.Disabled, QIcon.State.Off).toImage()
    assert 0 < _max_alpha(disabled) < 128  # faded, not gone


def test_high_dpi_pixmaps_are_sharp(qapp) -> None:
    pixmap = icons.icon("magnify", "#000000").pixmap(QSize(24, 24), 2.0)
    assert pixmap.devicePixelRatio() == 2.0
    assert pixmap.size() == QSize(48, 48)  # drawn at device pixels, not scaled up


def test_an_unknown_name_fails_loudly(qapp) -> None:
    with pytest.raises(KeyError, match="no-such-icon"):
        icons.icon("no-such-icon", "#000000")


def test_rail_shows_the_current_page_in_the_accent_colour(qtbot, demo_context) -> None:
    from app.ui.main_window import MainWindow

    w = MainWindow(demo_context)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(w.catalog_page.is_loaded, timeout=10_000)
    try:
        w.show_page("catalog")
        accent = QColor(w.tokens.accent)
        muted = QColor(w.tokens.muted)

        def colours_on_screen(key: str) -> set[str]:
            """Colours in the icon's part of the rail button (the label below is coloured too)."""
            button = w.rail_buttons[key]
            image = button.grab().toImage()
            icon_bottom = button.height() - button.fontMetrics().height() - 8
            return {
                image.pixelColor(x, y).name()
                for x in range(image.width())
                for y in range(icon_bottom)
            }

        assert accent.name() in colours_on_screen("catalog")
        assert accent.name() not in colours_on_screen("health")
        assert muted.name() in colours_on_screen("health")
        w.show_page("health")
        assert accent.name() in colours_on_screen("health")
        assert accent.name() not in colours_on_screen("catalog")
    finally:
        w.shutdown()
