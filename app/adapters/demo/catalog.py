"""The demo catalog, generated, and the demo registry that hands it out.

``build`` is deterministic: the same ``models``, ``versions``, ``seed`` and ``now``
give the same catalog, model for model. The demo generator (``app.services.demo``)
fills the demo cache with it, and ``DemoRegistry`` (kind ``demo-registry``) hands the
same catalog to a sync, so syncing the demo changes nothing and removes nothing.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property

from app.adapters.catalog import ReadOnlyRegistry
from app.adapters.demo import world as worlds
from app.domain.catalog import CatalogEntry, CatalogPage, RunData
from app.domain.deploy import app_name_for
from app.domain.errors import BackendNotFound
from app.domain.models import (
    Backend,
    Deployment,
    DeploymentStatus,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
)

TEAMS = {
    "fraud": ["transaction-scorer", "chargeback-risk", "account-takeover", "merchant-anomaly"],
    "search": ["query-intent", "reranker", "spell-correct", "autocomplete"],
    "ranking": ["feed-ranker", "ctr-predictor", "diversity-mixer", "candidate-gen"],
    "nlp": ["sentiment", "ner-tagger", "toxicity", "summarizer", "lang-id", "embedder"],
    "vision": ["defect-detector", "ocr", "image-tagger", "face-blur", "segmenter"],
    "risk": ["credit-limit", "default-predictor", "kyc-matcher"],
    "pricing": ["dynamic-price", "elasticity", "discount-optimizer"],
    "forecasting": ["demand-forecast", "inventory-planner", "eta-predictor", "load-forecast"],
    "growth": ["churn-predictor", "ltv-estimator", "uplift-model", "lead-scorer"],
    "ads": ["bid-shading", "click-model", "budget-pacer", "audience-expander"],
}
FLAVORS = {
    "fraud": ["xgboost", "lightgbm", "sklearn"],
    "search": ["transformers", "pytorch", "onnx"],
    "ranking": ["lightgbm", "pytorch", "tensorflow"],
    "nlp": ["transformers", "pytorch", "onnx"],
    "vision": ["pytorch", "onnx", "tensorflow"],
    "risk": ["sklearn", "xgboost", "catboost"],
    "pricing": ["sklearn", "lightgbm", "xgboost"],
    "forecasting": ["prophet", "lightgbm", "pytorch"],
    "growth": ["sklearn", "xgboost", "catboost"],
    "ads": ["tensorflow", "lightgbm", "pytorch"],
}
OWNERS = [
    "ana.silva",
    "bo.chen",
    "carla.mendes",
    "dmitri.ivanov",
    "elif.kaya",
    "farah.haddad",
    "goran.petrovic",
    "hana.sato",
    "ines.garcia",
    "jonas.weber",
    "kofi.mensah",
    "lena.novak",
    "mateo.rossi",
    "nadia.karimi",
    "oskar.lind",
    "priya.nair",
    "quentin.moreau",
    "rosa.jimenez",
]
REGIONS = ["eu-west", "us-east", "ap-south"]
DATASETS = ["events-2026q3", "events-2026q2", "labels-v4", "clickstream-30d", "ledger-90d"]
#: the demo registries (backends of kind demo-registry in the demo workspace)
REGISTRIES = ["mlflow-prod", "mlflow-research"]
CHANGES = ["new features", "more data", "tuned", "bug fix", "recalibrated"]
#: the demo clusters (kind demo-cluster); production models run mostly on the first
TARGETS = ["prod-us", "prod-eu", "staging"]
VARIANTS = ["", "", "-v2", "-lite", "-xl", "-batch", "-rt", "-distilled", "-gbm", "-dnn"]
SEGMENTS = [
    "",
    "checkout",
    "payments",
    "marketplace",
    "mobile",
    "web",
    "emea",
    "latam",
    "apac",
    "smb",
    "enterprise",
    "grocery",
    "travel",
    "retail",
    "b2b",
    "creators",
]


def _description(rng: random.Random, team: str, task: str, flavor: str, dataset: str) -> str:
    metric = rng.choice(["AUC", "F1", "MAPE", "NDCG@10", "accuracy", "recall@50"])
    return (
        f"**{task.replace('-', ' ').capitalize()}** for the *{team}* team, "
        f"trained with `{flavor}` on `{dataset}`.\n\n"
        f"- Primary metric: {metric}\n"
        f"- Retrained {rng.choice(['daily', 'weekly', 'monthly', 'on drift'])}\n"
        f"- On-call: #{team}-ml"
    )


@dataclass(frozen=True)
class DemoCatalog:
    """A generated catalog: complete models per registry and deployments per cluster."""

    now: datetime
    entries: dict[str, list[CatalogEntry]] = field(default_factory=dict)
    deployments: dict[str, list[Deployment]] = field(default_factory=dict)

    @property
    def versions(self) -> int:
        return sum(len(e.versions) for es in self.entries.values() for e in es)

    def runs(self, source: str) -> dict[str, tuple[RegisteredModel, ModelVersion]]:
        return {
            v.run_id: (e.model, v)
            for e in self.entries.get(source, [])
            for v in e.versions
            if v.run_id
        }


def build(
    models: int = 2000,
    versions: int | None = None,
    *,
    seed: int = 7,
    now: datetime | None = None,
) -> DemoCatalog:
    """``models`` models and about ``versions`` versions (default 5 per model), spread
    over the demo registries, and deployments of some champions on the demo clusters."""
    rng = random.Random(seed)  # noqa: S311 - deterministic fake data, not secrets
    now = (now or datetime.now(tz=UTC)).replace(microsecond=0)
    versions = versions if versions is not None else models * 5
    mean = max(1.0, versions / max(models, 1))
    teams = sorted(TEAMS)
    used: set[tuple[str, str]] = set()
    out = DemoCatalog(now, {r: [] for r in REGISTRIES}, {t: [] for t in TARGETS})
    apps: dict[str, set[str]] = {t: set() for t in TARGETS}
    for i in range(models):
        source = REGISTRIES[0] if rng.random() < 0.85 else REGISTRIES[1]
        team = teams[i % len(teams)] if i < len(teams) else rng.choice(teams)
        task = rng.choice(TEAMS[team])
        segment = rng.choice(SEGMENTS)
        name = f"{team}-{segment + '-' if segment else ''}{task}{rng.choice(VARIANTS)}"
        n = 1
        while (source, name) in used:
            n += 1
            name = f"{team}-{task}-{n}"
        used.add((source, name))
        flavor = rng.choice(FLAVORS[team])
        owner = rng.choice(OWNERS)
        dataset = rng.choice(DATASETS)
        count = max(1, min(int(rng.expovariate(1 / mean) + 0.5), int(mean * 8) + 1))
        created = now - timedelta(days=rng.uniform(20, 700))
        span = (now - created).total_seconds()
        vs: list[ModelVersion] = []
        for v in range(1, count + 1):
            at = created + timedelta(seconds=span * (v / (count + 1)) * rng.uniform(0.8, 1.0))
            failed = rng.random() < 0.02
            status = VersionStatus.FAILED_REGISTRATION if failed else VersionStatus.READY
            run_id = f"{rng.getrandbits(128):032x}"
            score = 0.70 + 0.25 * (v / count) + rng.uniform(-0.02, 0.02)
            vs.append(
                ModelVersion(
                    source=source,
                    model_name=name,
                    version=str(v),
                    status=status,
                    stage=None if v >= count - 1 else rng.choice([None, None, "Archived"]),
                    source_uri=f"runs:/{run_id}/model",
                    run_id=run_id,
                    run_link=None,
                    description=f"Retrained on {dataset}; {rng.choice(CHANGES)}",
                    tags={
                        "val_score": f"{score:.4f}",
                        "dataset": dataset,
                        "git_sha": f"{rng.getrandbits(28):07x}",
                    },
                    created_at=at,
                    updated_at=at,
                    flavor=flavor,
                )
            )
        aliases: dict[str, str] = {}
        ready = [v for v in vs if v.status is VersionStatus.READY]
        if ready:
            # usually the newest ready version is champion; sometimes it is still being
            # evaluated as challenger against the previous one
            if len(ready) > 1 and rng.random() < 0.3:
                aliases["champion"] = ready[-2].version
                aliases["challenger"] = ready[-1].version
            else:
                aliases["champion"] = ready[-1].version
            if len(ready) > 2 and rng.random() < 0.1:
                aliases["shadow"] = ready[0].version
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(version, []).append(alias)
        vs = [replace(v, aliases=tuple(sorted(by_version.get(v.version, [])))) for v in vs]
        tags = {
            "team": team,
            "framework": flavor,
            "task": task,
            "region": rng.choice(REGIONS),
            "tier": rng.choice(["1", "2", "2", "3"]),
        }
        if rng.random() < 0.2:
            tags["pii"] = "true"
        model = RegisteredModel(
            source=source,
            name=name,
            description=_description(rng, team, task, flavor, dataset),
            tags=tags,
            aliases=aliases,
            owner=owner,
            flavor=flavor,
            created_at=created,
            updated_at=max((v.updated_at for v in vs if v.updated_at), default=created),
            web_url=None,
        )
        out.entries[source].append(CatalogEntry(model, tuple(vs)))
        # production serves the main registry's champions; research models stay there
        if "champion" in aliases and rng.random() < 0.07 and source == REGISTRIES[0]:
            target = TARGETS[0] if rng.random() < 0.6 else rng.choice(TARGETS[1:])
            dep = _deployment(rng, target, model, aliases, now)
            if dep.app not in apps[target]:
                apps[target].add(dep.app)
                out.deployments[target].append(dep)
    return out


def _deployment(
    rng: random.Random, target: str, model: RegisteredModel, aliases: dict[str, str], now: datetime
) -> Deployment:
    stable = aliases["champion"]
    traffic = {stable: 100}
    if "challenger" in aliases and aliases["challenger"] != stable and rng.random() < 0.5:
        share = rng.choice([5, 10, 20, 50])
        traffic = {stable: 100 - share, aliases["challenger"]: share}
    status = rng.choices(
        [DeploymentStatus.RUNNING, DeploymentStatus.UNHEALTHY, DeploymentStatus.DEPLOY_FAILED],
        weights=[92, 5, 3],
    )[0]
    replicas = rng.choice([1, 1, 2, 2, 3, 4, 8])
    if status is DeploymentStatus.UNHEALTHY:
        replicas = max(2, replicas)
    message = {
        DeploymentStatus.UNHEALTHY: "replica health check failed 3 times",
        DeploymentStatus.DEPLOY_FAILED: BROKEN_MESSAGE,
    }.get(status, "")
    app = app_name_for(model.name)
    return Deployment(
        target=target,
        app=app,
        model_name=model.name,
        model_source=model.source,
        traffic=traffic,
        replicas=replicas,
        status=status,
        message=message,
        route=f"/{app}",
        updated_at=now - timedelta(hours=rng.uniform(1, 400)),
    )


#: what a version that cannot start on the demo cluster fails with (simulated)
BROKEN_MESSAGE = (
    "ModuleNotFoundError: No module named 'xgboost' — the serving image lacks this "
    "version's dependency (simulated failure)"
)


# ------------------------------------------------------------------ the registry
PAGE = 500


def demo_url(name: str) -> str:
    """The URL a demo backend shows: a reserved name that never resolves (RFC 2606)."""
    return f"https://{name}.demo.invalid"


def catalog_of(world: worlds.World) -> DemoCatalog:
    """The catalog the demo workspace was generated with, rebuilt (deterministic)."""
    spec = world.catalog
    now = datetime.fromisoformat(str(spec.get("now")))
    raw_versions = spec.get("versions")
    return build(
        int(spec.get("models", 2000)),
        int(raw_versions) if isinstance(raw_versions, int) else None,
        seed=int(spec.get("seed", 7)),
        now=now,
    )


def run_data(source: str, model: RegisteredModel, version: ModelVersion) -> RunData:
    """Plausible params and metrics of the run behind a demo version (from its run id
    and its ``val_score`` tag, so Compare shows a trend across versions)."""
    assert version.run_id is not None
    h = hashlib.sha256(version.run_id.encode()).digest()
    rng = random.Random(h)  # noqa: S311 - deterministic fake data
    score = float(version.tags.get("val_score", "0.8"))
    flavor = version.flavor or model.flavor or "sklearn"
    params = {
        "learning_rate": f"{rng.choice([0.01, 0.03, 0.05, 0.1, 0.2])}",
        "max_depth": str(rng.choice([4, 6, 8, 10, 12])),
        "n_estimators": str(rng.choice([100, 200, 400, 800])),
        "batch_size": str(rng.choice([64, 128, 256, 512])),
        "dataset": version.tags.get("dataset", ""),
        "framework": flavor,
        "seed": str(rng.randrange(1, 10_000)),
    }
    metrics = {
        "val_score": score,
        "val_auc": min(0.999, score + rng.uniform(0.01, 0.04)),
        "val_f1": max(0.0, score - rng.uniform(0.02, 0.06)),
        "val_loss": max(0.01, (1 - score) * rng.uniform(0.9, 1.3)),
        "train_loss": max(0.01, (1 - score) * rng.uniform(0.6, 0.9)),
        "train_minutes": round(rng.uniform(4, 240), 1),
    }
    started = (
        version.created_at - timedelta(minutes=metrics["train_minutes"] + 5)
        if (version.created_at)
        else None
    )
    ended = version.created_at - timedelta(minutes=5) if version.created_at else None
    return RunData(
        source=source,
        run_id=version.run_id,
        experiment_id=str(int.from_bytes(h[:2], "big") % 400 + 1),
        name=f"{model.name}-v{version.version}",
        status="FINISHED",
        started_at=started,
        ended_at=ended,
        params=params,
        metrics=metrics,
        tags={"mlflow.user": model.owner or "", "demo": "generated"},
        link=None,
    )


class DemoRegistry(ReadOnlyRegistry):
    """A ``CatalogSource`` over the generated demo catalog (kind ``demo-registry``).

    Nothing changes in a demo registry after it was generated: a full pass hands out
    every model, an incremental one nothing new, and the sweep sees what the cache has.
    It writes nothing (every registry write is refused with ``NotSupported``).
    """

    read_only_reason = "the demo registry is read-only (generated data)"

    def __init__(self, backend: Backend) -> None:
        self.name = backend.name
        self._dir = worlds.workspace_of(backend)

    @cached_property
    def _catalog(self) -> DemoCatalog:
        return catalog_of(worlds.load(self.name, self._dir))

    @property
    def _entries(self) -> list[CatalogEntry]:
        entries = self._catalog.entries.get(self.name)
        if entries is None:
            raise BackendNotFound(self.name, "this demo workspace has no registry of that name")
        return entries

    def _cursor(self) -> str:
        return str(int(self._catalog.now.timestamp() * 1000))

    def pages(self, *, since: str | None = None) -> Iterator[CatalogPage]:
        entries = self._entries
        cursor = self._cursor()
        if since is not None and since >= cursor:
            yield CatalogPage((), cursor, 1)
            return
        for i in range(0, len(entries), PAGE):
            yield CatalogPage(tuple(entries[i : i + PAGE]), cursor, 1)

    def heads(self) -> Iterator[tuple[RegisteredModel, ...]]:
        entries = self._entries
        for i in range(0, len(entries), PAGE):
            yield tuple(e.model for e in entries[i : i + PAGE])

    def complete(self, names: Sequence[str]) -> tuple[CatalogEntry, ...]:
        by_name = {e.model.name: e for e in self._entries}
        return tuple(by_name[n] for n in names if n in by_name)

    def get_model(self, name: str) -> CatalogEntry | None:
        found = self.complete([name])
        return found[0] if found else None

    def run_data(self, run_id: str) -> RunData:
        found = self._catalog.runs(self.name).get(run_id)
        if found is None:
            raise BackendNotFound(self.name, f"no run {run_id!r} in this demo registry")
        return run_data(self.name, *found)

    def close(self) -> None:
        pass
