"""The catalog-source role: what a model registry adapter offers the sync service.

A source hands out *complete* models: a :class:`CatalogEntry` always carries
every version the registry has for that model, so the sync service can commit
a page of entries in one transaction and never leave half a model behind.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from app.domain.catalog import CatalogEntry, CatalogPage, RunData
from app.domain.models import RegisteredModel

__all__ = ["CatalogEntry", "CatalogPage", "CatalogSource", "RunData"]


@runtime_checkable
class CatalogSource(Protocol):
    """A model registry seen as a source of catalog pages.

    Every method raises only :class:`app.domain.errors.BackendError` subclasses;
    a reply that does not fit raises ``BadResponse`` naming the field, before
    anything of it reaches the caller.
    """

    name: str

    def pages(self, *, since: str | None = None) -> Iterator[CatalogPage]:
        """Every model (``since=None``: a full pass), or at least every model changed
        since the cursor ``since`` (an incremental pass), in pages of complete models.
        """
        ...

    def heads(self) -> Iterator[tuple[RegisteredModel, ...]]:
        """Every model's header (fields, tags, aliases) without versions, in pages:
        what a sweep compares with the cache to find alias and tag changes and
        deletions that move no timestamp."""
        ...

    def complete(self, names: Sequence[str]) -> tuple[CatalogEntry, ...]:
        """Complete entries for the models among ``names`` that exist (others left out)."""
        ...

    def get_model(self, name: str) -> CatalogEntry | None:
        """One model with its versions, or ``None`` when the registry has no such model."""
        ...

    def run_data(self, run_id: str) -> RunData:
        """Params and metrics of one run (``BackendNotFound`` when it does not exist)."""
        ...

    def close(self) -> None: ...
