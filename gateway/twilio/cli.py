"""`smsgw twilio account ...`: accounts of the Twilio-compatible API, on the database
directly (no running daemon needed, as `smsgw token`).

A new or rotated auth token is printed once, as shell assignments on standard output
(`ACCOUNT_SID=...`, `AUTH_TOKEN=...`); it is never logged.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO, TypeVar

from gateway.auth.cli import EXIT_OK, _actor, _common, _execute, _table, _when
from gateway.config import Settings
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage.db import open_database
from gateway.twilio.records import AccountToken, TwilioAccount
from gateway.twilio.service import TwilioService

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[TwilioService], Awaitable[T]]) -> T:
    async def main() -> T:
        store = await open_database(settings)
        try:
            outbound = OutboundService(store, EventBus(), settings=settings)
            return await work(TwilioService(store, outbound, settings=settings))
        finally:
            await store.close()

    return asyncio.run(main())


def _accounts_table(accounts: list[TwilioAccount], out: TextIO) -> None:
    rows = [["ACCOUNT SID", "NAME", "MODEMS", "INBOUND URL", "WEBHOOKS", "CREATED"]]
    rows += [
        [
            a.sid,
            a.name,
            ",".join(a.modems) or "all",
            a.inbound_url or "-",
            "on" if a.webhooks_active else "off",
            _when(a.created_at),
        ]
        for a in accounts
    ]
    _table(rows, out)


def _credentials(made: AccountToken, out: TextIO, err: TextIO, what: str) -> None:
    err.write(
        f"{what} {made.account.name}; the auth token is shown only now, store it "
        "safely:\n"
    )
    out.write(f"ACCOUNT_SID={made.account.sid}\nAUTH_TOKEN={made.auth_token}\n")


def main(
    argv: Sequence[str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Entry point of `smsgw twilio`."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="smsgw twilio",
        description="Accounts of the Twilio-compatible API (HTTP Basic: account SID "
        "and auth token); separate from console users and API tokens.",
    )
    nouns = parser.add_subparsers(dest="noun", metavar="account")
    account = nouns.add_parser("account", help="create, list, rotate-token")
    sub = account.add_subparsers(dest="action", metavar="ACTION")
    create = sub.add_parser("create", help="a new account; prints its SID and token")
    create.add_argument("--name", default="Twilio API", help="what it is for")
    create.add_argument("--inbound-url", help="where received messages are posted")
    create.add_argument(
        "--modem",
        action="append",
        default=[],
        dest="modems",
        help="a modem it may send from (repeat; none: all)",
    )
    sub.add_parser("list", help="every account (never a token)")
    rotate = sub.add_parser("rotate-token", help="a new auth token; the old one stops")
    rotate.add_argument("sid", help="the account SID (AC...)")
    for command in (*sub.choices.values(), account):
        _common(command)

    def act(args: argparse.Namespace, settings: Settings) -> int:
        actor = _actor()
        if args.action == "create":
            made = _run(
                settings,
                lambda twilio: twilio.create_account(
                    args.name,
                    inbound_url=args.inbound_url,
                    modems=args.modems,
                    actor=actor,
                ),
            )
            _credentials(made, out, err, "account")
        elif args.action == "list":
            _accounts_table(_run(settings, lambda twilio: twilio.list_accounts()), out)
        else:
            made = _run(
                settings, lambda twilio: twilio.rotate_token(args.sid, actor=actor)
            )
            _credentials(made, out, err, "new auth token for")
        return EXIT_OK

    return _execute("smsgw twilio", argv, parser, act, err)
