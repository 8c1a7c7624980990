"""Malformed and hostile MLflow replies are rejected at the adapter edge with
``BadResponse`` naming the field, and change nothing in the cache.

This is the one place a stand-in answers instead of a real MLflow: an
``httpx.MockTransport`` serving replies shaped like MLflow 3.17's (copied from a
real server's answers), which hypothesis then breaks one field at a time. What is
under test is the parser edge and the sync's all-or-nothing pages, which no real
server would exercise. The cache is a real SQLite file, synced for real.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.adapters.mlflow import MlflowSource
from app.domain.errors import BadResponse
from app.domain.models import Backend, BackendKind
from app.services.sync import SyncService
from app.store.db import Cache
from tests.integration.mlflow_support import cache_dump

pytestmark = pytest.mark.integration

URL = "http://127.0.0.1:5999"


def _model(i: int, versions: int) -> dict[str, Any]:
    name = f"m{i}"
    latest = (
        [
            {
                "name": name,
                "version": str(versions),
                "creation_timestamp": 1_700_000_000_000 + i,
                "last_updated_timestamp": 1_700_000_000_000 + i,
                "current_stage": "None",
                "status": "READY",
                "source": f"s3://b/{name}/{versions}",
            }
        ]
        if versions
        else []
    )
    return {
        "name": name,
        "creation_timestamp": 1_700_000_000_000 + i,
        "last_updated_timestamp": 1_700_000_000_000 + 10 * i,
        "description": f"model {i} ✓",
        "latest_versions": latest,
        "tags": [{"key": "team", "value": "nlp"}, {"key": "tier", "value": str(i)}],
        "aliases": [{"alias": "champion", "version": str(versions)}] if versions else [],
    }


def _version(name: str, v: int, i: int) -> dict[str, Any]:
    return {
        "name": name,
        "version": str(v),
        "creation_timestamp": 1_700_000_000_000 + i + v,
        "last_updated_timestamp": 1_700_000_000_000 + i + v,
        "current_stage": "None",
        "description": f"v{v}",
        "source": f"s3://b/{name}/{v}",
        "run_id": "",
        "status": "READY",
        "tags": [{"key": "accuracy", "value": "0.9"}],
    }


MODELS = [_model(i, n) for i, n in enumerate([2, 0, 3])]
VERSIONS = [
    _version(m["name"], v, i)
    for i, m in enumerate(MODELS)
    for v in range(1, int(m["latest_versions"][0]["version"]) + 1 if m["latest_versions"] else 1)
]


class FakeMlflow:
    """Answers registered-models/search and model-versions/search like MLflow 3.17
    (offset page tokens, ``name IN`` filters, newest-first order); ``mutate`` may
    break the reply to one endpoint."""

    def __init__(self, mutate: Any = None) -> None:
        self.mutate = mutate

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/2.0/mlflow/")
        params = request.url.params
        names = set(re.findall(r"'([^']*)'", params.get("filter", "")))
        if path == "registered-models/search":
            rows = [m for m in MODELS if not names or m["name"] in names]
            key = "registered_models"
        elif path == "model-versions/search":
            rows = [v for v in VERSIONS if not names or v["name"] in names]
            key = "model_versions"
        else:
            return httpx.Response(404, json={"error_code": "ENDPOINT_NOT_FOUND", "message": path})
        rows = sorted(rows, key=lambda r: -int(r["last_updated_timestamp"]))
        size = int(params.get("max_results", 100))
        token = params.get("page_token", "0")
        offset = int(token) if token.isdigit() else 0
        body: Any = {key: copy.deepcopy(rows[offset : offset + size])}
        if offset + size < len(rows):
            body["next_page_token"] = str(offset + size)
        if self.mutate is not None:
            result = self.mutate(path, body)
            if isinstance(result, bytes):
                return httpx.Response(200, content=result)
            body = result
        return httpx.Response(200, json=body)


def service(cache: Cache, fake: FakeMlflow) -> SyncService:
    backend = Backend("fake", BackendKind.MLFLOW, URL)

    class Backends:
        def get(self, name: str) -> Backend:
            return backend

        def list(self) -> list[Backend]:
            return [backend]

        def connect_http(self, name: str, **kw: Any) -> Any:
            raise AssertionError("not used")

    return SyncService(
        cache,
        Backends(),
        source_factory=lambda b, _: MlflowSource(b, transport=httpx.MockTransport(fake), retries=0),
    )


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache holding the fake registry's good state (synced for real)."""
    path = tmp_path_factory.mktemp("hostile") / "cache.sqlite"
    cache = Cache.open(path)
    try:
        (result,) = service(cache, FakeMlflow()).sync(full=True)
        assert result.ok, result.error
        assert (result.models_added, result.versions_added) == (3, 5)
        with cache.engine.connect() as con:
            con.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        cache.close()
    return path


