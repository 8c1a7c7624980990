"""The services one running Modeldeck uses, built once by ``app.__main__`` and handed in.

Only the cache and the catalog are built up front; every other service (and the
libraries behind it: httpx, keyring, pydantic, tomlkit) is built on first use,
so ``modeldeck models list`` and the GUI's first paint do not pay for them.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from app.services.catalog import CatalogService
from app.services.workspace import Workspace
from app.store.db import Cache

if TYPE_CHECKING:
    from app.services.audit import AuditService
    from app.services.backends import BackendService
    from app.services.deploy import DeployService
    from app.services.doctor import DoctorService
    from app.services.governance import GovernanceService
    from app.services.health import HealthService
    from app.services.notify import NotifyService
    from app.services.registry import RegistryWriteService
    from app.services.settings import SettingsFile
    from app.services.sync import SyncService


class AppContext:
    def __init__(self, workspace: Workspace, cache: Cache, *, demo: bool = False) -> None:
        self.workspace = workspace
        self.cache = cache
        self.catalog = CatalogService(cache)
        #: True when this is the generated demo workspace (asked for, or found to be)
        self.demo = demo or workspace.is_demo

    @classmethod
    def build(cls, workspace: Workspace, *, demo: bool = False) -> AppContext:
        workspace.ensure()
        return cls(workspace, Cache.open(workspace.cache_path), demo=demo)

    @cached_property
    def settings(self) -> SettingsFile:
        """The settings file (backends live in ``backends``; app-wide tables like [sync] here)."""
        from app.services.settings import SettingsFile

        return SettingsFile(self.workspace.settings_path)

    @cached_property
    def backends(self) -> BackendService:
        """Configured backends and their secrets (settings file + OS keyring, read lazily)."""
        from app.adapters.secrets import KeyringSecrets
        from app.services.backends import BackendService, SessionSecrets

        if self.demo:
            # the demo's backends are simulated and need no secret: the OS keyring (where
            # the real workspace's secrets live) is never read nor written from the demo
            return BackendService(self.settings, SessionSecrets(), demo=True)
        return BackendService(self.settings, KeyringSecrets())

    @cached_property
    def doctor(self) -> DoctorService:
        """Connection doctor; keeps the last verdict per backend (no network at start-up)."""
        from app.services.doctor import DoctorService

        return DoctorService(self.backends, self.workspace.data_dir / "backend-status.json")

    @cached_property
    def sync(self) -> SyncService:
        """Registries → cache (full/incremental/quick passes) and run data on demand."""
        from app.services.sync import SyncService

        return SyncService(self.cache, self.backends)

    @cached_property
    def health(self) -> HealthService:
        """Deployment health from the metrics sources (kinds: app.adapters.registry), cached."""
        from app.services.health import HealthService

        return HealthService(self.catalog, self.backends, self.cache, self.workspace.settings_path)

    @cached_property
    def audit(self) -> AuditService:
        """The hash-chained audit trail of deploy actions (in the cache file)."""
        from app.services.audit import AuditService

        return AuditService(self.cache)

    @cached_property
    def deploy(self) -> DeployService:
        """Deploy/scale/canary/promote/rollback/undeploy on targets (app.adapters.registry)."""
        from app.services.deploy import DeployService

        return DeployService(self.cache, self.backends, self.audit)

    @cached_property
    def registry(self) -> RegistryWriteService:
        """Registry writes (aliases, tags, descriptions): plan, apply once, re-read into
        the cache, audit."""
        from app.services.registry import RegistryWriteService

        return RegistryWriteService(self.cache, self.backends, self.audit)

    @cached_property
    def governance(self) -> GovernanceService:
        """The alias policy (``policy.toml`` in the config dir), approvals as registry
        version tags, and the promotion gate between an alias move's plan and apply."""
        from app.services.governance import POLICY_FILE, FilePolicyStore, GovernanceService

        return GovernanceService(
            self.catalog,
            self.registry,
            self.health,
            self.audit,
            self.backends,
            store=FilePolicyStore(self.workspace.config_dir / POLICY_FILE),
        )

    @cached_property
    def notify(self) -> NotifyService:
        """Alert channels (Slack, signed webhooks; URLs in the OS keyring), the delivery
        state (``notify-state.json`` in the data dir) and the watch loop."""
        from app.services.notify import SECRET_SERVICE, STATE_FILE, NotifyService, SecretStore

        secrets: SecretStore
        if self.demo:
            from app.services.backends import SessionSecrets

            # the demo never touches the OS keyring (and refuses to add a channel)
            secrets = SessionSecrets()
        else:
            from app.adapters.secrets import KeyringSecrets

            secrets = KeyringSecrets(service=SECRET_SERVICE)
        return NotifyService(
            self.settings,
            secrets,
            self.audit,
            catalog=self.catalog,
            health=lambda: self.health,
            state_path=self.workspace.data_dir / STATE_FILE,
            demo=self.demo,
        )

    def close(self) -> None:
        if "notify" in self.__dict__:
            self.notify.close()
        if "health" in self.__dict__:
            self.health.close()
        self.cache.close()
