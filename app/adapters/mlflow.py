"""MLflow Model Registry as a catalog source, over REST ``/api/2.0/mlflow/``.

Facts this adapter is built on (MLflow 3.17, read off its SQL store and seen on
a real server, see docs/testing.md):

- ``registered-models/search`` pages at most 1000 (``page_token`` is an offset);
  its models carry tags, aliases and ``latest_versions`` (latest per stage).
- ``model-versions/search`` pages up to 200,000 and carries no aliases: a
  version's aliases come from its model.
- A model's ``last_updated_timestamp`` moves when the model is created, renamed,
  its description edited, or a version is created, deleted or moves stage. It
  does NOT move for tag or alias changes. A version's own timestamp moves when
  its description is edited or its stage moves. So ``pages(since=cursor)``
  reads models and versions by ``last_updated_timestamp DESC`` down to the
  cursor (two short requests when nothing changed), and ``heads()`` lists every
  model's header (tags, aliases, description) for the sync service's *sweep*,
  which is what catches alias moves, tag edits and deletions (one request per
  1000 models). Version tags, which move no timestamp, wait for a full pass.
- Versions are fetched per page of models with ``name IN (...)`` filters of 100
  names: on 10,000 models / 30,000 versions that took 4.7 s against 3.9 s for
  one 200,000-row search of everything, but it keeps memory bounded and every
  page of models consistent with its own versions.
- Filters are parsed by sqlparse: a name with a backslash or both quote kinds
  cannot be written as a literal; such names are found with ``LIKE`` (quotes and
  backslashes as ``_``) and matched exactly here.

Every reply is validated with pydantic before anything is built from it; a
reply that does not fit raises ``BadResponse`` naming the field.

Writes (every ``Capability``; seen on MLflow 3.17): ``registered-models/alias`` POST
``{name, alias, version}`` / DELETE ``{name, alias}``; ``registered-models/set-tag``
POST / ``delete-tag`` DELETE; ``model-versions/set-tag`` POST / ``delete-tag`` DELETE;
``registered-models/update`` and ``model-versions/update`` PATCH ``{…, description}``
(``""`` clears it). DELETE takes its arguments as a JSON body. Deleting an alias or a
tag that is not there answers 200; an unknown model or version answers 404, a
reserved alias (``latest``, ``v<N>``) 400. Each write is sent once
(``idempotent=False``): the caller re-reads when a reply is lost.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.adapters.http import HttpBackend
from app.domain.catalog import CatalogEntry, CatalogPage, RunData
from app.domain.errors import BackendNotFound, BadResponse
from app.domain.models import (
    Backend,
    Credential,
    ModelVersion,
    RegisteredModel,
    VersionStatus,
    utc_from_ms,
)
from app.domain.registry import Capability

log = logging.getLogger(__name__)

API = "/api/2.0/mlflow"
#: registered-models/search refuses more than 1000 per page
MODEL_PAGE = 1000
#: model-versions/search allows 200,000; incremental scans stop early anyway
VERSION_SCAN_PAGE = 100
#: an incremental scan of models starts this small (a no-change pass stays cheap)
INCREMENTAL_FIRST_PAGE = 50
#: budget for one percent-encoded ``filter`` (uvicorn/h11 refuse request heads over 16 KiB)
FILTER_BUDGET = 7000
#: at most this many names per ``name IN (...)`` filter
NAMES_PER_FILTER = 100
#: give up on a pass that pages this often (a server looping on tokens)
MAX_PAGES = 100_000

# ------------------------------------------------------------------ wire format
_MAX_MS = 32_503_680_000_000  # year 3000: anything later is not a timestamp
Name = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
Key = Annotated[str, StringConstraints(max_length=1024)]
Text = Annotated[str, StringConstraints(max_length=1_000_000)]
Short = Annotated[str, StringConstraints(max_length=10_000)]
VersionNo = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]
Millis = Annotated[int, Field(ge=0, le=_MAX_MS)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Tag(_Wire):
    key: Key
    value: Text = ""


class _Alias(_Wire):
    alias: Key
    version: VersionNo


class _Version(_Wire):
    name: Name
    version: VersionNo
    creation_timestamp: Millis | None = None
    last_updated_timestamp: Millis | None = None
    current_stage: Short | None = None
    description: Text | None = None
    source: Text | None = None
    run_id: Short | None = None
    run_link: Text | None = None
    status: Short | None = None
    tags: list[_Tag] = []


class _Model(_Wire):
    name: Name
    creation_timestamp: Millis | None = None
    last_updated_timestamp: Millis | None = None
    description: Text | None = None
    user_id: Short | None = None
    tags: list[_Tag] = []
    aliases: list[_Alias] = []
    latest_versions: list[_Version] = []


class _ModelPage(_Wire):
    registered_models: list[_Model] = []
    next_page_token: Short | None = None


class _VersionPage(_Wire):
    model_versions: list[_Version] = []
    next_page_token: Short | None = None


class _ModelGet(_Wire):
    registered_model: _Model


class _Metric(_Wire):
    key: Key
    value: float | None = None
    timestamp: Millis | None = None
    step: int | None = None


class _RunInfo(_Wire):
    run_id: Short | None = None
    run_uuid: Short | None = None
    experiment_id: Short | None = None
    run_name: Short | None = None
    status: Short | None = None
    start_time: Millis | None = None
    end_time: Millis | None = None


class _RunData(_Wire):
    metrics: list[_Metric] = []
    params: list[_Tag] = []
    tags: list[_Tag] = []


class _Run(_Wire):
    info: _RunInfo
    data: _RunData = _RunData()


class _RunGet(_Wire):
    run: _Run


W = TypeVar("W", bound=_Wire)
R = TypeVar("R")


def _field(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def parse(backend: str, wire: type[W], body: Any, where: str) -> W:
    """Validate ``body`` as ``wire`` or raise ``BadResponse`` naming the first bad field."""
    if not isinstance(body, dict):
        raise BadResponse(backend, where, f"expected a JSON object, got {type(body).__name__}")
    try:
        return wire.model_validate(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        loc = _field(err["loc"])
        raise BadResponse(backend, f"{where}: {loc}", err["msg"]) from None


# ------------------------------------------------------------------ filters
def _literal(name: str) -> str | None:
    """``name`` as a filter literal, or None when sqlparse cannot take it literally."""
    if "\\" in name:
        return None
    if "'" not in name:
        return f"'{name}'"
    if '"' not in name:
        return f'"{name}"'
    return None


def _like_pattern(name: str) -> str:
    return "'" + re.sub(r"['\"\\]", "_", name) + "'"


def name_filters(names: Iterable[str]) -> list[str]:
    """``name IN (...)`` filters covering ``names`` within the URL budget; names that
    cannot be literals get a ``name LIKE`` filter each (over-matching; callers
    keep exact names only)."""
    filters: list[str] = []
    batch: list[str] = []
    size = 0
    for name in names:
        lit = _literal(name)
        if lit is None:
            filters.append(f"name LIKE {_like_pattern(name)}")
            continue
        cost = len(quote(lit, safe="")) + 3
        if batch and (size + cost > FILTER_BUDGET or len(batch) >= NAMES_PER_FILTER):
            filters.append(f"name IN ({','.join(batch)})")
            batch, size = [], 0
        batch.append(lit)
        size += cost
    if batch:
        filters.append(f"name IN ({','.join(batch)})")
    return filters


# ------------------------------------------------------------------ adapter
@dataclass
class _Stats:
    requests: int = 0


class MlflowSource:
    """An MLflow Model Registry (tracking server) as a :class:`CatalogSource`."""

    kind = "mlflow"
    #: MLflow's REST API does every registry write Modeldeck knows
    capabilities: frozenset[Capability] = frozenset(Capability)

    def __init__(
        self,
        backend: Backend,
        credential: Credential | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        http: HttpBackend | None = None,
        retries: int = 3,
        concurrency: int = 2,
    ) -> None:
        self.backend = backend
        self.name = backend.name
        self.url = backend.url.rstrip("/")
        self._http = http or HttpBackend(backend, credential, transport=transport, retries=retries)
        #: the basic-auth user we send, if any (a token names nobody MLflow reports)
        self._username = self._http.username
        self._stats = _Stats()
        self._lock = threading.Lock()
        #: requests in flight at once (1: strictly sequential)
        self._pool = (
            ThreadPoolExecutor(concurrency, thread_name_prefix=f"mlflow-{self.name}")
            if concurrency > 1
            else None
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def authenticated_user(self) -> str | None:
        """Our basic-auth user as MLflow's auth app knows it (``users/get``); None when
        we send no user name or the server has no auth app (it ignores the header)."""
        if not self._username:
            return None
        try:
            reply = self._get("users/get", {"username": self._username})
        except BackendNotFound:  # no auth app: the user name was never checked
            return None
        user = reply.get("user") if isinstance(reply, dict) else None
        name = user.get("username") if isinstance(user, dict) else None
        if not isinstance(name, str) or name != self._username:
            raise BadResponse(self.name, "users/get: user.username", f"expected {self._username!r}")
        return name

    # ---------------------------------------------------------- raw calls
    def _get(self, endpoint: str, params: Mapping[str, Any]) -> Any:
        with self._lock:
            self._stats.requests += 1
        return self._http.get_json(f"{API}/{endpoint}", params=params)

    def search_models_page(
        self, *, token: str | None, order_by: str | None = None, max_results: int = MODEL_PAGE
    ) -> _ModelPage:
        params: dict[str, Any] = {"max_results": max_results}
        if order_by:
            params["order_by"] = order_by
        if token:
            params["page_token"] = token
        return parse(
            self.name,
            _ModelPage,
            self._get("registered-models/search", params),
            "registered-models/search",
        )

    def search_versions_page(
        self,
        *,
        filter_: str | None = None,
        token: str | None = None,
        order_by: str | None = None,
        max_results: int = 200_000,
    ) -> _VersionPage:
        params: dict[str, Any] = {"max_results": max_results}
        if filter_:
            params["filter"] = filter_
        if order_by:
            params["order_by"] = order_by
        if token:
            params["page_token"] = token
        return parse(
            self.name,
            _VersionPage,
            self._get("model-versions/search", params),
            "model-versions/search",
        )

    def _paged(self, fetch: Any, where: str) -> Iterator[Any]:
        """Follow ``next_page_token``; a token seen twice is a bad response (a loop)."""
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = fetch(token)
            yield page
            token = page.next_page_token or None
            if token is None:
                return
            if token in seen:
                raise BadResponse(self.name, f"{where}: next_page_token", "repeats (a loop)")
            seen.add(token)
        raise BadResponse(self.name, f"{where}: next_page_token", f"over {MAX_PAGES} pages")

    # ---------------------------------------------------------- versions
    def _versions_matching(self, filter_: str) -> list[_Version]:
        out: list[_Version] = []
        for page in self._paged(
            lambda tok: self.search_versions_page(filter_=filter_, token=tok),
            "model-versions/search",
        ):
            out.extend(page.model_versions)
        return out

    def versions_of(self, names: Sequence[str]) -> dict[str, list[_Version]]:
        """Every version of each model in ``names`` (name → versions, unordered).

        The batches go out ``concurrency`` at a time: while one reply is parsed here,
        the server already works on the next (it idles otherwise; see module doc)."""
        wanted = set(names)
        found: dict[str, dict[str, _Version]] = {n: {} for n in names}
        filters = name_filters(dict.fromkeys(names))
        if self._pool is not None and len(filters) > 1:
            results: Iterable[list[_Version]] = self._pool.map(self._versions_matching, filters)
        else:
            results = map(self._versions_matching, filters)
        for versions in results:
            for v in versions:
                if v.name in wanted:
                    found[v.name][v.version] = v
        return {n: list(vs.values()) for n, vs in found.items()}

    # ---------------------------------------------------------- mapping
    def web_url(self, name: str) -> str:
        return f"{self.url}/#/models/{quote(name, safe='')}"

    def run_link(self, experiment_id: str | None, run_id: str | None) -> str | None:
        if not run_id or not experiment_id:
            return None
        exp, run = quote(experiment_id, safe=""), quote(run_id, safe="")
        return f"{self.url}/#/experiments/{exp}/runs/{run}"

    def _entry(self, m: _Model, versions: Sequence[_Version]) -> CatalogEntry:
        tags = {t.key: t.value for t in m.tags}
        aliases = {a.alias: a.version for a in m.aliases}
        by_version: dict[str, list[str]] = {}
        for alias, version in aliases.items():
            by_version.setdefault(version, []).append(alias)
        flavor = tags.get("flavor") or tags.get("framework") or None
        mvs = tuple(
            self._version(m.name, v, tuple(sorted(by_version.get(v.version, ()))))
            for v in sorted(versions, key=lambda v: int(v.version), reverse=True)
        )
        model = RegisteredModel(
            source=self.name,
            name=m.name,
            description=m.description or "",
            tags=tags,
            aliases=aliases,
            owner=tags.get("owner") or m.user_id or None,
            flavor=flavor,
            created_at=utc_from_ms(m.creation_timestamp),
            updated_at=utc_from_ms(m.last_updated_timestamp),
            latest_version=mvs[0].version if mvs else None,
            version_count=len(mvs),
            web_url=self.web_url(m.name),
        )
        return CatalogEntry(model, mvs)

    def _version(self, model: str, v: _Version, aliases: tuple[str, ...]) -> ModelVersion:
        tags = {t.key: t.value for t in v.tags}
        run_id = v.run_id or None
        return ModelVersion(
            source=self.name,
            model_name=model,
            version=v.version,
            status=VersionStatus.parse(v.status),
            stage=None if v.current_stage in (None, "", "None") else v.current_stage,
            source_uri=v.source or None,
            run_id=run_id,
            run_link=v.run_link or self.run_link(_experiment_of(v.source, run_id), run_id),
            description=v.description or "",
            tags=tags,
            aliases=aliases,
            created_at=utc_from_ms(v.creation_timestamp),
            updated_at=utc_from_ms(v.last_updated_timestamp),
            flavor=tags.get("flavor") or tags.get("framework") or None,
        )

    def _complete(self, models: Sequence[_Model]) -> tuple[CatalogEntry, ...]:
        """Fetch every version of ``models`` and build complete entries."""
        unique = list({m.name: m for m in models}.values())
        versions = self.versions_of([m.name for m in unique])
        for m in unique:
            # a model whose latest version we know must have versions: if a filter
            # missed them (a quoting surprise), that would cache it half; refuse
            if m.latest_versions and not versions.get(m.name):
                raise BadResponse(
                    self.name,
                    "model-versions/search",
                    f"no versions returned for {m.name!r}, which has latest_versions",
                )
        return tuple(self._entry(m, versions.get(m.name, [])) for m in unique)

    # ---------------------------------------------------------- CatalogSource
    def pages(self, *, since: str | None = None) -> Iterator[CatalogPage]:
        if since is None:
            yield from self._full_pass()
        else:
            yield from self._changed_since(_parse_cursor(self.name, since))

    def _top_version_stamp(self) -> int | None:
        page = self.search_versions_page(order_by="last_updated_timestamp DESC", max_results=1)
        stamps = [v.last_updated_timestamp for v in page.model_versions]
        return max((s for s in stamps if s is not None), default=None)

    def _full_pass(self) -> Iterator[CatalogPage]:
        """Every model, newest first, 1000 a page, each with all its versions. The next
        page of models is requested before this page's versions are."""
        order = "last_updated_timestamp DESC"
        cursor: str | None = None
        seen: set[str] = set()
        before = self._stats.requests
        pending = self._submit(self.search_models_page, token=None, order_by=order)
        for _ in range(MAX_PAGES):
            page = pending.result()
            token = page.next_page_token or None
            if token is not None:
                if token in seen:
                    raise BadResponse(
                        self.name, "registered-models/search: next_page_token", "repeats (a loop)"
                    )
                seen.add(token)
                pending = self._submit(self.search_models_page, token=token, order_by=order)
            if cursor is None:
                cursor = _cursor(page.registered_models, self._top_version_stamp())
            entries = self._complete(page.registered_models)
            yield CatalogPage(entries, cursor, self._stats.requests - before)
            before = self._stats.requests
            if token is None:
                return
        raise BadResponse(self.name, "registered-models/search: next_page_token", "no end")

    def _submit(self, fn: Callable[..., R], /, **kwargs: Any) -> Future[R]:
        if self._pool is not None:
            return self._pool.submit(fn, **kwargs)
        done: Future[R] = Future()
        try:
            done.set_result(fn(**kwargs))
        except BaseException as exc:  # noqa: BLE001 - the Future hands it to the caller
            done.set_exception(exc)
        return done

    def _changed_since(self, since: int) -> Iterator[CatalogPage]:
        """Models whose model or version timestamp is at or after ``since`` (ms).

        Both scans run newest first and stop at the first older row; they start
        small (a no-change pass costs two short requests) and grow.
        """
        before = self._stats.requests

        def fresh(models: Sequence[_Model]) -> list[_Model]:
            return [m for m in models if (m.last_updated_timestamp or 0) >= since]

        first = self.search_models_page(
            token=None, order_by="last_updated_timestamp DESC", max_results=INCREMENTAL_FIRST_PAGE
        )
        top_model = list(first.registered_models[:1])
        changed = {m.name: m for m in fresh(first.registered_models)}
        if first.next_page_token and len(changed) == len(first.registered_models):
            # more changed than the first small page holds: page on at full size
            for page in self._paged(
                lambda tok: self.search_models_page(
                    token=tok, order_by="last_updated_timestamp DESC"
                ),
                "registered-models/search",
            ):
                new = fresh(page.registered_models)
                changed.update((m.name, m) for m in new)
                if len(new) < len(page.registered_models):
                    break
        version_names: set[str] = set()
        top_version: int | None = None
        for vpage in self._paged(
            lambda tok: self.search_versions_page(
                token=tok, order_by="last_updated_timestamp DESC", max_results=VERSION_SCAN_PAGE
            ),
            "model-versions/search",
        ):
            stamps = [v.last_updated_timestamp or 0 for v in vpage.model_versions]
            if top_version is None and stamps:
                top_version = max(stamps)
            fresh_v = [v for v in vpage.model_versions if (v.last_updated_timestamp or 0) >= since]
            version_names.update(v.name for v in fresh_v)
            if len(fresh_v) < len(vpage.model_versions):
                break
        cursor = _cursor(top_model, top_version) or str(since)
        heads = list(changed.values())
        missing = sorted(version_names - set(changed))
        if missing:
            heads.extend(self.models_named(missing))
        if not heads:
            yield CatalogPage((), cursor, self._stats.requests - before)
            return
        for chunk in _chunks(heads, MODEL_PAGE):
            entries = self._complete(chunk)
            yield CatalogPage(entries, cursor, self._stats.requests - before)
            before = self._stats.requests

    def models_named(self, names: Sequence[str]) -> list[_Model]:
        """The registry's models among ``names`` (exact names; absent ones are left out)."""
        wanted = set(names)
        found: dict[str, _Model] = {}
        for filter_ in name_filters(dict.fromkeys(names)):
            for page in self._paged(
                lambda tok, f=filter_: self._search_models_filtered(f, tok),
                "registered-models/search",
            ):
                found.update((m.name, m) for m in page.registered_models if m.name in wanted)
        return list(found.values())

    def _search_models_filtered(self, filter_: str, token: str | None) -> _ModelPage:
        params: dict[str, Any] = {"max_results": MODEL_PAGE, "filter": filter_}
        if token:
            params["page_token"] = token
        return parse(
            self.name,
            _ModelPage,
            self._get("registered-models/search", params),
            "registered-models/search",
        )

    def heads(self) -> Iterator[tuple[RegisteredModel, ...]]:
        """Every model without its versions (``latest_version`` from the registry's
        summary, ``version_count`` 0), 1000 a page: what a sweep compares."""
        for page in self._paged(
            lambda tok: self.search_models_page(token=tok, order_by="name ASC"),
            "registered-models/search",
        ):
            yield tuple(self._entry(m, ()).model for m in page.registered_models)

    def complete(self, names: Sequence[str]) -> tuple[CatalogEntry, ...]:
        models = self.models_named(names)
        return self._complete(models) if models else ()

    def get_model(self, name: str) -> CatalogEntry | None:
        try:
            body = self._get("registered-models/get", {"name": name})
        except BackendNotFound:
            return None
        got = parse(self.name, _ModelGet, body, "registered-models/get").registered_model
        if got.name != name:
            raise BadResponse(
                self.name,
                "registered-models/get: registered_model.name",
                f"asked for {name!r}, got {got.name!r}",
            )
        return self._complete([got])[0]

    def run_data(self, run_id: str) -> RunData:
        body = self._get("runs/get", {"run_id": run_id})
        run = parse(self.name, _RunGet, body, "runs/get").run
        got = run.info.run_id or run.info.run_uuid
        if got != run_id:
            raise BadResponse(self.name, "runs/get: run.info.run_id", f"asked for {run_id!r}")
        metrics: dict[str, float] = {}
        order: dict[str, tuple[int, int]] = {}
        for m in run.data.metrics:
            if m.value is None:
                continue
            key = (m.step or 0, m.timestamp or 0)
            if m.key not in order or key >= order[m.key]:
                order[m.key] = key
                metrics[m.key] = m.value
        return RunData(
            source=self.name,
            run_id=run_id,
            experiment_id=run.info.experiment_id,
            name=run.info.run_name,
            status=run.info.status,
            started_at=utc_from_ms(run.info.start_time),
            ended_at=utc_from_ms(run.info.end_time),
            params={p.key: p.value for p in run.data.params},
            metrics=metrics,
            tags={t.key: t.value for t in run.data.tags},
            link=self.run_link(run.info.experiment_id, run_id),
        )

    # ---------------------------------------------------------- writes (sent once)
    def _write(self, method: str, endpoint: str, body: Mapping[str, Any]) -> None:
        with self._lock:
            self._stats.requests += 1
        self._http.request(method, f"{API}/{endpoint}", json=dict(body), idempotent=False)

    def set_alias(self, model: str, alias: str, version: str) -> None:
        self._write(
            "POST", "registered-models/alias", {"name": model, "alias": alias, "version": version}
        )

    def delete_alias(self, model: str, alias: str) -> None:
        self._write("DELETE", "registered-models/alias", {"name": model, "alias": alias})

    def set_model_tag(self, model: str, key: str, value: str) -> None:
        self._write(
            "POST", "registered-models/set-tag", {"name": model, "key": key, "value": value}
        )

    def delete_model_tag(self, model: str, key: str) -> None:
        self._write("DELETE", "registered-models/delete-tag", {"name": model, "key": key})

    def set_version_tag(self, model: str, version: str, key: str, value: str) -> None:
        self._write(
            "POST",
            "model-versions/set-tag",
            {"name": model, "version": version, "key": key, "value": value},
        )

    def delete_version_tag(self, model: str, version: str, key: str) -> None:
        self._write(
            "DELETE", "model-versions/delete-tag", {"name": model, "version": version, "key": key}
        )

    def update_model_description(self, model: str, text: str) -> None:
        self._write("PATCH", "registered-models/update", {"name": model, "description": text})

    def update_version_description(self, model: str, version: str, text: str) -> None:
        self._write(
            "PATCH",
            "model-versions/update",
            {"name": model, "version": version, "description": text},
        )

    # ---------------------------------------------------------- artifacts (read)
    def version_signature(self, model: str, version: str) -> bool:
        """Does ``version``'s ``MLmodel`` declare a model signature? Read from the
        server's ``model-versions/get-artifact?path=MLmodel`` (the promotion gate's
        ``signature`` check); a version without an ``MLmodel`` file has none."""
        with self._lock:
            self._stats.requests += 1
        try:
            text = self._http.get_text(
                "/model-versions/get-artifact",
                params={"name": model, "version": version, "path": "MLmodel"},
            )
        except BackendNotFound:
            return False
        return _SIGNATURE_IN_MLMODEL.search(text) is not None

    def version_artifact(
        self, model: str, version: str, path: str, *, max_chars: int = 1_000_000
    ) -> str | None:
        """The text of one file of ``version``'s model artifacts (``MLmodel``,
        ``input_example.json``, …) through ``model-versions/get-artifact``; ``None`` when
        the version has no such file. Larger than ``max_chars``: ``BadResponse``."""
        with self._lock:
            self._stats.requests += 1
        try:
            text = self._http.get_text(
                "/model-versions/get-artifact",
                params={"name": model, "version": version, "path": path},
            )
        except BackendNotFound:
            return None
        if len(text) > max_chars:
            raise BadResponse(
                self._http.name, path, f"larger than {max_chars} characters; not read"
            )
        return text


