"""The headless face of Modeldeck: ``modeldeck <command> [--json]``.

Every command prints one JSON document on stdout with ``--json`` (messages go
to stderr) and exits non-zero with a one-line reason on failure:
1 for an error the user can act on, 2 for bad usage (``output.Exit``).

This module is the top of ``app.cli``: the parser, the command table, the dispatch.
Each group module registers its commands once, with their handler
(``parser.set_defaults(handler=fn)``); imports point one way, main → groups → output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TextIO

from app import __version__
from app.cli import backends, demo, deploy, governance, health, models, notify, sync
from app.cli.output import Exit, Parser, Startup, UsageError
from app.domain.errors import ConfigError, ModeldeckError
from app.services.workspace import Workspace

if TYPE_CHECKING:
    from app.cli.output import ContextFactory, GuiRunner, Handler, Starter, Subcommands


class _Group(Protocol):
    def register(self, sub: Subcommands, common: Parser) -> None: ...


#: THE command table: every command group, in the order ``modeldeck --help`` lists them.
#: A group adds its parsers and sets each one's ``handler`` (or, for a command that
#: opens its own context, ``starter``); nothing else names a command.
GROUPS: tuple[_Group, ...] = (
    demo,
    models,
    backends,
    sync,
    health,
    deploy,
    governance,
    notify,
)


def build_parser() -> argparse.ArgumentParser:
    common = Parser(add_help=False)
    # SUPPRESS: a subcommand's copy must not reset a value given before the subcommand
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON document on stdout",
    )
    common.add_argument(
        "--home",
        metavar="DIR",
        default=argparse.SUPPRESS,
        help="keep config, cache and logs under DIR (or set MODELDECK_HOME)",
    )

    p = Parser(
        prog="modeldeck",
        description="Desktop control center for ML models in production. "
        "Without a command, opens the app.",
        parents=[common],
    )
    p.add_argument("--version", action="version", version=f"modeldeck {__version__}")
    p.add_argument(
        "--self-test",
        action="store_true",
        help="open the app offscreen on a temporary demo, check every part, print one line",
    )
    # no command: the app (a subcommand's own defaults replace these)
    p.set_defaults(handler=None, starter=None)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in GROUPS:
        group.register(sub, common)
    return p


def run(
    argv: Sequence[str],
    *,
    ctx_factory: ContextFactory,
    gui: GuiRunner | None = None,
    out: TextIO | None = None,
    self_test: Callable[[], int] | None = None,
) -> int:
    """Parse ``argv`` and run one command; returns the exit code."""
    out = out or sys.stdout
    try:
        args = build_parser().parse_args(list(argv))
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return Exit.USAGE
    args.json = getattr(args, "json", False)
    args.home = getattr(args, "home", None)
    if args.self_test:
        if self_test is None:
            print("modeldeck: this build has no self-test", file=sys.stderr)
            return Exit.ERROR
        return self_test()
    ws = Workspace.resolve(args.home)
    handler: Handler | None = args.handler
    starter: Starter | None = args.starter
    try:
        if starter is not None:
            return starter(Startup(ws, ctx_factory, gui), args, out)
        ctx = ctx_factory(ws, False)
        try:
            if ctx.cache.notice:
                print(f"modeldeck: {ctx.cache.notice}", file=sys.stderr)
            if handler is None:
                if gui is None:
                    raise ConfigError("this build has no GUI")
                return gui(ctx, [sys.argv[0]])
            return handler(ctx, args, out)
        finally:
            ctx.close()
    except UsageError as exc:
        print(f"modeldeck: {exc}", file=sys.stderr)
        return Exit.USAGE
    except ModeldeckError as exc:
        print(f"modeldeck: error: {exc}", file=sys.stderr)
        return Exit.ERROR
