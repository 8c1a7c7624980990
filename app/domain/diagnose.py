"""Why a deployment is in the state it is, and what it answers: the pure half of
``modeldeck deployments why`` and ``modeldeck predict``. No I/O.

* ``WhyReport`` — everything the cluster says about one app: its status and message,
  each deployment's status and message, each replica's state, and the last lines of the
  replicas' logs (bounded: at most N lines and a byte cap per file).
* ``PredictResult`` — one request to an app's route: HTTP status, latency, which
  version answered (the serving app's ``x-modeldeck-version`` header), the answer (cut at
  a bound, with a note), or a timeout.
* ``body_from_example`` / ``body_from_signature`` — a request body the serving app
  accepts (``{"inputs": [...]}``), built from an MLflow version's input example or
  signature.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.domain.errors import Unreachable

#: the serving app's request header that pins a request to one version, and the reply
#: header naming the version that answered (serving/modeldeck_serving/app.py)
VERSION_HEADER = "x-modeldeck-version"
#: defaults and hard bounds of what ``why`` reads from the cluster
DEFAULT_LOG_LINES = 50
MAX_LOG_LINES = 1000
LOG_BYTES_CAP = 64 * 1024
#: a prediction's answer larger than this is cut (with a note)
RESPONSE_BYTES_CAP = 256 * 1024
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class TimedOut(Unreachable):
    """Connected (or tried to), but no answer came back in time."""


@dataclass(frozen=True, slots=True)
class ReplicaWhy:
    replica_id: str
    state: str
    pid: int | None = None
    node: str = ""
    #: where its log lives on the node (relative to Ray's log directory)
    log_file: str = ""


@dataclass(frozen=True, slots=True)
class DeploymentWhy:
    name: str
    status: str
    message: str = ""
    replicas: tuple[ReplicaWhy, ...] = ()


@dataclass(frozen=True, slots=True)
class LogExcerpt:
    """The last lines of one log file (``source``: the replica, or ``controller``)."""

    source: str
    file: str
    lines: tuple[str, ...] = ()
    #: lines before these were left out (more than asked for, or over the byte cap)
    truncated: bool = False
    #: why nothing could be read (empty when read)
    error: str = ""


@dataclass(frozen=True, slots=True)
class WhyReport:
    target: str
    app: str
    status: str
    message: str = ""
    deployments: tuple[DeploymentWhy, ...] = ()
    logs: tuple[LogExcerpt, ...] = ()
    #: what could not be read or does not apply (e.g. "this target keeps no logs")
    notes: tuple[str, ...] = ()

    def text(self) -> str:
        out = [f"{self.app} on {self.target}: {self.status}"]
        if self.message:
            out.extend(f"  {line}" for line in self.message.splitlines())
        for dep in self.deployments:
            out.append(f"deployment {dep.name}" + (f": {dep.status}" if dep.status else ""))
            out.extend(f"  {line}" for line in dep.message.splitlines())
            for r in dep.replicas:
                where = f" pid {r.pid}" if r.pid is not None else ""
                out.append(f"  replica {r.replica_id}: {r.state}{where}")
        for log in self.logs:
            head = f"log of {log.source} ({log.file})"
            if log.error:
                out.append(f"{head}: {log.error}")
                continue
            cut = ", earlier lines left out" if log.truncated else ""
            out.append(f"{head}, last {len(log.lines)} line(s){cut}:")
            out.extend(f"  | {line}" for line in log.lines)
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "app": self.app,
            "status": self.status,
            "message": self.message,
            "deployments": [
                {
                    "name": d.name,
                    "status": d.status,
                    "message": d.message,
                    "replicas": [
                        {
                            "replica_id": r.replica_id,
                            "state": r.state,
                            "pid": r.pid,
                            "node": r.node,
                            "log_file": r.log_file,
                        }
                        for r in d.replicas
                    ],
                }
                for d in self.deployments
            ],
            "logs": [
                {
                    "source": g.source,
                    "file": g.file,
                    "lines": list(g.lines),
                    "truncated": g.truncated,
                    "error": g.error,
                }
                for g in self.logs
            ],
            "notes": list(self.notes),
        }


def check_lines(n: int) -> str | None:
    if not 1 <= n <= MAX_LOG_LINES:
        return f"--lines takes 1-{MAX_LOG_LINES}"
    return None


def tail(text: str, lines: int, *, cap: int = LOG_BYTES_CAP) -> tuple[tuple[str, ...], bool]:
    """The last ``lines`` lines of ``text`` within ``cap`` bytes (UTF-8); and whether
    anything before them was left out."""
    rows = text.splitlines()
    cut = len(rows) > lines
    rows = rows[-lines:] if lines > 0 else []
    kept: list[str] = []
    size = 0
    for row in reversed(rows):
        size += len(row.encode("utf-8", "replace")) + 1
        if size > cap:
            cut = True
            break
        kept.append(row)
    return tuple(reversed(kept)), cut


@dataclass(frozen=True, slots=True)
class Reply:
    """What an app's route answered, as the adapter read it (bounded)."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    latency_ms: float
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class PredictResult:
    target: str
    app: str
    url: str
    version: str | None
    status: int | None
    latency_ms: float
    response: Any = None
    truncated: bool = False
    timed_out: bool = False
    note: str = ""
    #: the version asked for (``--version``), if any
    pinned: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "app": self.app,
            "url": self.url,
            "version": self.version,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "response": self.response,
            "truncated": self.truncated,
            "timed_out": self.timed_out,
            "note": self.note,
        }

    def text(self) -> str:
        if self.timed_out:
            return f"{self.app} on {self.target}: {self.note}"
        who = f"v{self.version}" if self.version else "version unknown"
        head = f"{self.app} on {self.target}: HTTP {self.status}, {self.latency_ms:.0f} ms, {who}"
        body = (
            json.dumps(self.response, indent=2, ensure_ascii=False)
            if not isinstance(self.response, str)
            else self.response
        )
        out = [head, body]
        if self.note:
            out.append(f"note: {self.note}")
        return "\n".join(out)


