"""Where Modeldeck keeps its files.

By default the platform's user dirs (platformdirs, keyed by the app id);
``MODELDECK_HOME=DIR`` or ``--home DIR`` puts config, cache and logs under DIR.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from app import APP_ID

HOME_ENV = "MODELDECK_HOME"
#: written by ``modeldeck demo`` into the demo workspace's data dir (the demo world:
#: app.adapters.demo.world); its presence is what makes a workspace the demo one
DEMO_MARKER = "demo-world.json"


@dataclass(frozen=True)
class Workspace:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Workspace:
        home = home or os.environ.get(HOME_ENV) or None
        if home:
            return cls.under(Path(home).expanduser().resolve())
        dirs = platformdirs.PlatformDirs(appname=APP_ID, appauthor=False)
        return cls(Path(dirs.user_config_dir), Path(dirs.user_data_dir), Path(dirs.user_log_dir))

    @property
    def cache_path(self) -> Path:
        return self.data_dir / "cache.sqlite"

    @property
    def settings_path(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def demo(self) -> Workspace:
        """The demo workspace lives apart, so it never mixes with real data.

        Everything of it — config, cache, logs — is under ``<data dir>/demo``, so
        ``modeldeck --home <data dir>/demo COMMAND`` runs any command on the demo, and
        nothing the demo does writes to the real workspace's files."""
        return Workspace.under(self.data_dir / "demo")

    @classmethod
    def under(cls, root: Path) -> Workspace:
        """The workspace of ``--home root``: config, data and logs under ``root``."""
        return cls(root / "config", root / "data", root / "logs")

    @property
    def root(self) -> Path:
        """The directory this workspace lives under (``--home``), when it has one."""
        return self.data_dir.parent

    @property
    def is_demo(self) -> bool:
        """Is this the generated demo workspace (``modeldeck demo`` made it)?"""
        return (self.data_dir / DEMO_MARKER).is_file()

    def ensure(self) -> Workspace:
        for d in (self.config_dir, self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self
