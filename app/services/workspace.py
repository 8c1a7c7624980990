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


@dataclass(frozen=True)
class Workspace:
    config_dir: Path
    data_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike[str] | None = None) -> Workspace:
        home = home or os.environ.get(HOME_ENV) or None
        if home:
            root = Path(home).expanduser().resolve()
            return cls(root / "config", root / "data", root / "logs")
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
        """The demo workspace lives apart, so it never mixes with real data."""
        root = self.data_dir / "demo"
        return Workspace(root / "config", root / "data", self.log_dir)

    def ensure(self) -> Workspace:
        for d in (self.config_dir, self.data_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True)
        return self
