"""Transitional, removed when pages move: the kit's widgets under their old name."""

from app.ui.kit.delegates import TokenDelegate
from app.ui.kit.widgets import EmptyState, PageHeader, counted, exact_time, named, relative_time

__all__ = ["EmptyState", "PageHeader", "TokenDelegate", "counted", "exact_time", "named"]
__all__ += ["relative_time"]
