"""``modeldeck notify add|list|test|remove|show-secret|history`` and ``modeldeck watch``:
alerts that reach the team (Slack, signed webhooks) and the headless loop that sends
them (health polling, thresholds, the audit trail's actions).

A channel's URL is a secret (a Slack incoming-webhook URL grants posting): it is read
from stdin (``--url-stdin``) or a prompt without echo, and kept in the OS keyring only.
"""

from __future__ import annotations

import argparse
import getpass
import json
import signal
import sys
import threading
from typing import TYPE_CHECKING, TextIO

from app.cli.output import Exit, Parser, emit_json, parse_at, table
from app.domain.errors import ConfigError, KeyringUnavailable
from app.domain.health import HealthStatus, parse_duration
from app.domain.notify import DEFAULT_EVENTS, ChannelKind, headline

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.services.context import AppContext
    from app.services.notify import CycleReport


def register(sub: Subcommands, common: Parser) -> None:
    n = sub.add_parser(
        "notify",
        parents=[common],
        help="alert channels: Slack and signed webhooks (URLs in the OS keyring)",
        description="Channels that `modeldeck watch` sends health transitions and the audit "
        "trail's actions to.",
    )
    nsub = n.add_subparsers(dest="notify_command", metavar="ACTION", parser_class=Parser)
    nsub.required = True

    add = nsub.add_parser("add", parents=[common], help="add a channel; its URL is read from stdin")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=[k.value for k in ChannelKind])
    add.add_argument(
        "--url-stdin",
        action="store_true",
        required=True,
        help="read the channel's URL from stdin (prompts without echo on a terminal); "
        "kept in the OS keyring only",
    )
    add.add_argument(
        "--events",
        metavar="LIST",
        help="comma-separated event kinds or groups (health, deploys, governance, all; "
        "health.failing, health.degraded, health.unknown, health.recovered, deploy, scale, "
        "canary, promote, rollback, undeploy, alias, approval, refusal); default "
        + ",".join(DEFAULT_EVENTS),
    )
    add.add_argument(
        "--min-status",
        choices=["degraded", "failing"],
        default="degraded",
        help="health problems below this are not sent (default degraded)",
    )
    add.add_argument("--replace", action="store_true", help="replace a channel of that name")
    add.set_defaults(handler=_cmd_add)

    ls = nsub.add_parser("list", parents=[common], help="configured channels")
    ls.set_defaults(handler=_cmd_list)

    test = nsub.add_parser("test", parents=[common], help="send a test message now")
    test.add_argument("name")
    test.set_defaults(handler=_cmd_test)

    rm = nsub.add_parser("remove", parents=[common], help="remove a channel and its secrets")
    rm.add_argument("name")
    rm.set_defaults(handler=_cmd_remove)

    sec = nsub.add_parser(
        "show-secret",
        parents=[common],
        help="print a webhook channel's signing secret (for the receiver to verify)",
    )
    sec.add_argument("name")
    sec.set_defaults(handler=_cmd_show_secret)

    hist = nsub.add_parser("history", parents=[common], help="deliveries, newest first")
    hist.add_argument("--limit", type=int, default=50, metavar="N")
    hist.set_defaults(handler=_cmd_history)

    w = sub.add_parser(
        "watch",
        parents=[common],
        help="poll health and the audit trail, send notifications (headless)",
        description="The headless alert loop: judge every deployment's health, hold each "
        "change for [notify] hold_seconds, read new audit entries, and deliver to every "
        "subscribed channel (retries with backoff, never twice per event). --once runs "
        "one pass, for cron.",
    )
    w.add_argument(
        "--interval", default="30s", metavar="DURATION", help="time between passes (default 30s)"
    )
    w.add_argument("--once", action="store_true", help="one pass, then exit (for cron)")
    w.add_argument(
        "--at",
        metavar="ISO",
        help="with --once: judge health as of this time instead of now (replaying history)",
    )
    w.set_defaults(handler=_cmd_watch)