def predict_result(
    *, target: str, app: str, url: str, reply: Reply, pinned: str | None = None
) -> PredictResult:
    """A ``Reply`` read as the serving app's answer: JSON when it is, else text; the
    answering version from the header (or the JSON's ``version``)."""
    headers = {k.lower(): v for k, v in reply.headers.items()}
    text = reply.body.decode("utf-8", "replace")
    response: Any = text
    notes: list[str] = []
    if reply.truncated:
        notes.append(f"the answer was larger than {len(reply.body)} bytes and was cut")
    else:
        try:
            response = json.loads(text) if text else None
        except ValueError:
            response = text
    version = headers.get(VERSION_HEADER)
    if not version and isinstance(response, Mapping) and response.get("version") is not None:
        version = str(response["version"])
    if pinned is not None and version is not None and version != pinned:
        notes.append(f"asked for v{pinned} but v{version} answered")
    return PredictResult(
        target=target,
        app=app,
        url=url,
        version=version or None,
        status=reply.status,
        latency_ms=reply.latency_ms,
        response=response,
        truncated=reply.truncated,
        note="; ".join(notes),
        pinned=pinned,
    )


# ------------------------------------------------------------------ request bodies
class NoExample(ValueError):
    """A version has neither an input example nor a signature to build a body from."""


def body_from_example(example: Any) -> dict[str, Any]:
    """The serving app's body from an MLflow ``input_example.json``.

    MLflow writes an ndarray example as ``{"inputs": [...]}`` (or a bare list), a
    DataFrame as pandas ``split`` (``{"columns": [...], "data": [[...]]}``) and a dict of
    columns as ``{"a": [...], ...}``; the serving app takes ``{"inputs": rows}``, rows
    being lists or records."""
    if isinstance(example, Mapping):
        if "dataframe_split" in example:
            return body_from_example(example["dataframe_split"])
        if "dataframe_records" in example:
            return {"inputs": list(example["dataframe_records"])}
        if "inputs" in example or "instances" in example:
            rows = example.get("inputs", example.get("instances"))
            return {"inputs": _rows(rows)}
        if "data" in example:
            data = example["data"]
            columns = example.get("columns")
            if isinstance(columns, list) and isinstance(data, list):
                return {
                    "inputs": [
                        dict(zip((str(c) for c in columns), row, strict=False))
                        if isinstance(row, list)
                        else row
                        for row in data
                    ]
                }
            return {"inputs": _rows(data)}
        if example and all(isinstance(v, list) for v in example.values()):
            keys = list(example)
            n = min(len(v) for v in example.values())
            return {"inputs": [{k: example[k][i] for k in keys} for i in range(n)]}
        if example:
            return {"inputs": [dict(example)]}
    if isinstance(example, list) and example:
        return {"inputs": _rows(example)}
    raise NoExample("the input example is empty or of a shape Modeldeck cannot send")


