"""Seed the sandbox's MLflow server (run by the MLflow venv's python, never the app's).

    python seed_registry.py TRACKING_URI

32 registered models: 30 from six teams, with owners, flavours, tags, aliases,
Markdown descriptions and one to four versions each; and two REAL scikit-learn models,
two versions each, trained on the datasets scikit-learn ships (no download), logged with
params, metrics and a signature so they serve from Ray and compare in Modeldeck:

* ``iris-classifier``   v1 LogisticRegression, v2 StandardScaler + LogisticRegression (C=2)
* ``diabetes-regressor`` v1 LinearRegression, v2 Ridge

Prints one line per model. Idempotent enough for a re-run: existing models are skipped.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import mlflow  # type: ignore[import-not-found]  # the MLflow venv only
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException  # type: ignore[import-not-found]

warnings.filterwarnings("ignore")

TEAMS = {
    "fraud": (
        "ana",
        ["fraud-detector", "chargeback-risk", "account-takeover", "merchant-score", "refund-abuse"],
    ),
    "search": (
        "bo",
        ["search-ranker", "query-intent", "spell-corrector", "autocomplete", "related-items"],
    ),
    "nlp": (
        "chen",
        ["sentiment-en", "toxicity-filter", "ner-products", "summarizer-support", "lang-id"],
    ),
    "vision": (
        "dara",
        ["image-tagger", "ocr-receipts", "logo-detector", "nsfw-filter", "face-blur"],
    ),
    "growth": (
        "eli",
        ["churn-predictor", "ltv-estimator", "upsell-propensity", "email-timing", "promo-uplift"],
    ),
    "risk": (
        "femi",
        ["credit-score", "limit-optimizer", "collections-priority", "kyc-match", "aml-alerts"],
    ),
}
FLAVORS = ["sklearn", "xgboost", "pytorch", "transformers", "lightgbm", "onnx"]
TASKS = ["classification", "ranking", "regression", "nlp", "vision", "forecasting"]
REGIONS = ["eu", "us", "apac"]


def description(name: str, team: str, owner: str, flavor: str) -> str:
    return (
        f"# {name}\n\n"
        f"Owned by the **{team}** team (`@{owner}`). Framework: `{flavor}`.\n\n"
        "## Inputs\n\n- features from the `{team}_features_v3` table\n- refreshed nightly\n\n"
        "## Notes\n\n| metric | target |\n|---|---|\n| p95 latency | < 300 ms |\n"
        "| error rate | < 1 % |\n"
    ).replace("{team}", team)


def seed_catalog(client: MlflowClient) -> int:
    made = 0
    for t, (team, (owner, names)) in enumerate(TEAMS.items()):
        for i, name in enumerate(names):
            flavor = FLAVORS[(t + i) % len(FLAVORS)]
            tags = {
                "team": team,
                "owner": owner,
                "flavor": flavor,
                "task": TASKS[t % len(TASKS)],
                "region": REGIONS[(t + i) % len(REGIONS)],
                "tier": "critical" if i == 0 else "standard",
            }
            try:
                client.create_registered_model(
                    name, tags=tags, description=description(name, team, owner, flavor)
                )
            except MlflowException:
                print("exists", name)
                continue
            versions = 1 + (t + 2 * i) % 4
            for v in range(1, versions + 1):
                client.create_model_version(
                    name,
                    source=f"s3://ml-models/{team}/{name}/v{v}",
                    tags={"validated": "yes" if v < versions else "pending"},
                    description=f"Retrained on {2026 - (versions - v) // 2}-Q{1 + v % 4} data.",
                )
            client.set_registered_model_alias(name, "champion", str(max(1, versions - 1)))
            if versions > 1:
                client.set_registered_model_alias(name, "challenger", str(versions))
            made += 1
            print("model", name, versions)
    return made


def seed_real(client: MlflowClient) -> None:
    import numpy as np
    from sklearn.datasets import load_diabetes, load_iris  # type: ignore[import-not-found]
    from sklearn.linear_model import (  # type: ignore[import-not-found]
        LinearRegression,
        LogisticRegression,
        Ridge,
    )
    from sklearn.model_selection import train_test_split  # type: ignore[import-not-found]
    from sklearn.pipeline import make_pipeline  # type: ignore[import-not-found]
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-not-found]

    mlflow.set_experiment("sandbox")
    real: dict[str, Any] = {
        "iris-classifier": (
            load_iris(return_X_y=True),
            [
                ("LogisticRegression", LogisticRegression(max_iter=300), {"max_iter": 300}),
                (
                    "StandardScaler+LogisticRegression",
                    make_pipeline(StandardScaler(), LogisticRegression(C=2.0, max_iter=300)),
                    {"C": 2.0, "max_iter": 300, "scaler": "standard"},
                ),
            ],
            "accuracy",
        ),
        "diabetes-regressor": (
            load_diabetes(return_X_y=True),
            [
                ("LinearRegression", LinearRegression(), {}),
                ("Ridge", Ridge(alpha=0.5), {"alpha": 0.5}),
            ],
            "r2",
        ),
    }
    for name, ((x, y), candidates, metric) in real.items():
        try:
            done = len(client.search_model_versions(f"name = '{name}'")) >= len(candidates)
            if done:
                print("exists", name)
                continue
            client.delete_registered_model(name)  # half-written by an interrupted seed
        except MlflowException:
            pass
        client.create_registered_model(
            name,
            tags={"team": "sandbox", "owner": "modeldeck", "flavor": "sklearn", "serves": "yes"},
            description=(
                f"# {name}\n\nA real scikit-learn model trained on the dataset scikit-learn "
                "ships; it **serves** from the sandbox's Ray cluster.\n\n"
                f'```json\n{{"inputs": {np.round(x[:1], 3).tolist()}}}\n```\n'
            ),
        )
        x_train, x_test, y_train, y_test = train_test_split(x, y, random_state=0)
        for algo, model, params in candidates:
            with mlflow.start_run(run_name=f"{name}-{algo}"):
                model.fit(x_train, y_train)
                mlflow.log_params({"algorithm": algo, **params})
                mlflow.log_metric(metric, float(model.score(x_test, y_test)))
                mlflow.log_metric("train_rows", float(len(x_train)))
                info = mlflow.sklearn.log_model(
                    model, name="model", input_example=x_train[:2], registered_model_name=name
                )
            print("model", name, info.registered_model_version, algo)
        client.set_registered_model_alias(name, "champion", "1")
        client.set_registered_model_alias(name, "challenger", "2")


def main() -> None:
    uri = sys.argv[1]
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    seed_real(client)
    seed_catalog(client)


if __name__ == "__main__":
    main()