# ------------------------------------------------------------------ breakage
BAD_REQUIRED_TEXT: st.SearchStrategy[Any] = st.sampled_from([None, 5, [], {}, "", "x" * 5000])
BAD_MS = st.sampled_from([-1, 10**20, "soon", [], {}, 1.5])
BAD_VERSION: st.SearchStrategy[Any] = st.sampled_from(
    [None, 1, "one", "1.5", "", "-1", "1e3", " 1", [], {}]
)
BAD_LIST = st.sampled_from(["x", 5, {}, {"key": "a"}])
BAD_TAGS = st.sampled_from(
    [
        [5],
        ["team"],
        [{"value": "v"}],
        [{"key": 5, "value": "v"}],
        [{"key": "k", "value": 5}],
        [{"key": "k", "value": "v" * 1_000_001}],
    ]
)
BAD_ALIASES = st.sampled_from(
    [
        [{"alias": "a"}],
        [{"alias": "a", "version": "one"}],
        [{"alias": 5, "version": "1"}],
        [{"version": "1"}],
        ["champion"],
    ]
)

MODEL_FIELDS = {
    "name": BAD_REQUIRED_TEXT,
    "creation_timestamp": BAD_MS,
    "last_updated_timestamp": BAD_MS,
    "description": st.sampled_from([5, [], {}]),
    "tags": st.one_of(BAD_LIST, BAD_TAGS),
    "aliases": st.one_of(BAD_LIST, BAD_ALIASES),
    "latest_versions": BAD_LIST,
}
VERSION_FIELDS = {
    "name": BAD_REQUIRED_TEXT,
    "version": BAD_VERSION,
    "creation_timestamp": BAD_MS,
    "last_updated_timestamp": BAD_MS,
    "status": st.sampled_from([5, [], {}]),
    "current_stage": st.sampled_from([5, [], {}]),
    "source": st.sampled_from([5, [], {}]),
    "tags": st.one_of(BAD_LIST, BAD_TAGS),
}


@st.composite
def breakages(draw: st.DrawFn) -> tuple[str, Any, str]:
    """(endpoint, how to break its reply, the field the error must name)."""
    kind = draw(st.sampled_from(["model-field", "version-field", "drop", "body", "list", "token"]))
    if kind == "model-field":
        field = draw(st.sampled_from(sorted(MODEL_FIELDS)))
        value = draw(MODEL_FIELDS[field])
        index = draw(st.integers(0, 2))
        return "registered-models/search", ("set", "registered_models", index, field, value), field
    if kind == "version-field":
        field = draw(st.sampled_from(sorted(VERSION_FIELDS)))
        value = draw(VERSION_FIELDS[field])
        return "model-versions/search", ("set", "model_versions", 0, field, value), field
    if kind == "drop":
        endpoint, key, field = draw(
            st.sampled_from(
                [
                    ("registered-models/search", "registered_models", "name"),
                    ("model-versions/search", "model_versions", "name"),
                    ("model-versions/search", "model_versions", "version"),
                ]
            )
        )
        return endpoint, ("drop", key, 0, field), field
    if kind == "body":
        endpoint = draw(st.sampled_from(["registered-models/search", "model-versions/search"]))
        value = draw(st.sampled_from([[], "text", 5, None, b"<html>not json", b'{"x": ']))
        return endpoint, ("body", value), "body" if isinstance(value, bytes) else "search"
    if kind == "list":
        endpoint, key = draw(
            st.sampled_from(
                [
                    ("registered-models/search", "registered_models"),
                    ("model-versions/search", "model_versions"),
                ]
            )
        )
        value = draw(st.sampled_from(["x", 5, {"a": 1}, [5], [None]]))
        return endpoint, ("key", key, value), key
    value = draw(st.sampled_from([5, [], {}]))
    return "registered-models/search", ("key", "next_page_token", value), "next_page_token"


