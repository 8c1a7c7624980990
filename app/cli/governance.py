"""Governance commands: ``approve``, ``approvals list|revoke`` and ``policy
set|show|check`` — the headless face of ``GovernanceService``.

A write (an approval, a revocation, installing a policy) is a plan first: ``--dry-run``
prints it and writes nothing, ``--yes`` applies it, without ``--yes`` a terminal is
asked and without a terminal nothing is written. A refusal exits 1 with one line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.output import Exit, Parser, emit_json, table
from app.domain.errors import ConfigError
from app.domain.text import counted

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.domain.policy import Approval, Gate
    from app.domain.registry import WriteOutcome
    from app.services.context import AppContext
    from app.services.governance import ApprovalPlan


def register(sub: Subcommands, common: Parser) -> None:
    writes = Parser(add_help=False)
    writes.add_argument("--yes", action="store_true", help="write without asking")
    writes.add_argument("--dry-run", action="store_true", help="print the plan only")
    source = Parser(add_help=False)
    source.add_argument("--source", metavar="NAME", help="the registry (when not the only one)")

    ap = sub.add_parser(
        "approve",
        parents=[common, writes, source],
        help="approve a model version for an alias (a version tag in the registry)",
    )
    ap.add_argument("model")
    ap.add_argument("version")
    ap.add_argument("--for", dest="alias", metavar="ALIAS", required=True, help="the alias")
    ap.add_argument("--note", metavar="TEXT", default="", help="why (kept with the approval)")
    ap.set_defaults(handler=_cmd_approve)

    apps = sub.add_parser("approvals", parents=[common], help="approvals kept in the registry")
    asub = apps.add_subparsers(dest="approvals_command", metavar="ACTION", parser_class=Parser)
    asub.required = True
    al = asub.add_parser(
        "list", parents=[common, source], help="a model's approvals (as of the last sync)"
    )
    al.add_argument("model")
    al.add_argument("--version", metavar="V", help="only this version")
    al.set_defaults(handler=_cmd_approvals_list)
    ar = asub.add_parser(
        "revoke", parents=[common, writes, source], help="withdraw your approval of a version"
    )
    ar.add_argument("model")
    ar.add_argument("version")
    ar.add_argument("--for", dest="alias", metavar="ALIAS", required=True, help="the alias")
    ar.set_defaults(handler=_cmd_revoke)

    pol = sub.add_parser("policy", parents=[common], help="the team's alias policy (TOML)")
    psub = pol.add_subparsers(dest="policy_command", metavar="ACTION", parser_class=Parser)
    psub.required = True
    ps = psub.add_parser(
        "set", parents=[common, writes], help="validate and install a policy file (audited)"
    )
    ps.add_argument("file")
    ps.set_defaults(handler=_cmd_policy_set)
    pw = psub.add_parser("show", parents=[common], help="the installed policy")
    pw.set_defaults(handler=_cmd_policy_show)
    pc = psub.add_parser(
        "check",
        parents=[common, source],
        help="the gate table of pointing ALIAS at a version (writes nothing)",
    )
    pc.add_argument("model")
    pc.add_argument("version")
    pc.add_argument("--alias", metavar="ALIAS", required=True, help="the alias to judge")
    pc.set_defaults(handler=_cmd_policy_check)


# ------------------------------------------------------------------ confirm
def _confirmed(args: argparse.Namespace, title: str, text: str) -> bool:
    """``--yes``, or a yes on a terminal; without a terminal nothing is written."""
    if args.yes:
        if not args.json:
            print(text, file=sys.stderr)
        return True
    if not sys.stdin.isatty():
        raise ConfigError(
            f"{title}: not written — add --yes to write without a terminal "
            "(or --dry-run to see the plan)"
        )
    print(text, file=sys.stderr)
    answer = input(f"{title}? [y/N] ")
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("modeldeck: nothing changed", file=sys.stderr)
    return False


def _write_plan(ctx: AppContext, args: argparse.Namespace, out: TextIO, plan: ApprovalPlan) -> int:
    if args.dry_run or plan.write.no_op:
        if args.json:
            emit_json({"plan": plan.to_json(), "applied": False}, out)
        else:
            out.write(plan.text() + "\n")
        return Exit.OK
    if not _confirmed(args, plan.summary, plan.text()):
        return Exit.ERROR
    gov = ctx.governance
    outcome: WriteOutcome = gov.revoke(plan) if plan.revoke else gov.approve(plan)
    if args.json:
        emit_json({"plan": plan.to_json(), "applied": True, **outcome.to_json()}, out)
    else:
        out.write(f"{plan.summary}: done — {outcome.message}\n")
    return Exit.OK


# ------------------------------------------------------------------ approvals
def _cmd_approve(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    plan = ctx.governance.plan_approval(
        args.model, args.version, args.alias, note=args.note, source=args.source
    )
    return _write_plan(ctx, args, out, plan)


def _cmd_revoke(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    plan = ctx.governance.plan_revoke(args.model, args.version, args.alias, source=args.source)
    return _write_plan(ctx, args, out, plan)


def _approval_row(a: Approval) -> dict[str, Any]:
    return {
        "model": a.model,
        "version": a.version,
        "source": a.source,
        "alias": a.alias,
        "actor": a.actor,
        "at": a.at,
        "note": a.note,
        "verified_by": a.verified_by,
        "identity": a.identity,
    }


def _cmd_approvals_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    found = ctx.governance.approvals(args.model, version=args.version, source=args.source)
    if args.json:
        emit_json({"count": len(found), "approvals": [_approval_row(a) for a in found]}, out)
        return Exit.OK
    table(
        [
            (
                a.version,
                a.alias,
                a.actor,
                a.at.strftime("%Y-%m-%d %H:%M UTC"),
                a.identity,
                a.note[:50],
            )
            for a in found
        ],
        ("VERSION", "ALIAS", "BY", "AT", "IDENTITY", "NOTE"),
        out,
    )
    print(f"{counted(len(found), 'approval')} (as of the last sync)", file=sys.stderr)
    return Exit.OK


# ------------------------------------------------------------------ policy
def _cmd_policy_set(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    gov = ctx.governance
    path = Path(args.file)
    checked = gov.install_policy(path, dry_run=True)
    rules = ", ".join(r.name for r in checked.policy.rules) or "no rules"
    title = f"install {path} as the policy ({counted(len(checked.policy.rules), 'rule')})"
    text = (
        f"{title}\n  rules: {rules}\n  sha256: {checked.policy.digest}\n"
        f"  replaces: {checked.previous or '(none)'}\n  into: {checked.where}"
    )
    if args.dry_run or checked.previous == checked.policy.digest:
        if args.json:
            emit_json(_install_json(checked, applied=False), out)
        else:
            same = checked.previous == checked.policy.digest
            out.write(text + ("\n  already installed: nothing to write" if same else "") + "\n")
        return Exit.OK
    if not _confirmed(args, title, text):
        return Exit.ERROR
    done = gov.install_policy(path)
    if args.json:
        emit_json(_install_json(done, applied=True), out)
    else:
        out.write(
            f"policy installed: {counted(len(done.policy.rules), 'rule')}, sha256 "
            f"{done.policy.digest[:12]}… (audit #{done.audit_id})\n"
        )
    return Exit.OK


def _install_json(done: Any, *, applied: bool) -> dict[str, Any]:
    return {
        "applied": applied,
        "where": done.where,
        "sha256": done.policy.digest,
        "previous_sha256": done.previous,
        "rules": [r.name for r in done.policy.rules],
        "audit_id": done.audit_id,
    }


def _cmd_policy_show(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    gov = ctx.governance
    text = gov.policy_text()
    policy = gov.policy()
    if args.json:
        emit_json(
            {
                "installed": text is not None,
                "where": gov.store.where,
                "sha256": policy.digest or None,
                "rules": [
                    {
                        "name": r.name,
                        "approvals": r.approvals,
                        "four_eyes": r.four_eyes,
                        "require": [str(c) for c in r.require],
                        "override": str(r.override),
                        "verified_only": r.verified_only,
                        "healthy_canary": r.healthy_canary,
                        "checks": [str(c) for c in r.checks],
                    }
                    for r in policy.rules
                ],
                "text": text,
            },
            out,
        )
        return Exit.OK
    if text is None:
        out.write(f"no policy installed ({gov.store.where}); every alias moves freely\n")
        return Exit.OK
    print(
        f"# {gov.store.where} — sha256 {policy.digest}, {counted(len(policy.rules), 'rule')}",
        file=sys.stderr,
    )
    out.write(text if text.endswith("\n") else text + "\n")
    return Exit.OK


def _gate_json(gate: Gate) -> dict[str, Any]:
    return gate.to_json()


def _cmd_policy_check(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    gate = ctx.governance.gate(args.model, args.version, args.alias, source=args.source)
    if args.json:
        emit_json(_gate_json(gate), out)
    else:
        out.write(gate.text() + "\n")
    if not gate.ok:
        print(f"modeldeck: {args.alias} needs {gate.reason()}", file=sys.stderr)
        return Exit.ERROR
    return Exit.OK
