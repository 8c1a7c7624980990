"""``modeldeck sync [NAME ...] [--full|--quick]`` and ``modeldeck runs show``: the
headless face of ``SyncService``.

On a terminal, a progress line is redrawn on stderr; ``--json`` prints one
document with a summary per registry on stdout. Exit code 1 when any registry
failed (its reason on stderr), 130 when interrupted (Ctrl-C cancels between pages).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from app.cli.output import Exit, Parser, emit_json
from app.domain.catalog import SyncProgress, SyncResult
from app.domain.errors import ConfigError
from app.domain.kinds import Role, kinds
from app.domain.text import counted

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.services.context import AppContext


def register(sub: Subcommands, common: Parser) -> None:
    s = sub.add_parser(
        "sync",
        parents=[common],
        help="registries → local cache",
        description="Sync model registries into the local cache. Without --full or --quick "
        "an incremental pass runs (a full one on the first sync and when the last "
        "full pass is older than 6 hours).",
    )
    s.add_argument("names", nargs="*", metavar="NAME", help="registries (default: all)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument(
        "--full",
        action="store_true",
        help="fetch every model and version; remove models gone upstream",
    )
    mode.add_argument(
        "--quick",
        action="store_true",
        help="only models/versions with newer timestamps (misses alias/tag-only changes)",
    )
    s.set_defaults(handler=_cmd_sync)

    runs = sub.add_parser("runs", parents=[common], help="training runs behind versions")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", parser_class=Parser)
    rsub.required = True
    show = rsub.add_parser(
        "show", parents=[common], help="params and metrics of a run (cached for offline use)"
    )
    show.add_argument("run_id")
    show.add_argument("--source", required=True, metavar="NAME", help="the registry")
    show.add_argument(
        "--offline", action="store_true", help="only the cached copy; do not ask the registry"
    )
    show.set_defaults(handler=_cmd_runs_show)


class _ProgressLine:
    """A one-line progress display on a terminal's stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.width = 0

    def __call__(self, p: SyncProgress) -> None:
        mode = "full" if p.full else "sync"
        text = (
            f"{p.source}: {mode} {p.phase} — {counted(p.pages, 'page')}, "
            f"{counted(p.models, 'model')}, {counted(p.versions, 'version')}, "
            f"{p.models_per_s:,.0f} models/s"
        )
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()

    def end(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _summary(r: SyncResult) -> str:
    if r.cancelled:
        return f"{r.source}: {r.mode} sync cancelled after {counted(r.pages, 'page')}"
    if not r.ok:
        return f"{r.source}: {r.mode} sync failed: {r.error}"
    return (
        f"{r.source}: {r.mode} sync in {r.duration_s:.1f} s — models +{r.models_added} "
        f"~{r.models_updated} -{r.models_removed}, versions +{r.versions_added} "
        f"~{r.versions_updated} -{r.versions_removed} ({counted(r.models_seen, 'model')} seen)"
    )


def _cmd_sync(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    cancel = threading.Event()
    line = _ProgressLine(sys.stderr) if sys.stderr.isatty() else None
    try:
        results = ctx.sync.sync(
            args.names, full=args.full, quick=args.quick, progress=line, cancel=cancel
        )
    except KeyboardInterrupt:
        cancel.set()
        if line:
            line.end()
        print("modeldeck: sync interrupted; the cache keeps every completed page", file=sys.stderr)
        return Exit.INTERRUPTED
    finally:
        if line:
            line.end()
    if not results:
        registries = "|".join(k.kind.value for k in kinds(Role.CATALOG))
        raise ConfigError(
            "no model registry configured; add one with: "
            f"modeldeck backends add NAME --kind {registries} --url URL"
        )
    for r in results:
        print(_summary(r), file=sys.stderr)
    if args.json:
        emit_json({"ok": all(r.ok for r in results), "results": results}, out)
    failed = [r for r in results if not r.ok]
    if failed:
        reasons = "; ".join(_summary(r) for r in failed)
        print(f"modeldeck: error: {reasons}", file=sys.stderr)
        return Exit.ERROR
    return Exit.OK


def _cmd_runs_show(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    run = ctx.sync.run_data(args.source, args.run_id, refresh=not args.offline)
    if args.json:
        emit_json(run, out)
        return Exit.OK
    out.write(f"run {run.run_id} ({run.source}){'  [cached copy]' if run.stale else ''}\n")
    for label, value in (
        ("name", run.name or "-"),
        ("status", run.status or "-"),
        ("experiment", run.experiment_id or "-"),
        ("link", run.link or "-"),
    ):
        out.write(f"{label:>10}: {value}\n")
    out.write("params:\n")
    for k, v in sorted(run.params.items()):
        out.write(f"  {k} = {v}\n")
    out.write("metrics:\n")
    for k, m in sorted(run.metrics.items()):
        out.write(f"  {k} = {json.dumps(m)}\n")
    return Exit.OK
