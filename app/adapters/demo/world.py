"""The demo workspace's simulated world: one JSON file (``demo-world.json`` in the demo
workspace's data dir) shared by the demo adapters, the CLI and the GUI.

It holds what the generated catalog was built from (so the demo registry hands out the
same catalog), every demo cluster's declarative config and the runtime of its apps
(when each config was applied, a timeline of traffic splits and replicas for the
charts), the generated incidents (a version with a latency spike, one failing with
errors, an exporter gap) and the versions that fail to start.

Writes replace the whole file atomically; a writer re-reads under a lock first.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.errors import Unreachable
from app.domain.models import Backend

WORLD_FILE = "demo-world.json"
FORMAT = 1

_lock = threading.RLock()


def world_path(data_dir: Path) -> Path:
    return data_dir / WORLD_FILE


def workspace_of(backend: Backend) -> Path | None:
    """The demo data dir a demo backend simulates (its ``workspace`` option), if set."""
    raw = backend.options.get("workspace")
    return Path(raw) if isinstance(raw, str) and raw else None


@dataclass
class World:
    """The parsed world file (plain JSON-like data; ``save`` writes it back)."""

    path: Path
    data: dict[str, Any]

    @property
    def catalog(self) -> Mapping[str, Any]:
        value = self.data.get("catalog")
        return value if isinstance(value, Mapping) else {}

    def clusters(self) -> dict[str, Any]:
        value = self.data.setdefault("clusters", {})
        assert isinstance(value, dict)
        return value

    def cluster(self, name: str) -> dict[str, Any] | None:
        found = self.clusters().get(name)
        return found if isinstance(found, dict) else None

    def incidents(self) -> Mapping[str, Any]:
        value = self.data.get("incidents")
        return value if isinstance(value, Mapping) else {}

    def broken(self) -> Mapping[str, Any]:
        value = self.data.get("broken")
        return value if isinstance(value, Mapping) else {}


def new_cluster(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "settings": dict(settings or {}),
        "apps": [],
        "runtime": {},
        "history": {},
    }


def load(backend_name: str, data_dir: Path | None) -> World:
    """The world of the demo workspace at ``data_dir`` (``Unreachable`` naming
    ``backend_name`` when there is none: the demo backends exist only there)."""
    if data_dir is None:
        raise Unreachable(
            backend_name,
            "a demo backend without its 'workspace' option: demo backends are simulated "
            "and exist only in the demo workspace (modeldeck demo)",
        )
    path = world_path(data_dir)
    with _lock:
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise Unreachable(
                backend_name,
                f"no demo workspace at {data_dir} (no {WORLD_FILE}); demo backends are "
                "simulated and exist only in the demo workspace — regenerate it with: "
                "modeldeck demo --regenerate",
            ) from None
        except OSError as exc:
            raise Unreachable(backend_name, f"cannot read {path}: {exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Unreachable(
            backend_name, f"{path} is damaged ({exc}); regenerate: modeldeck demo --regenerate"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise Unreachable(
            backend_name,
            f"{path} is from another Modeldeck; regenerate: modeldeck demo --regenerate",
        )
    return World(path, data)


def save(world: World) -> None:
    """Replace the world file atomically."""
    with _lock:
        world.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".demo-world-", dir=world.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(world.data, fh, separators=(",", ":"), sort_keys=True)
            os.replace(tmp, world.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def update(backend_name: str, data_dir: Path | None, change: Callable[[World], None]) -> World:
    """Read, change and write the world under the lock (one writer at a time here)."""
    with _lock:
        world = load(backend_name, data_dir)
        change(world)
        save(world)
        return world


def create(data_dir: Path, data: dict[str, Any]) -> World:
    """Write a fresh world (the demo generator)."""
    world = World(world_path(data_dir), {**data, "format": FORMAT})
    save(world)
    return world
