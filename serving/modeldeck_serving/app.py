"""A Ray Serve application serving ``models:/NAME/VERSION`` from an MLflow registry.

Import path ``modeldeck_serving.app:build``; args (written by Modeldeck)::

    {"tracking_uri": "http://mlflow:5000", "model_name": "fraud",
     "stable_version": "6", "canary_version": "7", "canary_percent": 10}

Each request goes to the canary with probability ``canary_percent``/100; the answer says
which version answered (``x-modeldeck-version`` header and ``version`` in the JSON).
Request ``{"inputs": [[...]]}`` → ``{"predictions": [...], "model": NAME, "version": V}``.
"""

from __future__ import annotations

import random
from typing import Any

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


@serve.deployment(name="Model")
class Model:
    def __init__(self, args: dict[str, Any]) -> None:
        import mlflow

        mlflow.set_tracking_uri(args["tracking_uri"])
        self.name = str(args["model_name"])
        self.stable = str(args["stable_version"])
        self.canary = str(args["canary_version"]) if args.get("canary_version") else None
        self.percent = int(args.get("canary_percent") or 0) if self.canary else 0
        self.models = {self.stable: mlflow.pyfunc.load_model(f"models:/{self.name}/{self.stable}")}
        if self.canary:
            self.models[self.canary] = mlflow.pyfunc.load_model(
                f"models:/{self.name}/{self.canary}"
            )

    async def __call__(self, request: Request) -> JSONResponse:
        import pandas as pd

        try:
            body = await request.json()
            frame = pd.DataFrame(body["inputs"])
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse(
                {"error": f'expected JSON {{"inputs": [[...], ...]}}: {exc!r}'}, status_code=400
            )
        version = self.stable
        if self.canary and random.uniform(0, 100) < self.percent:  # noqa: S311 - traffic split
            version = self.canary
        predictions = self.models[version].predict(frame)
        return JSONResponse(
            {"predictions": _plain(predictions), "model": self.name, "version": version},
            headers={"x-modeldeck-version": version},
        )


def build(args: dict[str, Any]) -> Any:
    return Model.bind(dict(args))
