"""The services one running Modeldeck uses, built once by ``app.__main__`` and handed in."""

from __future__ import annotations

from dataclasses import dataclass

from app.adapters.secrets import KeyringSecrets
from app.services.backends import BackendService
from app.services.catalog import CatalogService
from app.services.doctor import DoctorService
from app.services.settings import SettingsFile
from app.services.sync import SyncService
from app.services.workspace import Workspace
from app.store.db import Cache


@dataclass
class AppContext:
    workspace: Workspace
    #: the settings file (backends live in ``backends``; app-wide tables like [sync] here)
    settings: SettingsFile
    cache: Cache
    catalog: CatalogService
    #: configured backends and their secrets (settings file + OS keyring, read lazily)
    backends: BackendService
    #: connection doctor; keeps the last verdict per backend (no network at start-up)
    doctor: DoctorService
    #: registries → cache (full/incremental/quick passes) and run data on demand
    sync: SyncService
    #: True when this is the generated demo workspace
    demo: bool = False

    @classmethod
    def build(cls, workspace: Workspace, *, demo: bool = False) -> AppContext:
        workspace.ensure()
        cache = Cache.open(workspace.cache_path)
        settings = SettingsFile(workspace.settings_path)
        backends = BackendService(settings, KeyringSecrets())
        return cls(
            workspace=workspace,
            settings=settings,
            cache=cache,
            catalog=CatalogService(cache),
            backends=backends,
            doctor=DoctorService(backends, workspace.data_dir / "backend-status.json"),
            sync=SyncService(cache, backends),
            demo=demo,
        )

    def close(self) -> None:
        self.cache.close()
