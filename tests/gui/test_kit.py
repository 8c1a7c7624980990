"""The UI kit: its table model passes Qt's model tester, its pills paint their tones."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from app.domain.health import HealthStatus
from app.ui.kit.pills import (
    DEPLOYMENT_PILL,
    paint_alias_pills,
    paint_pill,
    paint_status_pill,
    pill_size,
)
from app.ui.kit.table_model import RIGHT, ROW_ROLE, SORT_ROLE, Column, RowTableModel
from app.ui.theme import LIGHT

pytestmark = pytest.mark.gui


def test_row_table_model_passes_the_model_tester(qtmodeltester) -> None:
    model: RowTableModel[int] = RowTableModel(
        [
            Column("n", display=str, tooltip=lambda r: f"row {r}", align=RIGHT),
            Column("minus", display=lambda r: str(-r), sort=lambda r: -r),
        ]
    )
    model.set_rows([3, 1, 2])
    qtmodeltester.check(model, force_py=True)
    assert model.headerData(1, Qt.Orientation.Horizontal) == "minus"
    assert model.index(0, 0).data() == "3"
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "row 3"
    assert model.index(0, 0).data(ROW_ROLE) == 3
    assert model.index(0, 1).data(SORT_ROLE) == -3
    assert model.index(0, 0).data(SORT_ROLE) == "3"
    model.set_rows([])
    qtmodeltester.check(model, force_py=True)


def _canvas() -> QImage:
    image = QImage(300, 40, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    return image


def _has(image: QImage, color: str) -> bool:
    want = QColor(color)
    return any(
        image.pixelColor(x, y) == want for x in range(image.width()) for y in range(image.height())
    )


def test_pills_paint_in_their_tone(qapp) -> None:
    font = QFont()
    cell = QRect(0, 0, 300, 40)
    image = _canvas()
    p = QPainter(image)
    right = paint_pill(p, cell, font, "Running", QColor(LIGHT.healthy), style=DEPLOYMENT_PILL)
    p.end()
    assert right == DEPLOYMENT_PILL.inset + pill_size("Running", font, DEPLOYMENT_PILL).width()
    assert _has(image, LIGHT.healthy)  # the dot
    image = _canvas()
    p = QPainter(image)
    paint_status_pill(p, cell, font, LIGHT, HealthStatus.FAILING)
    p.end()
    assert _has(image, LIGHT.failing)
    image = _canvas()
    p = QPainter(image)
    paint_alias_pills(p, cell, font, [("champion", "3"), ("staging", "4")], LIGHT)
    p.end()
    assert _has(image, LIGHT.accent)
    assert _has(image, LIGHT.hover)
