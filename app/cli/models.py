"""``modeldeck models list|show`` and ``modeldeck cache info``: the cached catalog, the
headless face of ``CatalogService``. The registry writes under ``models`` (``tag``,
``describe``, ``alias``) live in ``app.cli.registry``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING, TextIO

from app.cli import registry
from app.cli.output import Exit, Parser, UsageError, ago, emit_json, table
from app.domain.models import CatalogQuery, ModelDetail, RegisteredModel
from app.domain.text import counted, plural

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.services.context import AppContext


def register(sub: Subcommands, common: Parser) -> None:
    models = sub.add_parser(
        "models", parents=[common], help="browse the cached catalog; tag, describe, alias"
    )
    msub = models.add_subparsers(dest="models_command", metavar="ACTION", parser_class=Parser)
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
    ml.set_defaults(handler=_cmd_list)

    ms = msub.add_parser("show", parents=[common], help="one model with all its versions")
    ms.add_argument("name")
    ms.add_argument("--source", metavar="NAME", help="registry, when the name is in several")
    ms.set_defaults(handler=_cmd_show)
    registry.register(msub, common)

    cache = sub.add_parser("cache", parents=[common], help="the local catalog cache")
    csub = cache.add_subparsers(dest="cache_command", metavar="ACTION", parser_class=Parser)
    csub.required = True
    ci = csub.add_parser(
        "info", parents=[common], help="path, schema, counts, last sync per source"
    )
    ci.set_defaults(handler=_cmd_cache_info)


def _cmd_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
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
        return Exit.OK
    table([_model_row(m) for m in found], _MODEL_HEADERS, out)
    total = ctx.catalog.count(query)
    print(f"{len(found)} of {total} {plural(total, 'model')}", file=sys.stderr)
    return Exit.OK


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
        ago(m.updated_at),
    )


def _cmd_show(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    detail: ModelDetail = ctx.catalog.show(args.name, args.source)
    if args.json:
        emit_json(detail, out)
        return Exit.OK
    m = detail.model
    out.write(f"{m.name}  ({m.source})\n")
    if m.description:
        out.write(f"\n{m.description}\n\n")
    for label, value in (
        ("owner", m.owner or "-"),
        ("flavor", m.flavor or "-"),
        ("aliases", ", ".join(f"{a} → v{v}" for a, v in sorted(m.aliases.items())) or "-"),
        ("tags", ", ".join(f"{k}={v}" for k, v in sorted(m.tags.items())) or "-"),
        ("updated", ago(m.updated_at)),
    ):
        out.write(f"{label:>9}: {value}\n")
    out.write(f"\n{counted(len(detail.versions), 'version')}\n")
    table(
        [
            (
                v.version,
                str(v.status),
                v.stage or "-",
                ",".join(v.aliases) or "-",
                v.source_uri or "-",
                ago(v.created_at),
            )
            for v in detail.versions
        ],
        ("VERSION", "STATUS", "STAGE", "ALIASES", "SOURCE", "CREATED"),
        out,
    )
    if detail.deployments:
        out.write("\ndeployed on\n")
        table(
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
    return Exit.OK


def _cmd_cache_info(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    info = ctx.catalog.info()
    if args.json:
        emit_json(info, out)
        return Exit.OK
    out.write(f"path:      {info.path}\n")
    out.write(f"schema:    {info.schema_version}\n")
    out.write(f"size:      {info.size_bytes / 1e6:.1f} MB\n")
    out.write(f"models:    {info.models}\nversions:  {info.versions}\n")
    out.write(f"deployed:  {counted(info.deployments, 'app')}\n")
    if info.sources:
        out.write("sources:\n")
        for s in info.sources:
            err = f"  last error: {s.last_error}" if s.last_error else ""
            out.write(
                f"  {s.name} ({s.kind}) {counted(s.models, 'model')}, "
                f"synced {ago(s.last_sync_at)}{err}\n"
            )
    else:
        out.write("sources:   none synced yet\n")
    return Exit.OK