def _read_url(name: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            url = getpass.getpass(f"URL for channel {name} (not shown): ")
        except (EOFError, KeyboardInterrupt) as exc:
            raise ConfigError("no URL given") from exc
    else:
        url = (sys.stdin.read() if sys.stdin is not None else "").strip()
    if not url:
        raise ConfigError("--url-stdin: the URL on stdin is empty")
    return url


def _cmd_add(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    events = args.events.split(",") if args.events is not None else None
    url = _read_url(args.name)
    try:
        channel, secret = ctx.notify.add(
            args.name,
            ChannelKind(args.kind),
            url,
            events=events,
            min_status=HealthStatus(args.min_status),
            replace=args.replace,
        )
    except KeyringUnavailable as exc:
        raise ConfigError(
            f"cannot save the channel's URL: {exc}. Nothing was saved; a channel needs an "
            "OS keyring (e.g. gnome-keyring), its URL is a secret"
        ) from exc
    if args.json:
        emit_json({"channel": channel.to_json(), "signing_secret": secret}, out)
        return Exit.OK
    out.write(
        f"added {channel.name} ({channel.kind.value}); URL saved in the OS keyring; "
        f"events: {', '.join(channel.to_json()['events'])}\n"
    )
    if secret is not None:
        out.write(
            f"signing secret (shown once; also: modeldeck notify show-secret {channel.name}):\n"
            f"{secret}\n"
        )
    return Exit.OK


def _cmd_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    channels = ctx.notify.channels()
    if args.json:
        emit_json({"channels": [c.to_json() for c in channels]}, out)
        return Exit.OK
    if not channels:
        out.write("no channels (add one: modeldeck notify add NAME --kind slack --url-stdin)\n")
        return Exit.OK
    rows = [
        [c.name, c.kind.value, c.min_status.value, ",".join(c.to_json()["events"])]
        for c in channels
    ]
    table(rows, ["NAME", "KIND", "MIN STATUS", "EVENTS"], out)
    return Exit.OK


def _cmd_test(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    d = ctx.notify.test(args.name)
    ok = d.state == "delivered"
    if args.json:
        emit_json(
            {
                "channel": args.name,
                "delivered": ok,
                "attempts": d.attempts,
                "error": d.last_error or None,
            },
            out,
        )
    elif ok:
        out.write(f"{args.name}: test message delivered\n")
    if not ok:
        print(f"modeldeck: error: {d.last_error}", file=sys.stderr)
        return Exit.ERROR
    return Exit.OK


def _cmd_remove(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    ctx.notify.remove(args.name)
    if args.json:
        emit_json({"removed": args.name}, out)
    else:
        out.write(f"removed {args.name} and its keyring entry\n")
    return Exit.OK


def _cmd_show_secret(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    secret = ctx.notify.show_secret(args.name)
    if args.json:
        emit_json({"channel": args.name, "signing_secret": secret}, out)
    else:
        out.write(secret + "\n")
    return Exit.OK


def _cmd_history(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    rows = ctx.notify.history(args.limit)
    if args.json:
        emit_json({"deliveries": [d.to_json() for d in rows]}, out)
        return Exit.OK
    if not rows:
        out.write("no deliveries yet\n")
        return Exit.OK
    table(
        [[d.event.at, d.channel, d.state, str(d.attempts), headline(d.event)] for d in rows],
        ["AT", "CHANNEL", "STATE", "TRIES", "EVENT"],
        out,
    )
    return Exit.OK


def _cmd_watch(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    try:
        interval = parse_duration(args.interval)
    except ValueError as exc:
        raise ConfigError(f"--interval: {exc}") from None
    if args.at is not None and not args.once:
        raise ConfigError("--at replays one moment: use it with --once")
    at = parse_at(args.at)
    gave_up = False

    def show(report: CycleReport) -> None:
        nonlocal gave_up
        gave_up = gave_up or any(d.state == "failed" for d in report.failed)
        if args.json:
            if args.once:
                emit_json(report.to_json(), out)
            else:
                _json_line(report, out)
            return
        for e in report.events:
            out.write(f"{e.at}  {headline(e)}{': ' + e.why if e.why else ''}\n")
        for d in report.delivered:
            out.write(f"  sent {d.event.id} to {d.channel}\n")
        for d in report.failed:
            state = "gave up" if d.state == "failed" else "will retry"
            out.write(f"  {state}: {d.event.id} to {d.channel}: {d.last_error}\n")
        for name, why in report.errors.items():
            print(f"modeldeck: warning: {name}: {why}", file=sys.stderr)
        out.flush()

    if at is not None:
        show(ctx.notify.cycle(at))
        return Exit.ERROR if gave_up else Exit.OK
    if not args.once:
        names = [c.name for c in ctx.notify.channels()]
        print(
            f"modeldeck: watching every {args.interval}; channels: {', '.join(names) or 'none'}",
            file=sys.stderr,
        )
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        # systemd stops a service with SIGTERM: finish the pass under way, then leave
        signal.signal(signal.SIGTERM, lambda _n, _f: stop.set())
    try:
        ctx.notify.watch(interval, once=args.once, stop=stop, on_cycle=show)
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    return Exit.ERROR if gave_up else Exit.OK


def _json_line(report: CycleReport, out: TextIO) -> None:
    out.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    out.flush()
