"""A Ray Serve application serving ``models:/NAME/VERSION`` from an MLflow registry.

Import path ``modeldeck_serving.app:build``; args (written by Modeldeck)::

    {"tracking_uri": "http://mlflow:5000", "model_name": "fraud",
     "stable_version": "6", "canary_version": "7", "canary_percent": 10}

Each request goes to the canary with probability ``canary_percent``/100; the answer says
which version answered (``x-modeldeck-version`` header and ``version`` in the JSON).
A request can be pinned to one of the versions the app serves with the same request
header ``x-modeldeck-version: V`` (or the query parameter ``?modeldeck_version=V``); a
version the app does not serve gets 404 naming the versions it does. Without either, the
weighted split decides, as before.
Request ``{"inputs": [[...]]}`` → ``{"predictions": [...], "model": NAME, "version": V}``;
a body without ``inputs`` gets 400, a model that fails to predict 500.

One Ray deployment serves every version, so Ray's own metrics cannot tell a canary from
its stable version. The app counts each request per version itself, through Ray's
metrics agent (so Prometheus scrapes them where it scrapes Ray):

* ``ray_modeldeck_requests_total{model_version, code}`` — requests by HTTP status;
* ``ray_modeldeck_latency_ms_bucket{model_version, le}`` — time to answer, in ms.

Ray adds ``application``, ``deployment`` and ``replica`` to both.
"""

from __future__ import annotations

import random
import time
from typing import Any

from ray import serve
from ray.serve import metrics
from starlette.requests import Request
from starlette.responses import JSONResponse

#: latency buckets, ms (as Ray Serve's own request-latency histogram)
LATENCY_BOUNDARIES_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000]


#: request header (or query parameter) pinning a request to one served version; the same
#: header on the answer names the version that answered
VERSION_HEADER = "x-modeldeck-version"
VERSION_PARAM = "modeldeck_version"


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (1 << 62, version)


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
        self.requests = metrics.Counter(
            "modeldeck_requests",
            description="Requests answered, by model version and HTTP status.",
            tag_keys=("model_version", "code"),
        )
        self.latency = metrics.Histogram(
            "modeldeck_latency_ms",
            description="Time to answer a request, by model version, in milliseconds.",
            boundaries=LATENCY_BOUNDARIES_MS,
            tag_keys=("model_version",),
        )

    async def __call__(self, request: Request) -> JSONResponse:
        started = time.perf_counter()
        pinned = request.headers.get(VERSION_HEADER) or request.query_params.get(VERSION_PARAM)
        if pinned:
            version = pinned.strip()
            if version not in self.models:
                served = ", ".join(sorted(self.models, key=_version_key))
                return JSONResponse(
                    {
                        "error": f"{self.name} v{version} is not served here (serving: {served})",
                        "versions": sorted(self.models, key=_version_key),
                    },
                    status_code=404,
                )
        else:
            version = self.stable
            if self.canary and random.uniform(0, 100) < self.percent:  # noqa: S311 - split
                version = self.canary
        response = await self._answer(request, version)
        self.requests.inc(tags={"model_version": version, "code": str(response.status_code)})
        self.latency.observe(
            (time.perf_counter() - started) * 1000, tags={"model_version": version}
        )
        return response

    async def _answer(self, request: Request, version: str) -> JSONResponse:
        import pandas as pd

        try:
            body = await request.json()
            frame = pd.DataFrame(body["inputs"])
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse(
                {"error": f'expected JSON {{"inputs": [[...], ...]}}: {exc!r}'}, status_code=400
            )
        try:
            predictions = self.models[version].predict(frame)
        except Exception as exc:  # noqa: BLE001 - the model's own failure: answer it, count it
            return JSONResponse(
                {"error": f"model {self.name} v{version} failed: {exc!r}", "version": version},
                status_code=500,
                headers={VERSION_HEADER: version},
            )
        return JSONResponse(
            {"predictions": _plain(predictions), "model": self.name, "version": version},
            headers={VERSION_HEADER: version},
        )


def build(args: dict[str, Any]) -> Any:
    return Model.bind(dict(args))