def _rows(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v if isinstance(v, list | Mapping) else [v] for v in value] or [[]]
    return [[value]]


_ZERO = {
    "double": 0.0,
    "float": 0.0,
    "float64": 0.0,
    "float32": 0.0,
    "long": 0,
    "integer": 0,
    "int64": 0,
    "int32": 0,
    "boolean": False,
    "bool": False,
    "string": "",
    "str": "",
}


def body_from_signature(inputs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One row of zeros (or empty strings) shaped by an MLflow signature's inputs:
    a tensor spec ``{"type": "tensor", "tensor-spec": {"dtype": .., "shape": [-1, 2]}}``
    or named columns ``{"name": "x", "type": "double"}``."""
    if not inputs:
        raise NoExample("the signature declares no inputs")
    first = inputs[0]
    if first.get("type") == "tensor":
        spec = first.get("tensor-spec") or {}
        shape = [int(s) for s in spec.get("shape") or [-1, 1]]
        zero = _ZERO.get(str(spec.get("dtype", "float64")), 0.0)
        width = shape[1] if len(shape) > 1 and shape[1] > 0 else 1
        return {"inputs": [[zero] * width]}
    row: dict[str, Any] = {}
    for i, col in enumerate(inputs):
        name = str(col.get("name", i))
        row[name] = _ZERO.get(str(col.get("type")), 0.0)
    if all(c.get("name") is None for c in inputs):
        return {"inputs": [list(row.values())]}
    return {"inputs": [row]}


_SIGNATURE_INPUTS = re.compile(r"^signature:\s*\n(?:[ \t]+.*\n)*?[ \t]+inputs:[ \t]*'(.*)'", re.M)
_EXAMPLE_PATH = re.compile(
    r"^saved_input_example_info:\s*\n(?:[ \t]+.*\n)*?[ \t]+artifact_path:[ \t]*(\S+)", re.M
)


def example_path_in_mlmodel(mlmodel: str) -> str | None:
    """``saved_input_example_info.artifact_path`` of an ``MLmodel`` file, if any."""
    m = _EXAMPLE_PATH.search(mlmodel)
    return m.group(1).strip("'\"") if m else None


def signature_inputs_in_mlmodel(mlmodel: str) -> list[dict[str, Any]] | None:
    """The signature's ``inputs`` (a JSON list quoted in the YAML), if any."""
    m = _SIGNATURE_INPUTS.search(mlmodel)
    if not m:
        return None
    try:
        value = json.loads(m.group(1).replace("''", "'"))
    except ValueError:
        return None
    return [dict(v) for v in value if isinstance(v, dict)] if isinstance(value, list) else None


@dataclass(frozen=True, slots=True)
class ExampleBody:
    body: dict[str, Any]
    #: where it came from: "input example" | "signature"
    origin: str = "input example"
    notes: tuple[str, ...] = field(default_factory=tuple)


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """Ray colours its tracebacks; a report is plain text."""
    return _ANSI.sub("", text)


def answer_text(result: PredictResult) -> str:
    """A result's answer as stable, comparable text (pretty JSON, keys sorted)."""
    if isinstance(result.response, str):
        return result.response
    return json.dumps(result.response, indent=2, sort_keys=True, ensure_ascii=False)


def differing_lines(a: str, b: str) -> tuple[frozenset[int], frozenset[int]]:
    """The line numbers (0-based) of ``a`` and of ``b`` that are not in both (a diff's
    changed, removed and added lines), for highlighting two answers side by side."""
    import difflib

    la, lb = a.splitlines(), b.splitlines()
    only_a: set[int] = set()
    only_b: set[int] = set()
    matcher = difflib.SequenceMatcher(a=la, b=lb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            only_a.update(range(i1, i2))
            only_b.update(range(j1, j2))
    return frozenset(only_a), frozenset(only_b)
