"""A segmented control: exclusive, checkable buttons side by side (styled by ``page_qss``)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QWidget

from app.ui.kit.widgets import named


def segmented(labels: Sequence[str], parent: QWidget | None = None) -> tuple[QWidget, QButtonGroup]:
    """The control and its button group (button ids are the labels' positions)."""
    box = QWidget(parent)
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    group = QButtonGroup(box)
    group.setExclusive(True)
    for i, label in enumerate(labels):
        name = "segmentFirst" if i == 0 else "segmentLast" if i == len(labels) - 1 else "segment"
        b = named(QPushButton(label), name)
        b.setCheckable(True)
        # room for the label in the checked state's semibold too, so it never clips
        bold = QFont(b.font())
        bold.setWeight(QFont.Weight.DemiBold)
        b.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(label) + 30)
        b.setAccessibleName(f"Window {label}")
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        group.addButton(b, i)
        lay.addWidget(b)
    return box, group
