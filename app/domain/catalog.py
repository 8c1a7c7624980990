"""Catalog-sync data shared by adapters, services and the UI: complete model
entries, pages, run data, and what a sync reports. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.domain.models import ModelVersion, RegisteredModel


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One registered model with *all* of its versions."""

    model: RegisteredModel
    versions: tuple[ModelVersion, ...]


@dataclass(frozen=True, slots=True)
class CatalogPage:
    """A batch of complete models, committed by the sync service in one transaction.

    ``cursor`` is what to store once the *whole* pass has gone through: a later
    ``pages(since=cursor)`` returns at least everything that changed after the
    pass began. Opaque to the caller; the same on every page of one pass.
    ``requests`` counts the HTTP requests this page cost.
    """

    entries: tuple[CatalogEntry, ...]
    cursor: str | None = None
    requests: int = 0


@dataclass(frozen=True, slots=True)
class RunData:
    """Parameters and metrics of the training run behind a version."""

    source: str
    run_id: str
    experiment_id: str | None = None
    name: str | None = None
    status: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    params: Mapping[str, str] = field(default_factory=dict)
    #: latest value of each metric
    metrics: Mapping[str, float] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    #: the run in the registry's web UI
    link: str | None = None
    #: when it was fetched from the registry
    fetched_at: datetime | None = None
    #: True when the registry could not be reached and this is the cached copy
    stale: bool = False


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Reported after every committed page (and at the start and end of each phase).

    ``phase``: ``"start"``, ``"models"`` (pages of complete models), ``"sweep"``
    (comparing every model's tags/aliases), ``"removing"``, ``"done"``.
    """

    source: str
    phase: str
    full: bool
    pages: int = 0
    models: int = 0
    versions: int = 0
    requests: int = 0
    elapsed_s: float = 0.0

    @property
    def models_per_s(self) -> float:
        return self.models / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What one source's sync did. ``error`` is set (and ``ok`` false) when it failed;
    the cache then holds every page committed before the failure and nothing else."""

    source: str
    mode: str  # "full", "incremental" or "quick"
    ok: bool = True
    cancelled: bool = False
    error: str | None = None
    #: the class name of the error (``Unreachable``, ``Unauthorized``, ``BadResponse`` …)
    error_kind: str | None = None
    models_seen: int = 0
    models_added: int = 0
    models_updated: int = 0
    models_removed: int = 0
    versions_seen: int = 0
    versions_added: int = 0
    versions_updated: int = 0
    versions_removed: int = 0
    pages: int = 0
    requests: int = 0
    duration_s: float = 0.0
    cursor: str | None = None
    started_at: datetime | None = None
