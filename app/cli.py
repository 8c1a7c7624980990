"""The headless face of Modeldeck: ``modeldeck <command> [--json]``.

Every command prints one JSON document on stdout with ``--json`` (messages go
to stderr) and exits non-zero with a one-line reason on failure:
1 for an error the user can act on, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from app import __version__, cli_backends, cli_deploy, cli_health, cli_sync
from app.domain.errors import ConfigError, ModeldeckError
from app.domain.models import CatalogQuery, ModelDetail, RegisteredModel
from app.services.context import AppContext
from app.services.workspace import Workspace

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2

#: builds the services for a workspace; injected so tests and the GUI share one wiring
ContextFactory = Callable[[Workspace, bool], AppContext]
GuiRunner = Callable[[AppContext, list[str]], int]


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


# ------------------------------------------------------------------ output
def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(value: Any, out: TextIO) -> None:
    json.dump(to_jsonable(value), out, ensure_ascii=False, indent=2)
    out.write("\n")


def _ago(when: datetime | None) -> str:
    if when is None:
        return "never"
    seconds = (datetime.now(tz=UTC) - when).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if abs(seconds) >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def _table(rows: Sequence[Sequence[str]], headers: Sequence[str], out: TextIO) -> None:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    for row in (headers, *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


# ------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
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

    p = _Parser(
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
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo", parents=[common], help="open the app on a generated demo workspace"
    )
    demo.add_argument("--models", type=int, default=2000, help="models to generate (default 2000)")
    demo.add_argument("--regenerate", action="store_true", help="throw away and rebuild the demo")
    demo.add_argument(
        "--no-gui", action="store_true", help="only generate the demo cache, do not open the app"
    )

    models = sub.add_parser("models", parents=[common], help="browse the cached catalog")
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", parser_class=_Parser)
    msub.required = True
    ml = msub.add_parser("list", parents=[common], help="list or search cached models")
    ml.add_argument(
        "--search", metavar="TEXT", default="", help='e.g. "fraud owner:ana tag:team=nlp"'
    )
    ml.add_argument("--alias", action="append", default=[], metavar="A", help="has alias A")
    ml.add_argument("--tag", action="append", default=[], metavar="K=V", help="has tag K (=V)")
    ml.add_argument("--source", metavar="NAME", help="only models of this registry")
    ml.add_argument("--limit", type=int, default=None, metavar="N", help="at most N models")
    ml.add_argument("--sort", default="name", help="name, updated, created, owner, flavor, ...")
    ml.add_argument("--desc", action="store_true", help="sort descending")
    ms = msub.add_parser("show", parents=[common], help="one model with all its versions")
    ms.add_argument("name")
    ms.add_argument("--source", metavar="NAME", help="registry, when the name is in several")

    cache = sub.add_parser("cache", parents=[common], help="the local catalog cache")
    csub = cache.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=_Parser)
    csub.required = True
    csub.add_parser("info", parents=[common], help="path, schema, counts, last sync per source")

    cli_backends.add_parsers(sub, common, _Parser)
    cli_sync.add_parsers(sub, common, _Parser)
    cli_health.add_parsers(sub, common, _Parser)
    cli_deploy.add_parsers(sub, common, _Parser)
    return p


# ------------------------------------------------------------------ commands
def _cmd_models_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    if args.limit is not None and args.limit < 0:
        raise UsageError("--limit must be 0 or more")
    query = CatalogQuery.parse(args.search)
    tags = [(k, v if sep else None) for k, sep, v in (t.partition("=") for t in args.tag)]
    query = dataclasses.replace(
        query,
        tags=query.tags + tuple(tags),
        aliases=query.aliases + tuple(args.alias),
        source=args.source or query.source,
    )
    found = ctx.catalog.search(query, limit=args.limit, sort=args.sort, descending=args.desc)
    if args.json:
        emit_json({"count": len(found), "models": found}, out)
        return EXIT_OK
    _table([_model_row(m) for m in found], _MODEL_HEADERS, out)
    total = ctx.catalog.count(query)
    print(f"{len(found)} of {total} models", file=sys.stderr)
    return EXIT_OK


_MODEL_HEADERS = ("NAME", "SOURCE", "LATEST", "ALIASES", "OWNER", "FLAVOR", "UPDATED")


def _model_row(m: RegisteredModel) -> tuple[str, ...]:
    aliases = ",".join(f"{a}@{v}" for a, v in sorted(m.aliases.items()))
    return (
        m.name,
        m.source,
        m.latest_version or "-",
        aliases or "-",
        m.owner or "-",
        m.flavor or "-",
        _ago(m.updated_at),
    )


def _cmd_models_show(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    detail: ModelDetail = ctx.catalog.show(args.name, args.source)
    if args.json:
        emit_json(detail, out)
        return EXIT_OK
    m = detail.model
    out.write(f"{m.name}  ({m.source})\n")
    if m.description:
        out.write(f"\n{m.description}\n\n")
    for label, value in (
        ("owner", m.owner or "-"),
        ("flavor", m.flavor or "-"),
        ("aliases", ", ".join(f"{a} → v{v}" for a, v in sorted(m.aliases.items())) or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(m.tags.items())) or "-"),
        ("updated", _ago(m.updated_at)),
    ):
        out.write(f"{label:>9}: {value}\n")
    out.write(f"\n{len(detail.versions)} versions\n")
    _table(
        [
            (
                v.version,
                str(v.status),
                v.stage or "-",
                ",".join(v.aliases) or "-",
                v.source_uri or "-",
                _ago(v.created_at),
            )
            for v in detail.versions
        ],
        ("VERSION", "STATUS", "STAGE", "ALIASES", "SOURCE", "CREATED"),
        out,
    )
    if detail.deployments:
        out.write("\ndeployed on\n")
        _table(
            [
                (
                    d.target,
                    d.app,
                    str(d.status),
                    " ".join(f"v{v}:{p}%" for v, p in d.traffic.items()),
                )
                for d in detail.deployments
            ],
            ("TARGET", "APP", "STATUS", "TRAFFIC"),
            out,
        )
    return EXIT_OK


def _cmd_cache_info(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    info = ctx.catalog.info()
    if args.json:
        emit_json(info, out)
        return EXIT_OK
    out.write(f"path:      {info.path}\n")
    out.write(f"schema:    {info.schema_version}\n")
    out.write(f"size:      {info.size_bytes / 1e6:.1f} MB\n")
    out.write(f"models:    {info.models}\nversions:  {info.versions}\n")
    out.write(f"deployed:  {info.deployments} apps\n")
    if info.sources:
        out.write("sources:\n")
        for s in info.sources:
            err = f"  last error: {s.last_error}" if s.last_error else ""
            out.write(
                f"  {s.name} ({s.kind}) {s.models} models, synced {_ago(s.last_sync_at)}{err}\n"
            )
    else:
        out.write("sources:   none synced yet\n")
    return EXIT_OK


def _cmd_demo(
    ctx_factory: ContextFactory,
    gui: GuiRunner | None,
    ws: Workspace,
    args: argparse.Namespace,
    out: TextIO,
) -> int:
    from app.services.demo import generate

    demo_ws = ws.demo
    if args.regenerate and demo_ws.cache_path.exists():
        for p in demo_ws.data_dir.glob("cache.sqlite*"):
            p.unlink()
    ctx = ctx_factory(demo_ws, True)
    try:
        stats = None
        if ctx.catalog.count() == 0:
            print(f"Generating a demo catalog of {args.models} models…", file=sys.stderr)
            stats = generate(ctx.cache, args.models)
        if args.no_gui or gui is None:
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
                    f"demo workspace: {info.path} ({info.models} models, "
                    f"{info.versions} versions)\n"
                )
            return EXIT_OK
        return gui(ctx, [sys.argv[0]])
    finally:
        ctx.close()


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
        return EXIT_USAGE
    args.json = getattr(args, "json", False)
    args.home = getattr(args, "home", None)
    if args.self_test:
        if self_test is None:
            print("modeldeck: this build has no self-test", file=sys.stderr)
            return EXIT_ERROR
        return self_test()
    ws = Workspace.resolve(args.home)
    try:
        if args.command == "demo":
            return _cmd_demo(ctx_factory, gui, ws, args, out)
        ctx = ctx_factory(ws, False)
        try:
            if ctx.cache.notice:
                print(f"modeldeck: {ctx.cache.notice}", file=sys.stderr)
            if args.command is None:
                if gui is None:
                    raise ConfigError("this build has no GUI")
                return gui(ctx, [sys.argv[0]])
            handler = {
                ("models", "list"): _cmd_models_list,
                ("models", "show"): _cmd_models_show,
                ("cache", "info"): _cmd_cache_info,
                **cli_backends.handlers(),
                **cli_sync.handlers(),
                **cli_health.handlers(),
                **cli_deploy.handlers(),
            }[(args.command, getattr(args, f"{args.command}_command", None))]
            return handler(ctx, args, out)
        finally:
            ctx.close()
    except UsageError as exc:
        print(f"modeldeck: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModeldeckError as exc:
        print(f"modeldeck: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
