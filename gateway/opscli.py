"""`smsgw send` and `smsgw status`: operators' commands that work on the database directly.

They need no running daemon: `send` commits the message as queued (the daemon's senders
pick it up within about a second) and `status` reads what the daemon recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from gateway.config import Settings, load_settings
from gateway.domain import (
    MessageCounts,
    MessageOrigin,
    MessageRecord,
    ModemRecord,
    NodeRecord,
    utcnow,
)
from gateway.errors import ConfigError, GatewayError, InvalidInput
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage import queries
from gateway.storage.db import open_database

EXIT_OK = 0
EXIT_ERROR = (
    1  # refused (opted out, conflict) or the box is not usable (config, database)
)
EXIT_USAGE = 2  # bad input: a number that is not one, an empty text


def _config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", default="gateway.ini", help="the gateway.ini to use"
    )


def _load(path: str, err: TextIO) -> Settings | None:
    try:
        return load_settings(path)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return None


# ---------------------------------------------------------------------- send


async def _send(
    settings: Settings, to: str, text: str, key: str | None
) -> MessageRecord:
    store = await open_database(settings)
    try:
        # no health source: the modems table (written by the running daemon) says which
        # modems are ready
        outbound = OutboundService(store, EventBus(), settings=settings)
        return await outbound.send(
            to, text, idempotency_key=key, origin=MessageOrigin.API
        )
    finally:
        await store.close()


def send_main(
    argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Entry point of `smsgw send`."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="smsgw send",
        description="Queue a text (the running daemon sends it); prints the message as JSON.",
    )
    parser.add_argument("--to", required=True, help="the recipient's number")
    parser.add_argument(
        "--idempotency-key", help="the same key again queues nothing new"
    )
    _config_argument(parser)
    parser.add_argument("text", help="the text to send")
    args = parser.parse_args(list(argv))
    settings = _load(args.config, err)
    if settings is None:
        return EXIT_ERROR
    try:
        message = asyncio.run(_send(settings, args.to, args.text, args.idempotency_key))
    except InvalidInput as exc:
        err.write(f"smsgw send: {exc}\n")
        return EXIT_USAGE
    except GatewayError as exc:
        err.write(f"smsgw send: {exc}\n")
        return EXIT_ERROR
    out.write(
        json.dumps(
            {
                "id": message.id,
                "status": message.status.value,
                "to": message.number,
                "parts": message.parts_count,
                "modem": message.modem,
                "conversation_id": message.conversation_id,
            }
        )
        + "\n"
    )
    return EXIT_OK


# ---------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class Status:
    nodes: list[NodeRecord]
    alive: frozenset[str]  # the nodes that beat within [gateway] node_timeout_s
    node_timeout_s: float
    modems: list[ModemRecord]
    queued_parts: dict[str | None, int]
    messages: MessageCounts
    opted_out: int
    undecodable: int


def _status_unit(*, now: datetime, node_timeout_s: float) -> Status:
    nodes = queries.list_nodes()
    return Status(
        nodes=nodes,
        alive=frozenset(n.name for n in nodes if n.alive(now, node_timeout_s)),
        node_timeout_s=node_timeout_s,
        modems=queries.list_modems(),
        queued_parts=queries.outbound_queue_depths(),
        messages=queries.message_counts(),
        opted_out=queries.opted_out_count(),
        undecodable=len(queries.list_undecodable(limit=1000)),
    )


async def _status(settings: Settings) -> Status:
    store = await open_database(settings)
    try:
        return await store.run(
            _status_unit,
            now=utcnow(),
            node_timeout_s=settings.gateway.node_timeout_s,
        )
    finally:
        await store.close()


def status_json(status: Status) -> dict[str, Any]:
    """The status as a JSON value (`smsgw status --json`)."""
    return {
        "nodes": [
            {
                "name": n.name,
                "alive": n.name in status.alive,
                "pid": n.pid,
                "started_at": n.started_at.isoformat(),
                "heartbeat_at": n.heartbeat_at.isoformat(),
            }
            for n in status.nodes
        ],
        "modems": [
            {
                "name": m.name,
                "node": m.node,
                "state": m.state,
                "signal_dbm": m.signal_dbm,
                "operator": m.operator,
                "registration": m.registration,
                "own_number": m.own_number,
                "model": " ".join(x for x in (m.manufacturer, m.model) if x) or None,
                "queued_parts": status.queued_parts.get(m.name, 0),
                "last_error": m.last_error,
                "updated_at": m.updated_at.isoformat(),
            }
            for m in status.modems
        ],
        "queued_parts_unassigned": status.queued_parts.get(None, 0),
        "messages": {
            "inbound": {s.value: n for s, n in status.messages.inbound.items()},
            "outbound": {s.value: n for s, n in status.messages.outbound.items()},
        },
        "opted_out": status.opted_out,
        "undecodable": status.undecodable,
    }


def status_text(status: Status) -> str:
    """The status for people."""
    lines = []
    several = len(status.nodes) > 1  # several boxes share the database
    if several:
        lines.append("nodes:")
        for n in status.nodes:
            state = (
                "alive"
                if n.name in status.alive
                else f"GONE (silent for over {status.node_timeout_s:g} s: what waits "
                "on its modems goes out through the others)"
            )
            lines.append(
                f"  {n.name}: {state}, last heartbeat "
                f"{n.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC "
                f"(pid {n.pid}, up since {n.started_at:%Y-%m-%d %H:%M:%S})"
            )
    lines.append("modems:")
    if not status.modems:
        lines.append("  (none recorded yet: is the daemon running?)")
    for m in status.modems:
        signal = f"{m.signal_dbm} dBm" if m.signal_dbm is not None else "signal ?"
        where = f" (on {m.node})" if several and m.node else ""
        lines.append(
            f"  {m.name}{where}: {m.state}, {signal}, {m.operator or 'no operator'} "
            f"({m.registration or 'registration ?'}), "
            f"{status.queued_parts.get(m.name, 0)} part(s) queued"
        )
        if m.last_error:
            lines.append(f"    last error: {m.last_error}")
    unassigned = status.queued_parts.get(None, 0)
    if unassigned:
        lines.append(f"  (any modem): {unassigned} part(s) queued")
    for name, counts in (
        ("inbound", status.messages.inbound),
        ("outbound", status.messages.outbound),
    ):
        shown = ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items())) or "none"
        lines.append(f"{name} messages: {shown}")
    lines.append(f"opted-out numbers: {status.opted_out}")
    if status.undecodable:
        lines.append(f"undecodable PDUs kept: {status.undecodable}")
    return "\n".join(lines)


def status_main(
    argv: Sequence[str], out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Entry point of `smsgw status`."""
    out, err = out or sys.stdout, err or sys.stderr
    parser = argparse.ArgumentParser(
        prog="smsgw status",
        description="Modems, queues, message counts and opt-outs, from the database.",
    )
    _config_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(list(argv))
    settings = _load(args.config, err)
    if settings is None:
        return EXIT_ERROR
    try:
        status = asyncio.run(_status(settings))
    except GatewayError as exc:
        err.write(f"smsgw status: {exc}\n")
        return EXIT_ERROR
    if args.json:
        out.write(json.dumps(status_json(status), indent=2) + "\n")
    else:
        out.write(status_text(status) + "\n")
    return EXIT_OK
