"""``modeldeck demo``: a generated demo workspace, apart from the real data, opened in
the app (or, with ``--no-gui``, only generated).

The demo workspace lives under ``<data dir>/demo`` (its own config, cache and logs);
``modeldeck --home <that dir> COMMAND`` runs any command on it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from typing import TYPE_CHECKING, TextIO

from app.cli.output import Exit, Parser, Startup, emit_json
from app.domain.text import counted

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.services.workspace import Workspace


def register(sub: Subcommands, common: Parser) -> None:
    demo = sub.add_parser(
        "demo", parents=[common], help="open the app on a generated demo workspace"
    )
    demo.add_argument("--models", type=int, default=2000, help="models to generate (default 2000)")
    demo.add_argument("--regenerate", action="store_true", help="throw away and rebuild the demo")
    demo.add_argument(
        "--no-gui",
        action="store_true",
        help="only generate the demo workspace, do not open the app",
    )
    # the demo builds its own context, on the demo workspace, not the real one
    demo.set_defaults(starter=_cmd_demo)


def _reset(demo_ws: Workspace) -> None:
    """Remove the demo workspace (only its own directories, under ``<data dir>/demo``)."""
    for d in (demo_ws.config_dir, demo_ws.data_dir):
        if d.is_dir():
            shutil.rmtree(d)


def _cmd_demo(start: Startup, args: argparse.Namespace, out: TextIO) -> int:
    # lazy: the generator is needed by this command only, not at every CLI start
    from app.services.demo import create

    demo_ws = start.workspace.demo
    # a demo from an older Modeldeck (a cache with no demo world) is rebuilt whole
    outdated = demo_ws.cache_path.exists() and not demo_ws.is_demo
    if args.regenerate or outdated:
        _reset(demo_ws)
    stats = None
    elapsed = 0.0
    if not demo_ws.is_demo:
        print(f"Generating a demo workspace of {counted(args.models, 'model')}…", file=sys.stderr)
        t0 = time.perf_counter()
        stats = create(demo_ws, args.models)
        elapsed = time.perf_counter() - t0
    ctx = start.ctx_factory(demo_ws, True)
    try:
        if args.no_gui or start.gui is None:
            info = ctx.catalog.info()
            backends = ctx.backends.list()
            if args.json:
                emit_json(
                    {
                        "workspace": str(demo_ws.root),
                        "cache": info.path,
                        "models": info.models,
                        "versions": info.versions,
                        "deployments": info.deployments,
                        "backends": [{"name": b.name, "kind": str(b.kind)} for b in backends],
                        "generated": stats is not None,
                        "generate_ms": round(elapsed * 1000) if stats is not None else None,
                    },
                    out,
                )
            else:
                out.write(
                    f"demo workspace: {demo_ws.root} ({counted(info.models, 'model')}, "
                    f"{counted(info.versions, 'version')}, "
                    f"{counted(info.deployments, 'deployment')}, "
                    f"{counted(len(backends), 'simulated backend')})\n"
                    f"run any command on it: modeldeck --home {demo_ws.root} COMMAND\n"
                )
            return Exit.OK
        return start.gui(ctx, [sys.argv[0]])
    finally:
        ctx.close()
