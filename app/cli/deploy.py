"""Deploy commands: ``deploy``, ``scale``, ``canary``, ``promote``, ``rollback``,
``undeploy``, ``deployments list|why``, ``predict`` and ``audit list|export|verify`` — the
same ``DeployService``/``AuditService`` as the GUI.

A change is shown as a plan first; it is applied with ``--yes`` or after a yes on a TTY.
Without a TTY and without ``--yes`` nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from app.cli.output import Exit, Parser, UsageError, emit_json, table, to_jsonable
from app.domain import diagnose as dx
from app.domain.errors import ConfigError
from app.domain.text import counted

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.domain.deploy import Plan
    from app.services.context import AppContext
    from app.services.deploy import Outcome


def register(sub: Subcommands, common: Parser) -> None:
    confirm = Parser(add_help=False)
    confirm.add_argument("--target", metavar="NAME", required=True, help="the serving cluster")
    confirm.add_argument("--yes", action="store_true", help="apply without asking")
    confirm.add_argument("--dry-run", action="store_true", help="print the plan only")

    p = sub.add_parser("deploy", parents=[common, confirm], help="deploy a model version")
    p.add_argument("model")
    p.add_argument("version")
    p.add_argument("--app", help="application name (default: from the model name)")
    p.add_argument("--replicas", type=int, help="number of replicas (default 1, or as now)")
    p.set_defaults(handler=_cmd_change)

    p = sub.add_parser("scale", parents=[common, confirm], help="change an app's replicas")
    p.add_argument("app")
    p.add_argument("--replicas", type=int, required=True)
    p.set_defaults(handler=_cmd_change)

    p = sub.add_parser("canary", parents=[common, confirm], help="send P%% to another version")
    p.add_argument("app")
    p.add_argument("--version", required=True)
    p.add_argument("--percent", type=int, required=True)
    p.set_defaults(handler=_cmd_change)

    for name, text in (
        ("promote", "the canary becomes stable"),
        ("rollback", "back to the app's previous config (from the journal)"),
        ("undeploy", "remove one app (others keep running)"),
    ):
        p = sub.add_parser(name, parents=[common, confirm], help=text)
        p.add_argument("app")
        p.set_defaults(handler=_cmd_change)

    dep = sub.add_parser("deployments", parents=[common], help="apps on serving clusters")
    dsub = dep.add_subparsers(dest="deployments_command", metavar="ACTION", parser_class=Parser)
    dsub.required = True
    dl = dsub.add_parser(
        "list", parents=[common], help="read the clusters' apps (refreshes the cache)"
    )
    dl.add_argument("--target", metavar="NAME")
    dl.set_defaults(handler=_cmd_deployments)
    dw = dsub.add_parser(
        "why",
        parents=[common],
        help="why an app is in its state: states, messages, recent log lines (read-only)",
    )
    dw.add_argument("app")
    dw.add_argument("--target", metavar="NAME", required=True, help="the serving cluster")
    dw.add_argument(
        "--lines",
        type=int,
        default=dx.DEFAULT_LOG_LINES,
        metavar="N",
        help=f"log lines per file (default {dx.DEFAULT_LOG_LINES}, at most {dx.MAX_LOG_LINES})",
    )
    dw.set_defaults(handler=_cmd_why)

    pp = sub.add_parser(
        "predict", parents=[common], help="send one request to a deployed app and see the answer"
    )
    pp.add_argument("app")
    pp.add_argument("--target", metavar="NAME", required=True, help="the serving cluster")
    pp.add_argument("--version", metavar="V", help="pin the request to this served version")
    body = pp.add_mutually_exclusive_group(required=True)
    body.add_argument("--input", metavar="FILE", help="the JSON request body ('-': stdin)")
    body.add_argument(
        "--example",
        action="store_true",
        help="build the body from the version's MLflow input example (or signature)",
    )
    pp.add_argument(
        "--timeout", type=float, default=30.0, metavar="S", help="seconds to wait (default 30)"
    )
    pp.set_defaults(handler=_cmd_predict)

    audit = sub.add_parser("audit", parents=[common], help="the audit trail of deploy actions")
    asub = audit.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=Parser)
    asub.required = True
    al = asub.add_parser("list", parents=[common], help="list entries")
    al.add_argument("--since", metavar="ISO")
    al.set_defaults(handler=_cmd_audit_list)
    ae = asub.add_parser("export", parents=[common], help="write the trail to FILE (.csv or .json)")
    ae.add_argument("file")
    ae.set_defaults(handler=_cmd_audit_export)
    av = asub.add_parser("verify", parents=[common], help="check the hash chain")
    av.set_defaults(handler=_cmd_audit_verify)


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
    plan = _plan(ctx, args)
    if args.dry_run:
        if args.json:
            emit_json({"plan": plan.to_json(), "applied": False}, out)
        else:
            out.write(plan.text() + "\n")
        return Exit.OK if plan.ok else Exit.ERROR
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
            return Exit.ERROR
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
    return Exit.OK if outcome.ok else Exit.ERROR


def _outcome_json(o: Outcome) -> dict[str, Any]:
    return {
        "plan": o.plan.to_json(),
        "applied": True,
        "ok": o.ok,
        "status": o.status,
        "message": o.message,
        "deployments": to_jsonable(list(o.deployments)),
    }


def _cmd_deployments(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    targets = [args.target] if args.target else ctx.deploy.targets()
    rows = [dep for t in targets for dep in ctx.deploy.refresh(t)]
    if args.json:
        emit_json(rows, out)
        return Exit.OK
    table(
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
    print(f"{counted(len(rows), 'app')} on {counted(len(targets), 'target')}", file=sys.stderr)
    return Exit.OK


def _cmd_why(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    bad = dx.check_lines(args.lines)
    if bad:
        raise UsageError(f"modeldeck deployments why: {bad}")
    report = ctx.deploy.why(args.target, args.app, lines=args.lines)
    if args.json:
        emit_json(report.to_json(), out)
    else:
        out.write(report.text() + "\n")
    return Exit.OK


def _read_body(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from exc


def _cmd_predict(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    if not 0 < args.timeout <= 600:
        raise UsageError("modeldeck predict: --timeout takes 0-600 seconds")
    if args.example:
        example = ctx.deploy.example_body(args.target, args.app, args.version)
        for note in example.notes:
            print(f"modeldeck: {note}", file=sys.stderr)
        body = example.body
    else:
        body = _read_body(args.input)
    result = ctx.deploy.predict(
        args.target, args.app, body, version=args.version, timeout_s=args.timeout
    )
    if args.json:
        emit_json(result.to_json(), out)
    else:
        out.write(result.text() + "\n")
    if result.timed_out:
        print(f"modeldeck: error: {result.note}", file=sys.stderr)
    return Exit.OK if result.ok else Exit.ERROR


def _cmd_audit_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    entries = ctx.audit.list(args.since)
    if args.json:
        emit_json(entries, out)
        return Exit.OK
    table(
        [
            (str(e.id), e.at, e.user, e.action, e.target, e.app, e.result, e.detail[:60])
            for e in entries
        ],
        ("ID", "AT", "USER", "ACTION", "TARGET", "APP", "RESULT", "DETAIL"),
        out,
    )
    return Exit.OK


def _cmd_audit_export(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    n = ctx.audit.export(Path(args.file))
    if args.json:
        emit_json({"file": args.file, "entries": n}, out)
    else:
        out.write(f"{counted(n, 'entry')} written to {args.file}\n")
    return Exit.OK


def _cmd_audit_verify(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    problem = ctx.audit.verify()
    if args.json:
        emit_json({"ok": problem is None, "problem": problem}, out)
    elif problem is None:
        out.write("the audit trail is intact\n")
    else:
        print(f"modeldeck: the audit trail was tampered with: {problem}", file=sys.stderr)
    return Exit.OK if problem is None else Exit.ERROR
