"""Icons are drawn from the bundled MDI SVGs, in the colour each state asks for."""

from __future__ import annotations

import re
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


def test_every_icon_name_in_the_ui_is_bundled() -> None:
    """A name the UI asks for but nobody bundled would draw nothing (or raise) on some page."""
    names: set[str] = set()
    for source in (ROOT / "app" / "ui").rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        names |= set(re.findall(r'icons\.(?:icon|pixmap)\(\s*"([a-z0-9-]+)"', text))
        # names kept in tables (rail pages, backend kinds, empty states) are literal
        # strings next to labels; collect every quoted token that names a bundled file
        names |= {t for t in re.findall(r'"([a-z0-9-]+)"', text) if t in BUNDLED}
    assert names, "no icon names found in app/ui"
    assert names <= set(BUNDLED)
    assert len(BUNDLED) >= 30  # the whole set the pages use, not a stray file or two


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
