"""Registry writes under ``modeldeck models``: ``tag set|remove``, ``describe`` and
``alias set|remove`` — the headless face of ``RegistryWriteService``.

Like ``modeldeck deploy``, a write is a plan first: ``--dry-run`` prints it and writes
nothing; ``--yes`` applies it; without ``--yes`` a terminal is asked, and without a
terminal nothing is written. ``alias set`` plans through
``RegistryWriteService.plan_alias_move`` and applies through :func:`finish`, so a policy
gate can sit between the two.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.output import Exit, Parser, UsageError, emit_json
from app.domain.errors import ConfigError
from app.domain.registry import RegistryChange

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.domain.registry import WriteOutcome, WritePlan
    from app.services.context import AppContext

#: what --text-file reads at most (MLflow keeps descriptions far shorter in practice)
MAX_TEXT_BYTES = 1_000_000


def register(msub: Subcommands, common: Parser) -> None:
    """Add ``tag``, ``describe`` and ``alias`` to the ``models`` group's actions."""
    confirm = Parser(add_help=False)
    confirm.add_argument("--source", metavar="NAME", help="the registry (when not the only one)")
    confirm.add_argument("--yes", action="store_true", help="write without asking")
    confirm.add_argument("--dry-run", action="store_true", help="print the plan only")
    on_version = Parser(add_help=False)
    on_version.add_argument("--version", metavar="V", help="on version V (default: the model)")

    tag = msub.add_parser("tag", parents=[common], help="set or remove a tag in the registry")
    tsub = tag.add_subparsers(dest="tag_command", metavar="ACTION", parser_class=Parser)
    tsub.required = True
    ts = tsub.add_parser(
        "set", parents=[common, confirm, on_version], help="set a tag on a model or a version"
    )
    ts.add_argument("model")
    ts.add_argument("pair", metavar="KEY=VALUE")
    ts.set_defaults(handler=_cmd_tag_set)
    tr = tsub.add_parser(
        "remove", parents=[common, confirm, on_version], help="remove a tag from a model/version"
    )
    tr.add_argument("model")
    tr.add_argument("key")
    tr.set_defaults(handler=_cmd_tag_remove)

    de = msub.add_parser(
        "describe",
        parents=[common, confirm, on_version],
        help="replace a model's or a version's Markdown description",
    )
    de.add_argument("model")
    de.add_argument(
        "--text-file",
        metavar="FILE",
        required=True,
        help="the new Markdown text (UTF-8; '-' reads standard input; an empty file clears it)",
    )
    de.set_defaults(handler=_cmd_describe)

    alias = msub.add_parser("alias", parents=[common], help="set, move or remove an alias")
    asub = alias.add_subparsers(dest="alias_command", metavar="ACTION", parser_class=Parser)
    asub.required = True
    aset = asub.add_parser(
        "set", parents=[common, confirm], help="point an alias at a version (creates or moves it)"
    )
    aset.add_argument("model")
    aset.add_argument("alias")
    aset.add_argument("version")
    aset.add_argument(
        "--override",
        action="store_true",
        help="move it although the policy gate is closed (rules with override = "
        '"with-reason"; audited as an override)',
    )
    aset.add_argument("--reason", metavar="TEXT", help="why the override (required with it)")
    aset.set_defaults(handler=_cmd_alias_set)
    arm = asub.add_parser("remove", parents=[common, confirm], help="remove an alias")
    arm.add_argument("model")
    arm.add_argument("alias")
    arm.set_defaults(handler=_cmd_alias_remove)


# ------------------------------------------------------------------ commands
def _cmd_tag_set(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    key, sep, value = args.pair.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"tag set: {args.pair!r}: give the tag as KEY=VALUE")
    source = ctx.registry.resolve_source(args.model, args.source)
    change = RegistryChange.set_tag(source, args.model, key, value, version=args.version)
    return finish(ctx, args, out, ctx.registry.plan(change))


