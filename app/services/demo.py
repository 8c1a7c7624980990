"""A generated, realistic catalog for the demo workspace and the benchmarks.

Deterministic: the same ``seed`` and ``now`` give the same catalog, row for
row. Fast: models are written in batches of ``batch`` per transaction through
the same bulk upsert a sync uses.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from app.domain.models import (
    Deployment,
    DeploymentStatus,
    ModelVersion,
    RegisteredModel,
    SourceState,
    VersionStatus,
)
from app.store import queries
from app.store.db import Cache

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
REGISTRIES = [("mlflow-prod", "https://mlflow.prod.example"), ("mlflow-research", "")]
CHANGES = ["new features", "more data", "tuned", "bug fix", "recalibrated"]
TARGETS = ["prod-ray", "staging-ray", "kserve-eu"]
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


@dataclass(frozen=True)
class DemoStats:
    models: int
    versions: int
    deployments: int


def _description(rng: random.Random, team: str, task: str, flavor: str, dataset: str) -> str:
    metric = rng.choice(["AUC", "F1", "MAPE", "NDCG@10", "accuracy", "recall@50"])
    return (
        f"**{task.replace('-', ' ').capitalize()}** for the *{team}* team, "
        f"trained with `{flavor}` on `{dataset}`.\n\n"
        f"- Primary metric: {metric}\n"
        f"- Retrained {rng.choice(['daily', 'weekly', 'monthly', 'on drift'])}\n"
        f"- On-call: #{team}-ml"
    )


def generate(
    cache: Cache,
    models: int = 2000,
    versions: int | None = None,
    *,
    seed: int = 7,
    now: datetime | None = None,
    batch: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> DemoStats:
    """Fill ``cache`` with ``models`` models and about ``versions`` versions
    (default 5 per model), spread over two registries, plus deployments."""
    rng = random.Random(seed)
    now = (now or datetime.now(tz=UTC)).replace(microsecond=0)
    versions = versions if versions is not None else models * 5
    mean = max(1.0, versions / max(models, 1))
    teams = sorted(TEAMS)
    used: set[tuple[str, str]] = set()
    total_versions = 0
    deployments: dict[str, dict[str, Deployment]] = {t: {} for t in TARGETS}
    pending: dict[str, tuple[list[RegisteredModel], dict[str, list[ModelVersion]]]] = {}

    def flush(source: str) -> None:
        ms, vs = pending.pop(source, ([], {}))
        if ms:
            with cache.write() as con:
                queries.upsert_models(con, ms, vs)

    for i in range(models):
        source = REGISTRIES[0][0] if rng.random() < 0.85 else REGISTRIES[1][0]
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
            web_url=(f"{REGISTRIES[0][1]}/#/models/{name}" if source == REGISTRIES[0][0] else None),
        )
        total_versions += len(vs)
        ms, mvs = pending.setdefault(source, ([], {}))
        ms.append(model)
        mvs[name] = vs
        if len(ms) >= batch:
            flush(source)
            if progress:
                progress(i + 1, models)
        if "champion" in aliases and rng.random() < 0.06:
            target = TARGETS[0] if rng.random() < 0.6 else rng.choice(TARGETS[1:])
            dep = _deployment(rng, target, model, aliases, now)
            deployments[target].setdefault(dep.app, dep)
    for source in list(pending):
        flush(source)
    with cache.write() as con:
        for target, deps in deployments.items():
            queries.replace_deployments(con, target, list(deps.values()))
        for i, (source, url) in enumerate(REGISTRIES):
            queries.save_source(
                con,
                SourceState(
                    name=source,
                    kind="mlflow",
                    url=url,
                    last_sync_at=now - timedelta(minutes=7 + 50 * i),
                    last_full_sync_at=now - timedelta(hours=3 + i),
                ),
            )
    if progress:
        progress(models, models)
    return DemoStats(models, total_versions, sum(len(d) for d in deployments.values()))


def _deployment(
    rng: random.Random, target: str, model: RegisteredModel, aliases: dict[str, str], now: datetime
) -> Deployment:
    stable = aliases["champion"]
    traffic = {stable: 100}
    if "challenger" in aliases and aliases["challenger"] != stable and rng.random() < 0.5:
        share = rng.choice([5, 10, 20, 50])
        traffic = {stable: 100 - share, aliases["challenger"]: share}
    status = rng.choices(
        [
            DeploymentStatus.RUNNING,
            DeploymentStatus.UNHEALTHY,
            DeploymentStatus.DEPLOYING,
            DeploymentStatus.DEPLOY_FAILED,
        ],
        weights=[88, 5, 4, 3],
    )[0]
    message = {
        DeploymentStatus.UNHEALTHY: "replica health check failed 3 times",
        DeploymentStatus.DEPLOY_FAILED: "ModuleNotFoundError: No module named 'xgboost'",
        DeploymentStatus.DEPLOYING: "waiting for 1 replica to start",
    }.get(status, "")
    return Deployment(
        target=target,
        app=model.name[:48],
        model_name=model.name,
        model_source=model.source,
        traffic=traffic,
        replicas=rng.choice([1, 1, 2, 2, 3, 4, 8]),
        status=status,
        message=message,
        route=f"/{model.name[:48]}",
        updated_at=now - timedelta(hours=rng.uniform(1, 400)),
    )
