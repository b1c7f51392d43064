"""`smsgw user ...` and `smsgw token ...`: accounts and API tokens, on the database directly.

They need no running daemon (SQLite in WAL mode lets both write). Passwords are read with
getpass (twice) or, for scripts, from one line of standard input (--password-stdin); they
never appear in arguments, where `ps` and shell history would show them.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TextIO, TypeVar

from gateway.auth.records import TokenRecord, UserRecord
from gateway.auth.service import AuthService
from gateway.config import Settings, load_settings
from gateway.domain import UserRole
from gateway.errors import ConfigError, GatewayError, InvalidInput
from gateway.storage.db import open_database

EXIT_OK = 0
EXIT_ERROR = 1  # refused (taken name, unknown user) or the box is not usable
EXIT_USAGE = 2  # bad input: a weak password, passwords that differ, a bad name

T = TypeVar("T")


class _Abort(Exception):
    """Stop with this message and exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name (a container with an unnamed uid)
        return "cli"


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", default="gateway.ini", help="the gateway.ini to use"
    )


def _run(settings: Settings, work: Callable[[AuthService], Awaitable[T]]) -> T:
    async def main() -> T:
        store = await open_database(settings)
        try:
            return await work(AuthService(store, settings.auth))
        finally:
            await store.close()

    return asyncio.run(main())


def _read_password(args: argparse.Namespace, username: str, stdin: TextIO) -> str:
    if args.password_stdin:
        line = stdin.readline()
        if not line:
            raise _Abort("no password on standard input", EXIT_USAGE)
        return line.rstrip("\r\n")
    first = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Again: ") != first:
        raise _Abort("the two passwords differ; nothing changed", EXIT_USAGE)
    return first


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _table(rows: list[list[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        out.write("  ".join(cells).rstrip() + "\n")


def _users_table(users: list[UserRecord], out: TextIO) -> None:
    rows = [["USERNAME", "ROLE", "STATUS", "LAST SIGN-IN", "NAME"]]
    rows += [
        [
            u.username,
            u.role.value,
            "active" if u.active else "disabled",
            _when(u.last_login_at),
            u.display_name,
        ]
        for u in users
    ]
    _table(rows, out)


def _tokens_table(tokens: list[TokenRecord], out: TextIO) -> None:
    rows = [["ID", "NAME", "USER", "PREFIX", "CREATED", "LAST USED", "STATUS"]]
    rows += [
        [
            str(t.id),
            t.name,
            t.username,
            t.prefix + "...",
            _when(t.created_at),
            _when(t.last_used_at),
            "active" if t.active else f"revoked {_when(t.revoked_at)}",
        ]
        for t in tokens
    ]
    _table(rows, out)


def _execute(
    prog: str,
    argv: Sequence[str],
    parser: argparse.ArgumentParser,
    act: Callable[[argparse.Namespace, Settings], int],
    err: TextIO,
) -> int:
    args = parser.parse_args(list(argv))
    if getattr(args, "action", None) is None:
        parser.print_help(err)
        return EXIT_USAGE
    try:
        settings = load_settings(args.config)
        return act(args, settings)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return EXIT_ERROR
    except _Abort as exc:
        err.write(f"{prog}: {exc}\n")
        return exc.status
    except InvalidInput as exc:
        err.write(f"{prog}: {exc}\n")
        return EXIT_USAGE
    except GatewayError as exc:
        err.write(f"{prog}: {exc}\n")
        return EXIT_ERROR


# ---------------------------------------------------------------------- smsgw user


def user_main(
    argv: Sequence[str],
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Entry point of `smsgw user`."""
    stdin, out, err = stdin or sys.stdin, out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="smsgw user", description="Add, list, disable users; set passwords."
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    add = sub.add_parser("add", help="add a user (asks for the password twice)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=[r.value for r in UserRole])
    add.add_argument("--name", help="the name agents see (default: the username)")
    passwd = sub.add_parser(
        "passwd", help="set a user's password (ends their sessions)"
    )
    passwd.add_argument("username")
    for command in (add, passwd):
        command.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from one line of standard input",
        )
    sub.add_parser("list", help="every user, their role and status")
    for name, help_text in (
        ("disable", "stop a user signing in (ends their sessions, stops their tokens)"),
        ("enable", "let a disabled user sign in again"),
    ):
        sub.add_parser(name, help=help_text).add_argument("username")
    for command in sub.choices.values():
        _common(command)

    def act(args: argparse.Namespace, settings: Settings) -> int:
        actor = _actor()
        if args.action == "list":
            _users_table(_run(settings, lambda auth: auth.list_users()), out)
            return EXIT_OK
        if args.action in ("enable", "disable"):
            active = args.action == "enable"
            user = _run(
                settings,
                lambda auth: auth.set_active(args.username, active, actor=actor),
            )
            out.write(f"{user.username} {args.action}d\n")
            return EXIT_OK
        password = _read_password(args, args.username, stdin)
        if args.action == "add":
            user = _run(
                settings,
                lambda auth: auth.add_user(
                    args.username,
                    password,
                    role=args.role,
                    display_name=args.name,
                    actor=actor,
                ),
            )
            out.write(f"added {user.username} ({user.role.value})\n")
        else:
            user = _run(
                settings,
                lambda auth: auth.set_password(args.username, password, actor=actor),
            )
            out.write(f"password of {user.username} changed; their sessions ended\n")
        return EXIT_OK

    return _execute("smsgw user", argv, parser, act, err)


# ---------------------------------------------------------------------- smsgw token


def token_main(
    argv: Sequence[str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Entry point of `smsgw token`."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="smsgw token",
        description="API tokens (Authorization: Bearer TOKEN); a token acts with its "
        "user's role.",
    )
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    create = sub.add_parser("create", help="create a token and print it (only once)")
    create.add_argument("--user", required=True, help="the user the token acts as")
    create.add_argument("--name", required=True, help="what it is for, e.g. crm")
    listing = sub.add_parser("list", help="tokens, revoked ones too")
    listing.add_argument("--user", help="only this user's tokens")
    revoke = sub.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", type=int, help="the token's ID (see `smsgw token list`)")
    for command in sub.choices.values():
        _common(command)

    def act(args: argparse.Namespace, settings: Settings) -> int:
        actor = _actor()
        if args.action == "create":
            new = _run(
                settings,
                lambda auth: auth.create_token(args.user, args.name, actor=actor),
            )
            err.write(
                f"token {new.record.id} ({new.record.name}) for {new.record.username}; "
                "it is shown only now, store it safely:\n"
            )
            out.write(new.token + "\n")
        elif args.action == "list":
            _tokens_table(_run(settings, lambda auth: auth.list_tokens(args.user)), out)
        else:
            record = _run(
                settings, lambda auth: auth.revoke_token(args.id, actor=actor)
            )
            out.write(f"token {record.id} ({record.name}) revoked\n")
        return EXIT_OK

    return _execute("smsgw token", argv, parser, act, err)
