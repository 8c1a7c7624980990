"""The pure half of ``deployments why`` and ``predict``: bounded log tails, request bodies
from MLflow input examples and signatures, a reply read as the serving app's answer, and
the Ray adapter's serve address (from the dashboard's ``http_options``)."""

from __future__ import annotations

import json

import httpx
import pytest

from app.adapters.http import HttpBackend
from app.adapters.ray_serve import RayServeTarget
from app.domain import diagnose as dx
from app.domain.models import Backend, BackendKind

MLMODEL = """artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
mlflow_version: 3.17.2
saved_input_example_info:
  artifact_path: input_example.json
  serving_input_path: serving_input_example.json
  type: ndarray
signature:
  inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1]}}]'
  params: null
"""


def test_tail_keeps_the_last_lines_within_the_byte_cap() -> None:
    text = "\n".join(f"line {i}" for i in range(100))
    assert dx.tail(text, 3) == (("line 97", "line 98", "line 99"), True)
    assert dx.tail("a\nb", 5) == (("a", "b"), False)
    kept, cut = dx.tail("x" * 50 + "\n" + "y" * 50, 10, cap=60)
    assert kept == ("y" * 50,)
    assert cut
    assert dx.check_lines(0) is not None
    assert dx.check_lines(dx.MAX_LOG_LINES + 1) is not None
    assert dx.check_lines(50) is None


def test_ansi_colours_are_stripped() -> None:
    assert dx.strip_ansi("\x1b[36mray::Replica\x1b[39m failed") == "ray::Replica failed"


def test_mlmodel_fields() -> None:
    assert dx.example_path_in_mlmodel(MLMODEL) == "input_example.json"
    assert dx.signature_inputs_in_mlmodel(MLMODEL) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 2]}}
    ]
    assert dx.example_path_in_mlmodel("flavors: {}\n") is None
    assert dx.signature_inputs_in_mlmodel("flavors: {}\n") is None


@pytest.mark.parametrize(
    ("example", "body"),
    [
        ({"inputs": [[0.0, 1.0]]}, {"inputs": [[0.0, 1.0]]}),
        ([[1, 2], [3, 4]], {"inputs": [[1, 2], [3, 4]]}),
        ([1, 2], {"inputs": [[1], [2]]}),
        (
            {"columns": ["a", "b"], "data": [[1, 2]]},
            {"inputs": [{"a": 1, "b": 2}]},
        ),
        ({"dataframe_split": {"columns": ["a"], "data": [[5]]}}, {"inputs": [{"a": 5}]}),
        ({"a": [1, 2], "b": [3, 4]}, {"inputs": [{"a": 1, "b": 3}, {"a": 2, "b": 4}]}),
        ({"a": 1, "b": "x"}, {"inputs": [{"a": 1, "b": "x"}]}),
    ],
)
def test_body_from_example(example: object, body: object) -> None:
    assert dx.body_from_example(example) == body


def test_body_from_an_empty_example_is_refused() -> None:
    with pytest.raises(dx.NoExample):
        dx.body_from_example([])


def test_body_from_signature() -> None:
    assert dx.body_from_signature(dx.signature_inputs_in_mlmodel(MLMODEL) or []) == {
        "inputs": [[0.0, 0.0]]
    }
    cols = [{"name": "age", "type": "long"}, {"name": "city", "type": "string"}]
    assert dx.body_from_signature(cols) == {"inputs": [{"age": 0, "city": ""}]}
    with pytest.raises(dx.NoExample):
        dx.body_from_signature([])


