"""The API's resources as JSON, Stripe's way: an object carries its type in `"object"`,
and a list is `{"object": "list", "data", "has_more", "next_cursor"}`.

Times are ISO 8601 UTC with "Z", numbers E.164 (or an alphanumeric sender's name as it
came), ids integers. The shapes are documented in web/api/openapi.py and checked against
real responses by tests/web/api/.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from aiohttp import web

from gateway.domain import ContactRecord, Enqueued, MessageRecord, OutboundPartRecord
from gateway.outbox.service import SegmentCount
from web.schemas import JsonDict, when

T = TypeVar("T")


def respond(
    body: JsonDict, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON answer (the one place the API builds a success response)."""
    return web.json_response(body, status=status, headers=headers)


def page(
    rows: Sequence[T],
    limit: int,
    render: Callable[[T], JsonDict],
    cursor_after: Callable[[T], str],
) -> JsonDict:
    """A list page from up to `limit` + 1 rows: the extra row only says there are more."""
    shown = rows[:limit]
    more = len(rows) > limit
    return {
        "object": "list",
        "data": [render(row) for row in shown],
        "has_more": more,
        "next_cursor": cursor_after(shown[-1]) if more and shown else None,
    }


def whole_list(rows: Sequence[T], render: Callable[[T], JsonDict]) -> JsonDict:
    """A list that always fits in one page (modems, users)."""
    return {
        "object": "list",
        "data": [render(row) for row in rows],
        "has_more": False,
        "next_cursor": None,
    }


def message_object(
    message: MessageRecord, parts: Sequence[OutboundPartRecord] | None = None
) -> JsonDict:
    """A message; `parts` (each part's delivery state) when fetched one by one."""
    body: JsonDict = {
        "object": "message",
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction.value,
        "status": message.status.value,
        "origin": message.origin.value,
        "number": message.number,
        "body": message.body,
        "modem": message.modem,
        "encoding": message.encoding,
        "parts_count": message.parts_count,
        "idempotency_key": message.idempotency_key,
        "context": dict(message.context),
        "error": message.error,
        "user_id": message.user_id,
        "created_at": when(message.created_at),
        "updated_at": when(message.updated_at),
        "network_at": when(message.network_at),
        "sent_at": when(message.sent_at),
        "delivered_at": when(message.delivered_at),
        "failed_at": when(message.failed_at),
    }
    if parts is not None:
        body["parts"] = [part_object(p) for p in parts]
    return body


def part_object(part: OutboundPartRecord) -> JsonDict:
    return {
        "seq": part.seq,
        "status": part.status.value,
        "attempts": part.attempts,
        "modem": part.modem,
        "reference": part.reference,
        "report_status": part.report_status,
        "error": part.error,
        "accepted_at": when(part.accepted_at),
        "delivered_at": when(part.delivered_at),
    }


def segments_object(count: SegmentCount) -> JsonDict:
    return {
        "object": "segments",
        "encoding": count.encoding,
        "parts": count.parts,
        "units": count.units,
        "units_per_part": count.units_per_part,
        "units_left": count.units_left,
        "non_gsm_chars": list(count.non_gsm_chars),
        "max_parts": count.max_parts,
        "sendable": count.sendable,
    }


def contact_object(contact: ContactRecord, *, opted_out: bool) -> JsonDict:
    return {
        "object": "contact",
        "id": contact.id,
        "number": contact.number,
        "kind": contact.kind.value,
        "name": contact.name,
        "attributes": dict(contact.attributes),
        "opted_out": opted_out,
        "created_at": when(contact.created_at),
        "updated_at": when(contact.updated_at),
    }


def queued(enqueued: Enqueued) -> web.Response:
    """A message just queued (201), or the one an idempotency key already queued (200)."""
    message = enqueued.message
    headers = {"Location": f"/api/v1/messages/{message.id}"}
    if not enqueued.created:
        headers["Idempotent-Replayed"] = "true"
    return respond(
        message_object(message, enqueued.parts),
        status=201 if enqueued.created else 200,
        headers=headers,
    )