def _cmd_tag_remove(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    source = ctx.registry.resolve_source(args.model, args.source)
    change = RegistryChange.remove_tag(source, args.model, args.key, version=args.version)
    return finish(ctx, args, out, ctx.registry.plan(change))


def _cmd_describe(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    from_stdin = args.text_file == "-"
    if from_stdin and not (args.yes or args.dry_run):
        raise ConfigError(
            "describe: the text comes from standard input, so nothing can be asked there; "
            "add --yes (or --dry-run)"
        )
    text = _read_text(args.text_file)
    source = ctx.registry.resolve_source(args.model, args.source)
    change = RegistryChange.describe(source, args.model, text, version=args.version)
    return finish(ctx, args, out, ctx.registry.plan(change))


def _cmd_alias_set(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    if args.reason is not None and not args.override:
        raise UsageError("alias set: --reason goes with --override")
    if args.override and not (args.reason or "").strip():
        raise UsageError("alias set: --override needs --reason TEXT")
    plan = ctx.registry.plan_alias_move(args.model, args.alias, args.version, source=args.source)
    # the policy gate (app.services.governance) sits between the plan and the apply
    promotion = ctx.governance.plan_promotion(plan, override=args.override, reason=args.reason)
    if args.dry_run or plan.no_op or not promotion.allowed:
        if args.json:
            emit_json({"plan": plan.to_json(), "gate": promotion.evidence(), "applied": False}, out)
        else:
            out.write(promotion.text() + "\n")
        if not (args.dry_run or plan.no_op):
            ctx.governance.promote(promotion)  # records the refusal, raises GateRefused
        return Exit.OK if promotion.allowed or plan.no_op else Exit.ERROR
    if not args.json:
        print(promotion.gate.text(), file=sys.stderr)
        if promotion.decision.overridden:
            print(f"OVERRIDE: {promotion.decision.why}", file=sys.stderr)
    return finish(
        ctx,
        args,
        out,
        plan,
        audit_action=promotion.audit_action,
        evidence=promotion.evidence(),
    )


def _cmd_alias_remove(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    source = ctx.registry.resolve_source(args.model, args.source)
    change = RegistryChange.remove_alias(source, args.model, args.alias)
    return finish(ctx, args, out, ctx.registry.plan(change))


# ------------------------------------------------------------------ confirm and apply
def finish(
    ctx: AppContext,
    args: argparse.Namespace,
    out: TextIO,
    plan: WritePlan,
    *,
    audit_action: str | None = None,
    evidence: Mapping[str, Any] | None = None,
) -> int:
    """Show ``plan`` (``--dry-run``: only that), confirm it (``--yes``, or a yes on a
    terminal; without either nothing is written) and apply it once."""
    if args.dry_run or plan.no_op:
        if args.json:
            emit_json({"plan": plan.to_json(), "applied": False}, out)
        else:
            out.write(plan.text() + "\n")
        return Exit.OK
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"{plan.title}: not written — add --yes to write without a terminal "
                "(or --dry-run to see the plan)"
            )
        print(plan.text(), file=sys.stderr)
        answer = input(f"{plan.title}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("modeldeck: nothing changed", file=sys.stderr)
            return Exit.ERROR
    elif not args.json:
        print(plan.text(), file=sys.stderr)
    outcome = ctx.registry.apply(plan, audit_action=audit_action, evidence=evidence)
    if args.json:
        emit_json(_outcome_json(outcome), out)
    else:
        out.write(f"{plan.change.model} ({plan.change.source}): {outcome.message}\n")
    return Exit.OK


def _outcome_json(o: WriteOutcome) -> dict[str, Any]:
    return {"applied": True, **o.to_json()}


def _read_text(name: str) -> str:
    if name == "-":
        data = sys.stdin.buffer.read(MAX_TEXT_BYTES + 1)
    else:
        path = Path(name)
        try:
            with path.open("rb") as f:
                data = f.read(MAX_TEXT_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"--text-file {name}: {exc.strerror or exc}") from None
    if len(data) > MAX_TEXT_BYTES:
        raise ConfigError(f"--text-file {name}: longer than {MAX_TEXT_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--text-file {name}: not UTF-8 text ({exc.reason})") from None