#: a top-level ``signature:`` mapping in an MLmodel (YAML) file
_SIGNATURE_IN_MLMODEL = re.compile(r"^signature:[ \t]*(\n[ \t]+\S|\{[^}\s])", re.MULTILINE)
_EXPERIMENT_IN_SOURCE = re.compile(r"(?:^|/)([0-9]+)/([0-9a-f]{32})/artifacts(?:/|$)")


def _experiment_of(source: str | None, run_id: str | None) -> str | None:
    """``…/<experiment>/<run>/artifacts/…`` (file and mlflow-artifacts stores) → experiment."""
    if not source or not run_id:
        return None
    m = _EXPERIMENT_IN_SOURCE.search(source)
    return m.group(1) if m and m.group(2) == run_id else None


def _cursor(models: Sequence[_Model], top_version: int | None) -> str | None:
    """The newest model or version timestamp seen at the start of a pass: anything
    changed later has a timestamp at or after it."""
    stamps = [m.last_updated_timestamp for m in models if m.last_updated_timestamp is not None]
    if top_version is not None:
        stamps.append(top_version)
    return str(max(stamps)) if stamps else None


def _parse_cursor(backend: str, cursor: str) -> int:
    try:
        return int(cursor)
    except ValueError:
        raise BadResponse(
            backend, "cursor", f"stored cursor {cursor!r} is not a timestamp"
        ) from None


T = TypeVar("T")


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
