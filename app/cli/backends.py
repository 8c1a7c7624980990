"""``modeldeck backends add|list|test|remove``: the headless face of ``BackendService``
and the connection doctor. Secrets come only from stdin (``--token-stdin``) or a
masked prompt when stdin is a terminal — never from the command line.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app import APP_ID
from app.cli.output import Exit, Parser, emit_json, table
from app.domain.backends import is_plain_http
from app.domain.doctor import VerdictCode
from app.domain.errors import ConfigError, KeyringUnavailable
from app.domain.kinds import kinds
from app.domain.models import Backend, BackendKind, Credential

if TYPE_CHECKING:
    from app.cli.output import Subcommands
    from app.services.context import AppContext


class SecretInputError(ConfigError):
    """The secret could not be read from stdin or the prompt."""


def register(sub: Subcommands, common: Parser) -> None:
    kind_names = [k.value for k in BackendKind]
    b = sub.add_parser(
        "backends", parents=[common], help="registries, clusters and metrics sources"
    )
    bsub = b.add_subparsers(dest="backends_command", metavar="ACTION", parser_class=Parser)
    bsub.required = True

    add = bsub.add_parser("add", parents=[common], help="add (or --replace) a backend")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=kind_names)
    add.add_argument("--url", required=True, help="base URL, e.g. https://mlflow.example.com")
    add.add_argument(
        "--token-stdin",
        action="store_true",
        help="read the token (or, with --username, the password) from stdin; "
        "prompts without echo when stdin is a terminal. Saved in the OS keyring only",
    )
    add.add_argument("--username", metavar="U", help="basic-auth user name (secret from stdin)")
    add.add_argument("--ca-bundle", metavar="FILE", help="PEM file of CA certificates to trust")
    add.add_argument(
        "--insecure-http",
        action="store_true",
        help="allow plain http:// to a host that is not this machine (unencrypted!)",
    )
    add.add_argument(
        "--no-verify-tls",
        action="store_true",
        help="do not verify the server's certificate (dangerous; prefer --ca-bundle)",
    )
    add.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="per-request timeout in seconds (default 10)",
    )
    opt_help = "; ".join(f"{s.kind}: {', '.join(s.options) or '-'}" for s in kinds())
    add.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"kind-specific option ({opt_help})",
    )
    add.add_argument("--replace", action="store_true", help="replace a backend of that name")
    add.set_defaults(handler=_cmd_add)

    ls = bsub.add_parser(
        "list", parents=[common], help="configured backends (nothing is contacted)"
    )
    ls.set_defaults(handler=_cmd_list)

    test = bsub.add_parser(
        "test", parents=[common], help="connection doctor: try a backend and say what is wrong"
    )
    test.add_argument("name")
    test.add_argument(
        "--token-stdin",
        action="store_true",
        help="use this token (from stdin/prompt) for this test only, without saving it",
    )
    test.add_argument("--username", metavar="U", help="with --token-stdin: basic-auth user")
    test.set_defaults(handler=_cmd_test)

    rm = bsub.add_parser("remove", parents=[common], help="remove a backend and its secret")
    rm.add_argument("name")
    rm.set_defaults(handler=_cmd_remove)


def read_secret(args: argparse.Namespace) -> Credential | None:
    if not args.token_stdin:
        if args.username:
            raise ConfigError("--username needs the password on stdin: add --token-stdin")
        return None
    what = "password" if args.username else "token"
    if sys.stdin is not None and sys.stdin.isatty():
        try:
            secret = getpass.getpass(f"{what.capitalize()} for {args.name} (not shown): ")
        except (EOFError, KeyboardInterrupt) as exc:
            raise SecretInputError(f"no {what} given") from exc
    else:
        secret = (sys.stdin.read() if sys.stdin is not None else "").rstrip("\r\n")
    if not secret:
        raise SecretInputError(f"--token-stdin: the {what} on stdin is empty")
    if args.username:
        return Credential(username=args.username, password=secret)
    return Credential(token=secret)


def _parse_options(raw: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in raw:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--option {item!r}: use KEY=VALUE")
        options[key.strip()] = value.strip()
    return options


def _cmd_add(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    ca_bundle = None
    if args.ca_bundle:
        path = Path(args.ca_bundle).expanduser()
        if not path.is_file():
            raise ConfigError(f"--ca-bundle {args.ca_bundle}: no such file")
        ca_bundle = str(path.resolve())
    if args.timeout <= 0:
        raise ConfigError("--timeout must be more than 0 seconds")
    backend = Backend(
        name=args.name,
        kind=BackendKind(args.kind),
        url=args.url.rstrip("/"),
        ca_bundle=ca_bundle,
        verify_tls=not args.no_verify_tls,
        insecure_http=bool(args.insecure_http and is_plain_http(args.url)),
        timeout_s=args.timeout,
        options=_parse_options(args.option),
    )
    # lazy: the service module brings httpx, which no other command needs at start-up
    from app.services.backends import validate

    validate(backend)  # before reading a secret: a bad URL should not cost a prompt
    credential = read_secret(args)
    try:
        saved = ctx.backends.add(backend, credential, replace=args.replace)
    except KeyringUnavailable as exc:
        raise ConfigError(
            f"cannot save the secret: {exc}. Nothing was saved. Next: unlock or install an "
            "OS keyring (e.g. gnome-keyring) and run this again, or add the backend without "
            "--token-stdin and pass the token for one run with "
            f"'modeldeck backends test {args.name} --token-stdin'"
        ) from exc
    if not saved.verify_tls:
        print(
            f"modeldeck: warning: TLS verification is OFF for {saved.name}: anyone on the "
            "path can read and change its traffic; prefer --ca-bundle FILE",
            file=sys.stderr,
        )
    if saved.insecure_http:
        print(
            f"modeldeck: warning: {saved.name} uses plain HTTP to a remote host: "
            "traffic and credentials are not encrypted",
            file=sys.stderr,
        )
    secret = "keyring" if credential is not None else "none"
    if args.json:
        emit_json({"backend": saved, "secret": secret, "settings": ctx.backends.settings_path}, out)
    else:
        where = f"; secret saved in the OS keyring ({APP_ID})" if credential else ""
        out.write(f"added {saved.name} ({saved.kind}) {saved.url}{where}\n")
    return Exit.OK


def _cmd_list(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    backends = ctx.backends.list()
    problems = ctx.backends.problems
    for p in problems:
        print(f"modeldeck: warning: settings {p} (skipped)", file=sys.stderr)
    if args.json:
        emit_json(
            {
                "settings": ctx.backends.settings_path,
                "backends": backends,
                "problems": [{"where": p.where, "message": p.message} for p in problems],
            },
            out,
        )
        return Exit.OK
    rows = [
        (
            b.name,
            str(b.kind),
            b.url,
            "off" if not b.verify_tls else ("CA file" if b.ca_bundle else "on"),
        )
        for b in backends
    ]
    if rows:
        table(rows, ("NAME", "KIND", "URL", "TLS VERIFY"), out)
    else:
        print(
            "no backends configured; add one with: modeldeck backends add NAME --kind KIND "
            "--url URL",
            file=sys.stderr,
        )
    return Exit.OK


def _cmd_remove(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    warning = ctx.backends.remove(args.name)
    ctx.doctor.forget(args.name)
    if warning:
        print(f"modeldeck: warning: {warning}", file=sys.stderr)
    if args.json:
        emit_json({"removed": args.name, "warning": warning}, out)
    else:
        out.write(f"removed {args.name}\n")
    return Exit.OK


def _cmd_test(ctx: AppContext, args: argparse.Namespace, out: TextIO) -> int:
    ctx.backends.get(args.name)  # unknown name: one-line error before any prompt
    credential = read_secret(args)
    verdict = ctx.doctor.test(args.name, credential=credential)
    if args.json:
        emit_json(verdict, out)
    else:
        mark = {"healthy": "✓", "failing": "✗"}.get(str(verdict.health), "?")
        out.write(f"{mark} {verdict.backend} ({verdict.kind}) {verdict.url}\n")
        out.write(f"  {verdict.summary}\n")
        out.write(f"  cause: {verdict.cause}\n")
        if verdict.next_step:
            out.write(f"  next:  {verdict.next_step}\n")
    if verdict.ok or verdict.code is VerdictCode.NOT_PROBED:
        return Exit.OK
    print(f"modeldeck: {verdict.one_line()}", file=sys.stderr)
    return Exit.ERROR