def test_a_reply_read_as_the_serving_apps_answer() -> None:
    reply = dx.Reply(
        200,
        {"X-Modeldeck-Version": "2"},
        json.dumps({"predictions": [2.0], "version": "2"}).encode(),
        12.5,
    )
    r = dx.predict_result(target="t", app="a", url="http://h/a", reply=reply, pinned="2")
    assert (r.ok, r.version, r.response["predictions"], r.note) == (True, "2", [2.0], "")
    assert r.to_json()["latency_ms"] == 12.5
    other = dx.predict_result(target="t", app="a", url="u", reply=reply, pinned="1")
    assert other.note == "asked for v1 but v2 answered"
    cut = dx.predict_result(
        target="t", app="a", url="u", reply=dx.Reply(200, {}, b'{"pred', 1.0, truncated=True)
    )
    assert cut.response == '{"pred'
    assert "was cut" in cut.note
    assert "HTTP 200" in cut.text()


def _ray(handler: httpx.MockTransport, **options: str) -> RayServeTarget:
    backend = Backend(
        name="ray", kind=BackendKind.RAY_SERVE, url="http://10.0.0.5:8265", options=options
    )
    return RayServeTarget(HttpBackend(backend, transport=handler, retries=0))


def _status(host: str) -> dict[str, object]:
    return {
        "http_options": {"host": host, "port": 8000},
        "applications": {
            "fraud": {
                "status": "RUNNING",
                "route_prefix": "/fraud",
                "deployed_app_config": {"name": "fraud", "import_path": "m:build"},
                "deployments": {},
            }
        },
    }


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("0.0.0.0", "http://10.0.0.5:8000"),
        ("127.0.0.1", "http://10.0.0.5:8000"),
        ("10.0.0.9", "http://10.0.0.9:8000"),
    ],
)
def test_the_serve_address_comes_from_the_clusters_http_options(host: str, base: str) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/serve/applications/":
            return httpx.Response(200, json=_status(host))
        return httpx.Response(200, headers={"x-modeldeck-version": "3"}, content=b"x" * 10)

    target = _ray(httpx.MockTransport(handle))
    try:
        url, reply = target.invoke("fraud", b"{}", version="3", timeout_s=5)
    finally:
        target.close()
    assert url == f"{base}/fraud"
    assert str(seen[-1].url) == f"{base}/fraud"
    assert seen[-1].headers["x-modeldeck-version"] == "3"
    assert reply.status == 200


def test_serve_url_option_overrides_and_big_answers_are_cut() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/serve/applications/":
            return httpx.Response(200, json=_status("0.0.0.0"))
        return httpx.Response(200, content=b"y" * (dx.RESPONSE_BYTES_CAP + 100))

    target = _ray(httpx.MockTransport(handle), serve_url="https://serve.example.test/")
    try:
        url, reply = target.invoke("fraud", b"{}", version=None, timeout_s=5)
    finally:
        target.close()
    assert url == "https://serve.example.test/fraud"
    assert reply.truncated
    assert len(reply.body) == dx.RESPONSE_BYTES_CAP


def test_a_timeout_is_timed_out() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/serve/applications/":
            return httpx.Response(200, json=_status("0.0.0.0"))
        raise httpx.ReadTimeout("slow", request=request)

    target = _ray(httpx.MockTransport(handle))
    try:
        with pytest.raises(dx.TimedOut, match="no answer came back in time"):
            target.invoke("fraud", b"{}", version=None, timeout_s=1)
    finally:
        target.close()


def test_differing_lines_of_two_answers() -> None:
    a = dx.answer_text(
        dx.PredictResult("t", "a", "u", "1", 200, 1.0, {"predictions": [1.0], "version": "1"})
    )
    b = dx.answer_text(
        dx.PredictResult("t", "a", "u", "2", 200, 1.0, {"predictions": [2.0], "version": "2"})
    )
    only_a, only_b = dx.differing_lines(a, b)
    assert [a.splitlines()[i].strip() for i in sorted(only_a)] == ["1.0", '"version": "1"']
    assert [b.splitlines()[i].strip() for i in sorted(only_b)] == ["2.0", '"version": "2"']
    assert dx.differing_lines("x\ny", "x\ny") == (frozenset(), frozenset())