def breaker(endpoint: str, how: Any) -> Any:
    done: list[bool] = []

    def mutate(path: str, body: Any) -> Any:
        if path != endpoint or done:
            return body
        done.append(True)
        op = how[0]
        if op == "body":
            return how[1]
        if op == "key":
            body[how[1]] = how[2]
            return body
        rows = body.get(how[1]) or []
        if not rows:
            done.clear()  # nothing to break in this reply; break the next one
            return body
        row = rows[min(how[2], len(rows) - 1)]
        if op == "set":
            row[how[3]] = how[4]
        else:
            row.pop(how[3], None)
        return body

    return mutate


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(case=breakages())
def test_broken_replies_are_rejected_and_change_nothing(case, baseline, tmp_path_factory):
    endpoint, how, field = case
    path = tmp_path_factory.mktemp("case") / "cache.sqlite"
    shutil.copy(baseline, path)
    before = cache_dump(path)
    cache = Cache.open(path)
    try:
        (result,) = service(cache, FakeMlflow(breaker(endpoint, how))).sync(full=True)
    finally:
        cache.close()
    assert not result.ok, f"accepted {how!r}"
    assert result.error_kind == "BadResponse", result.error
    assert field in (result.error or ""), result.error
    assert cache_dump(path) == before


def test_a_page_token_loop_is_refused(baseline, tmp_path):
    path = tmp_path / "cache.sqlite"
    shutil.copy(baseline, path)
    before = cache_dump(path)

    def loop(path_: str, body: Any) -> Any:
        if path_ == "registered-models/search":
            body["next_page_token"] = "again"
        return body

    cache = Cache.open(path)
    try:
        (result,) = service(cache, FakeMlflow(loop)).sync(full=True)
    finally:
        cache.close()
    assert result.error_kind == "BadResponse"
    assert "next_page_token" in (result.error or "")
    # the first page was good (and unchanged): nothing was written
    assert cache_dump(path) == before


def test_missing_versions_of_a_model_are_refused(baseline, tmp_path):
    """A model reporting latest versions but whose versions search comes back empty
    (e.g. a filter that did not match) must not be cached as version-less."""
    path = tmp_path / "cache.sqlite"
    shutil.copy(baseline, path)
    before = cache_dump(path)

    def empty(path_: str, body: Any) -> Any:
        if path_ == "model-versions/search":
            body["model_versions"] = []
        return body

    cache = Cache.open(path)
    try:
        (result,) = service(cache, FakeMlflow(empty)).sync(full=True)
    finally:
        cache.close()
    assert result.error_kind == "BadResponse"
    assert cache_dump(path) == before


def test_bad_response_names_backend_and_field():
    source = MlflowSource(
        Backend("reg", BackendKind.MLFLOW, URL),
        transport=httpx.MockTransport(
            FakeMlflow(
                breaker(
                    "registered-models/search",
                    ("set", "registered_models", 1, "aliases", [{"alias": "a", "version": "x"}]),
                )
            )
        ),
        retries=0,
    )
    try:
        with pytest.raises(BadResponse) as info:
            list(source.pages())
    finally:
        source.close()
    assert info.value.backend == "reg"
    assert info.value.field == "registered-models/search: registered_models[1].aliases[0].version"
    assert str(info.value).startswith("reg: bad response at")
    json.dumps(str(info.value))  # one printable line
