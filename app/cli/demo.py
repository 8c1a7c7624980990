"""``modeldeck demo``: a generated demo workspace, apart from the real data, opened in
the app (or, with ``--no-gui``, only generated).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from app.cli.output import Exit, Parser, Startup, emit_json
from app.domain.text import counted

if TYPE_CHECKING:
    from app.cli.output import Subcommands


def register(sub: Subcommands, common: Parser) -> None:
    demo = sub.add_parser(
        "demo", parents=[common], help="open the app on a generated demo workspace"
    )
    demo.add_argument("--models", type=int, default=2000, help="models to generate (default 2000)")
    demo.add_argument("--regenerate", action="store_true", help="throw away and rebuild the demo")
    demo.add_argument(
        "--no-gui", action="store_true", help="only generate the demo cache, do not open the app"
    )
    # the demo builds its own context, on the demo workspace, not the real one
    demo.set_defaults(starter=_cmd_demo)


def _cmd_demo(start: Startup, args: argparse.Namespace, out: TextIO) -> int:
    # lazy: the generator is needed by this command only, not at every CLI start
    from app.services.demo import generate

    demo_ws = start.workspace.demo
    if args.regenerate and demo_ws.cache_path.exists():
        for p in demo_ws.data_dir.glob("cache.sqlite*"):
            p.unlink()
    ctx = start.ctx_factory(demo_ws, True)
    try:
        stats = None
        if ctx.catalog.count() == 0:
            print(f"Generating a demo catalog of {counted(args.models, 'model')}…", file=sys.stderr)
            stats = generate(ctx.cache, args.models)
        if args.no_gui or start.gui is None:
            info = ctx.catalog.info()
            if args.json:
                emit_json(
                    {
                        "cache": info.path,
                        "models": info.models,
                        "versions": info.versions,
                        "deployments": info.deployments,
                        "generated": stats is not None,
                    },
                    out,
                )
            else:
                out.write(
                    f"demo workspace: {info.path} ({counted(info.models, 'model')}, "
                    f"{counted(info.versions, 'version')})\n"
                )
            return Exit.OK
        return start.gui(ctx, [sys.argv[0]])
    finally:
        ctx.close()
