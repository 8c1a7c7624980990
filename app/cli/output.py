"""What every command shares: exit codes, the usage error, the argument parser, JSON
and table output, and the types a command group registers its handlers with.

The bottom layer of ``app.cli``: it imports no command module.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

from app.domain.errors import ConfigError
from app.domain.text import NEVER, iso_time, relative_time

if TYPE_CHECKING:
    from typing import TypeAlias

    from app.services.context import AppContext
    from app.services.workspace import Workspace


class Exit(enum.IntEnum):
    """The process exit codes of ``modeldeck``."""

    OK = 0
    #: an error the user can act on (the reason is one line on stderr)
    ERROR = 1
    #: bad command-line input
    USAGE = 2
    #: Ctrl-C (``sync``: the cache keeps every completed page)
    INTERRUPTED = 130


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors raise ``UsageError`` instead of exiting, so
    ``run()`` prints one line and returns ``Exit.USAGE``."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


@dataclasses.dataclass(frozen=True)
class Startup:
    """What a command that opens its own context gets instead of a context."""

    workspace: Workspace
    ctx_factory: ContextFactory
    gui: GuiRunner | None


if TYPE_CHECKING:
    #: what ``add_subparsers()`` returns; each group module adds its commands to it
    Subcommands: TypeAlias = argparse._SubParsersAction[Parser]
    #: builds the services for a workspace; injected so tests and the GUI share one wiring
    ContextFactory: TypeAlias = Callable[[Workspace, bool], AppContext]
    #: opens the desktop app on a context (absent in a headless build)
    GuiRunner: TypeAlias = Callable[[AppContext, list[str]], int]
    #: a command run on the workspace's context (opened and closed by ``main.run``);
    #: set on its parser with ``parser.set_defaults(handler=fn)``
    Handler: TypeAlias = Callable[[AppContext, argparse.Namespace, TextIO], int]
    #: a command that builds its own context (``demo``: a workspace apart, maybe the
    #: GUI); set on its parser with ``parser.set_defaults(starter=fn)``
    Starter: TypeAlias = Callable[[Startup, argparse.Namespace, TextIO], int]


# ------------------------------------------------------------------ output
def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and datetimes (ISO 8601 UTC) as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(value: Any, out: TextIO) -> None:
    """The one JSON document of a ``--json`` command."""
    json.dump(to_jsonable(value), out, ensure_ascii=False, indent=2)
    out.write("\n")


def ago(when: datetime | None) -> str:
    """A relative time as the CLI prints it: ``never`` when there is none."""
    return relative_time(when, missing=NEVER)


def table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO) -> None:
    """Left-aligned columns two spaces apart, headers first."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for row in (headers, *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def parse_at(text: str | None) -> float | None:
    """``--at ISO`` as seconds since the epoch (UTC when no zone is given); None: now."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--at {text!r}: use an ISO time such as 2026-11-01T12:00Z") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()
