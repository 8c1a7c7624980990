"""Deploy commands: ``deploy``, ``scale``, ``canary``, ``promote``, ``rollback``,
``undeploy``, ``deployments list`` and ``audit list|export|verify`` — the same
``DeployService``/``AuditService`` as the GUI.

A change is shown as a plan first; it is applied with ``--yes`` or after a yes on a TTY.
Without a TTY and without ``--yes`` nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.domain.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from app.domain.deploy import Plan
    from app.services.context import AppContext
    from app.services.deploy import Outcome

EXIT_OK, EXIT_ERROR = 0, 1


def add_parsers(sub: Any, common: argparse.ArgumentParser, parser_class: type) -> None:
    confirm = parser_class(add_help=False)
    confirm.add_argument("--target", metavar="NAME", required=True, help="the serving cluster")
    confirm.add_argument("--yes", action="store_true", help="apply without asking")
    confirm.add_argument("--dry-run", action="store_true", help="print the plan only")

    p = sub.add_parser("deploy", parents=[common, confirm], help="deploy a model version")
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--app", help="application name (default: from the model name)")
    p.add_argument("--replicas", type=int, help="number of replicas (default 1, or as now)")

    p = sub.add_parser("scale", parents=[common, confirm], help="change an app's replicas")
    p.add_argument("app")
    p.add_argument("--replicas", type=int, required=True)

    p = sub.add_parser("canary", parents=[common, confirm], help="send P%% to another version")
    p.add_argument("app")
    p.add_argument("--version", required=True)
    p.add_argument("--percent", type=int, required=True)

    for name, text in (
        ("promote", "the canary becomes stable"),
        ("rollback", "back to the app's previous config (from the journal)"),
        ("undeploy", "remove one app (others keep running)"),
    ):
        p = sub.add_parser(name, parents=[common, confirm], help=text)
        p.add_argument("app")

    dep = sub.add_parser("deployments", parents=[common], help="apps on serving clusters")
    dsub = dep.add_subparsers(
        dest="deployments_command", metavar="ACTION", parser_class=parser_class
    )
    dl = dsub.add_parser(
        "list", parents=[common], help="read the clusters' apps (refreshes the cache)"
    )
    dl.add_argument("--target", metavar="NAME")

    audit = sub.add_parser("audit", parents=[common], help="the audit trail of deploy actions")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=parser_class)
    al = asub.add_parser("list", parents=[common], help="list entries")
    al.add_argument("--since", metavar="ISO")
    ae = asub.add_parser("export", parents=[common], help="write the trail to FILE (.csv or .json)")
    ae.add_argument("file")
    asub.add_parser("verify", parents=[common], help="check the hash chain")


def handlers() -> dict[
    tuple[str, str | None], Callable[[AppContext, argparse.Namespace, TextIO], int]
]:
    return {
        ("deploy", None): _cmd_change,
        ("scale", None): _cmd_change,
        ("canary", None): _cmd_change,
        ("promote", None): _cmd_change,
        ("rollback", None): _cmd_change,
        ("undeploy", None): _cmd_change,
        ("deployments", "list"): _cmd_deployments,
        ("audit", "list"): _cmd_audit_list,
        ("audit", "export"): _cmd_audit_export,
        ("audit", "verify"): _cmd_audit_verify,
    }


def _plan(ctx: AppContext, args: argparse.Namespace) -> Plan:
    svc = ctx.deploy
    if args.command == "deploy":
        return svc.plan_deploy(
            args.target, args.model, args.version, app=args.app, replicas=args.replicas
        )
    if args.command == "scale":
        return svc.plan_scale(args.target, args.app, args.replicas)
    if args.command == "canary":
        return svc.plan_canary(args.target, args.app, args.version, args.percent)
    if args.command == "promote":
        return svc.plan_promote(args.target, args.app)
    if args.command == "rollback":
        return svc.plan_rollback(args.target, args.app)
    return svc.plan_undeploy(args.target, args.app)


def _cmd_change(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    from app.cli import emit_json

    plan = _plan(ctx, args)
    if args.dry_run:
        if args.json:
            emit_json({"plan": plan.to_json(), "applied": False}, out)
        else:
            out.write(plan.text() + "\n")
        return EXIT_OK if plan.ok else EXIT_ERROR
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"{plan.summary}: not applied — add --yes to apply without a terminal "
                "(or --dry-run to see the plan)"
            )
        print(plan.text(), file=sys.stderr)
        answer = input(f"{plan.summary}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("modeldeck: nothing changed", file=sys.stderr)
            return EXIT_ERROR
    if not args.json:
        print(plan.text(), file=sys.stderr)

    def progress(done: int, total: int, text: str) -> None:
        print(f"[{done}/{total}] {text}", file=sys.stderr)

    outcome = ctx.deploy.apply(plan, progress=progress)
    if args.json:
        emit_json(_outcome_json(outcome), out)
    else:
        out.write(
            f"{plan.summary}: {outcome.status}"
            + (f" — {outcome.message}" if outcome.message else "")
            + "\n"
        )
    return EXIT_OK if outcome.ok else EXIT_ERROR


def _outcome_json(o: Outcome) -> dict[str, Any]:
    from app.cli import to_jsonable

    return {
        "plan": o.plan.to_json(),
        "applied": True,
        "ok": o.ok,
        "status": o.status,
        "message": o.message,
        "deployments": to_jsonable(list(o.deployments)),
    }


def _cmd_deployments(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    from app.cli import _table, emit_json

    targets = [args.target] if args.target else ctx.deploy.targets()
    rows = [dep for t in targets for dep in ctx.deploy.refresh(t)]
    if args.json:
        emit_json(rows, out)
        return EXIT_OK
    _table(
        [
            (
                r.target,
                r.app,
                r.model_name,
                " ".join(f"v{v}:{p}%" for v, p in r.traffic.items()),
                str(r.replicas),
                str(r.status),
                r.route or "",
            )
            for r in rows
        ],
        ("TARGET", "APP", "MODEL", "TRAFFIC", "REPLICAS", "STATUS", "ROUTE"),
        out,
    )
    return EXIT_OK


def _cmd_audit_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    from app.cli import _table, emit_json

    entries = ctx.audit.list(args.since)
    if args.json:
        emit_json(entries, out)
        return EXIT_OK
    _table(
        [
            (str(e.id), e.at, e.user, e.action, e.target, e.app, e.result, e.detail[:60])
            for e in entries
        ],
        ("ID", "AT", "USER", "ACTION", "TARGET", "APP", "RESULT", "DETAIL"),
        out,
    )
    return EXIT_OK


def _cmd_audit_export(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    from app.cli import emit_json

    n = ctx.audit.export(Path(args.file))
    if args.json:
        emit_json({"file": args.file, "entries": n}, out)
    else:
        out.write(f"{n} entries written to {args.file}\n")
    return EXIT_OK


def _cmd_audit_verify(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    from app.cli import emit_json

    problem = ctx.audit.verify()
    if args.json:
        emit_json({"ok": problem is None, "problem": problem}, out)
    elif problem is None:
        out.write("the audit trail is intact\n")
    else:
        print(f"modeldeck: the audit trail was tampered with: {problem}", file=sys.stderr)
    return EXIT_OK if problem is None else EXIT_ERROR
