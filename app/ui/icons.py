"""Material Design Icons drawn from SVGs bundled in ``resources/icons/mdi``.

The files are the unmodified ``@mdi/svg`` 6.9.96 icons (Pictogrammers Free
License, ``resources/icons/mdi/LICENSE``), the same set and names the app used
through qtawesome's ``mdi6`` font. Drawing them with Qt's own SVG renderer keeps
qtawesome (and qtpy's star imports of QtGui, QtWidgets and QtOpenGL) off the
start-up path: importing it and building the first icon cost ≈250 ms of a
600 ms cold-start budget on a 2-core machine.

To add an icon, copy ``svg/<name>.svg`` from the ``@mdi/svg@6.9.96`` npm
package into ``resources/icons/mdi/`` and call ``icon("<name>", colour)``.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from app.ui.theme import resource_path

#: opacity of an icon on a disabled widget
_DISABLED_ALPHA = 0.38


@cache
def _svg(name: str) -> str:
    path = resource_path("icons", "mdi", f"{name}.svg")
    if not path.is_file():
        raise KeyError(f"no bundled icon {name!r} (resources/icons/mdi/{name}.svg)")
    return path.read_text(encoding="utf-8")


@cache
def _renderer(name: str, rgba: int) -> QSvgRenderer:
    colour = QColor.fromRgba(rgba)
    fill = f'<path fill="{colour.name()}" fill-opacity="{colour.alphaF():.3f}" '
    return QSvgRenderer(QByteArray(_svg(name).replace("<path ", fill, 1).encode()))


class _SvgIconEngine(QIconEngine):
    """One glyph, one colour per state: normal, checked (``On``) and disabled."""

    def __init__(self, name: str, normal: QColor, on: QColor) -> None:
        super().__init__()
        self._name = name
        self._normal = normal
        self._on = on

    def _colour(self, mode: QIcon.Mode, state: QIcon.State) -> QColor:
        colour = QColor(self._on if state == QIcon.State.On else self._normal)
        if mode == QIcon.Mode.Disabled:
            colour.setAlphaF(colour.alphaF() * _DISABLED_ALPHA)
        return colour

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        side = min(rect.width(), rect.height())
        square = QRectF(0, 0, side, side)
        square.moveCenter(QRectF(rect).center())
        _renderer(self._name, self._colour(mode, state).rgba()).render(painter, square)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        pixmap = QPixmap(size * scale)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.paint(painter, QRect(QPoint(0, 0), pixmap.size()), mode, state)
        painter.end()
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def clone(self) -> QIconEngine:
        return _SvgIconEngine(self._name, self._normal, self._on)

    def key(self) -> str:
        return "modeldeck-mdi"

    def isNull(self) -> bool:
        return False


def icon(name: str, color: str, color_on: str | None = None) -> QIcon:
    """The bundled icon ``name`` in ``color`` (``color_on`` when checked).

    Raises ``KeyError`` for a name that is not bundled, so a typo fails at the
    first call rather than drawing nothing.
    """
    _svg(name)
    return QIcon(_SvgIconEngine(name, QColor(color), QColor(color_on or color)))
