"""Catalog reads over the local cache: search, show, info. Never touches the network.

``app.store.queries`` (and with it SQLAlchemy) is imported inside each method, on
first use, so building this service costs nothing at start-up.
"""

from __future__ import annotations

from app.domain.errors import ConfigError, NotFound
from app.domain.models import CacheInfo, CatalogQuery, Deployment, ModelDetail, RegisteredModel
from app.store.db import Cache


class CatalogService:
    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    @property
    def cache(self) -> Cache:
        return self._cache

    def search(
        self,
        query: CatalogQuery | str = "",
        *,
        limit: int | None = None,
        offset: int = 0,
        sort: str = "name",
        descending: bool = False,
    ) -> list[RegisteredModel]:
        if isinstance(query, str):
            query = CatalogQuery.parse(query)
        from app.store import queries

        try:
            with self._cache.read() as con:
                return queries.search_models(
                    con, query, limit=limit, offset=offset, sort=sort, descending=descending
                )
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc

    def count(self, query: CatalogQuery | str = "") -> int:
        if isinstance(query, str):
            query = CatalogQuery.parse(query)
        from app.store import queries

        with self._cache.read() as con:
            return queries.count_models(con, query)

    def show(self, name: str, source: str | None = None) -> ModelDetail:
        """One model with every version and where it is deployed."""
        from app.store import queries

        with self._cache.read() as con:
            found = queries.find_models(con, name, source)
            if not found:
                where = f" in source {source!r}" if source else ""
                raise NotFound(f"no model named {name!r}{where} in the cache")
            if len(found) > 1:
                sources = ", ".join(m.source for m in found)
                raise ConfigError(
                    f"{name!r} exists in several sources ({sources}); name one with --source"
                )
            model = found[0]
            versions = queries.model_versions(con, model.source, model.name)
            deployments = queries.deployments_of(con, model.name, model.source)
        return ModelDetail(model, tuple(versions), tuple(deployments))

    def deployments(self, target: str | None = None) -> list[Deployment]:
        from app.store import queries

        with self._cache.read() as con:
            return queries.list_deployments(con, target)

    def info(self) -> CacheInfo:
        path = self._cache.path
        size = sum(
            p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )
        from app.store import queries

        with self._cache.read() as con:
            return CacheInfo(
                path=str(path),
                schema_version=self._cache.schema_version,
                size_bytes=size,
                models=queries.count_models(con),
                versions=queries.count_versions(con),
                deployments=queries.count_deployments(con),
                sources=tuple(queries.list_sources(con)),
                notice=self._cache.notice,
            )
