"""Health dots of the catalog: deployment statuses mapped onto models (no Qt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain.health import HealthStatus
from app.domain.models import Deployment, RegisteredModel
from app.services.browse import BrowseService, CatalogIndex, model_health
from app.store import queries
from app.store.db import Cache


@pytest.fixture
def index(tmp_path: Path) -> Iterator[CatalogIndex]:
    """``fraud`` in two registries, ``churn`` and ``idle`` in one; ``fraud`` is served
    twice on prod (one app names no registry) and once on staging for prod only."""
    cache = Cache.open(tmp_path / "cache.sqlite")
    with cache.write() as con:
        queries.upsert_models(
            con, [RegisteredModel("prod", "fraud"), RegisteredModel("prod", "churn")]
        )
        queries.upsert_models(
            con, [RegisteredModel("research", "fraud"), RegisteredModel("research", "idle")]
        )
        queries.replace_deployments(
            con,
            "ray",
            [
                Deployment("ray", "fraud-a", "fraud", model_source="prod"),
                Deployment("ray", "fraud-any", "fraud"),
                Deployment("ray", "churn", "churn", model_source="prod"),
            ],
        )
        queries.replace_deployments(
            con, "kserve", [Deployment("kserve", "fraud-b", "fraud", model_source="prod")]
        )
    cache.close()
    browse = BrowseService(tmp_path / "cache.sqlite")
    yield browse.load()
    browse.close()


def test_worst_status_over_a_models_deployments(index: CatalogIndex) -> None:
    health = model_health(
        index,
        {
            ("ray", "fraud-a"): HealthStatus.HEALTHY,
            ("kserve", "fraud-b"): HealthStatus.FAILING,
            ("ray", "fraud-any"): HealthStatus.DEGRADED,
            ("ray", "churn"): HealthStatus.HEALTHY,
        },
    )
    assert health == {
        ("prod", "fraud"): HealthStatus.FAILING,
        # an app that names no registry counts for every registry's model of that name
        ("research", "fraud"): HealthStatus.DEGRADED,
        ("prod", "churn"): HealthStatus.HEALTHY,
    }


def test_unknown_ranks_between_healthy_and_degraded(index: CatalogIndex) -> None:
    health = model_health(
        index,
        {("ray", "fraud-a"): HealthStatus.HEALTHY, ("ray", "fraud-any"): HealthStatus.UNKNOWN},
    )
    assert health[("prod", "fraud")] is HealthStatus.UNKNOWN


def test_models_without_a_known_status_have_none(index: CatalogIndex) -> None:
    assert model_health(index, {}) == {}
    # statuses of apps the cache no longer lists are ignored
    assert model_health(index, {("ray", "gone"): HealthStatus.FAILING}) == {}
    health = model_health(index, {("ray", "churn"): HealthStatus.FAILING})
    assert set(health) == {("prod", "churn")}
