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

from gateway.domain import (
    ConsentRecord,
    ContactRecord,
    Enqueued,
    MessageRecord,
    OutboundPartRecord,
)
from gateway.inbox.records import (
    ContactBadge,
    ContactProfile,
    ContactRow,
    ConversationBrief,
    ConversationSummary,
    MessagePreview,
    NoteRecord,
    PartState,
    ReplyContext,
    ThreadMessage,
    ThreadView,
    UserBadge,
)
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


def service_page(
    rows: Sequence[T], next_cursor: str | None, render: Callable[[T], JsonDict]
) -> JsonDict:
    """A list page a service cut itself (its own cursor: None on the last page)."""
    return {
        "object": "list",
        "data": [render(row) for row in rows],
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
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


def contact_object(row: ContactRow) -> JsonDict:
    contact = row.contact
    return {
        "object": "contact",
        "id": contact.id,
        "number": contact.number,
        "kind": contact.kind.value,
        "name": contact.name,
        "attributes": dict(contact.attributes),
        "opted_out": row.opted_out,
        "created_at": when(contact.created_at),
        "updated_at": when(contact.updated_at),
    }


def deleted_object(kind: str, record: ContactRecord) -> JsonDict:
    """What a DELETE answers: which thing is gone."""
    return {"object": kind, "id": record.id, "deleted": True}


# ---------------------------------------------------------------------- conversations


def conversation_object(summary: ConversationSummary) -> JsonDict:
    """A conversation as the list shows it (and as every action on it answers)."""
    return {
        "object": "conversation",
        "id": summary.id,
        "status": summary.status.value,
        "priority": summary.priority.value,
        "queue": summary.queue,
        "modem": summary.modem,
        "contact": _badge(summary.contact),
        "assignee": _user(summary.assignee),
        "tags": list(summary.tags),
        "last_message": _preview(summary.last_message),
        "awaiting_reply": summary.awaiting_reply,
        "unread_count": summary.unread_count,
        "created_at": when(summary.created_at),
        "last_activity_at": when(summary.last_activity_at),
        "last_inbound_at": when(summary.last_inbound_at),
        "last_outbound_at": when(summary.last_outbound_at),
        "resolved_at": when(summary.resolved_at),
    }


def thread_object(view: ThreadView) -> JsonDict:
    """A conversation with its thread (messages and notes, oldest first), the context
    of what was sent in it, and the customer panel."""
    body = conversation_object(view.conversation)
    body.update(
        {
            "context": dict(view.context),
            "reopen_count": view.reopen_count,
            "read_message_id": view.read_message_id,
            "items": [
                _thread_message(item)
                if isinstance(item, ThreadMessage)
                else note_object(item)
                for item in view.items
            ],
            "older_before": view.older_cursor,
            "customer": _customer(view.customer),
        }
    )
    return body


def note_object(note: NoteRecord) -> JsonDict:
    return {
        "object": "note",
        "id": note.id,
        "conversation_id": note.conversation_id,
        "author": _user(note.author),
        "body": note.body,
        "created_at": when(note.created_at),
    }


def _thread_message(message: ThreadMessage) -> JsonDict:
    return {
        "object": "thread_message",
        "id": message.id,
        "direction": message.direction.value,
        "origin": message.origin.value,
        "status": message.status.value,
        "body": message.body,
        "modem": message.modem,
        "encoding": message.encoding,
        "parts_count": message.parts_count,
        "parts": [_part_state(p) for p in message.parts],
        "author": _user(message.author),
        "context": dict(message.context),
        "replying_to": _reply_context(message.replying_to),
        "error": message.error,
        "created_at": when(message.created_at),
        "network_at": when(message.network_at),
        "sent_at": when(message.sent_at),
        "delivered_at": when(message.delivered_at),
        "failed_at": when(message.failed_at),
    }


def _part_state(part: PartState) -> JsonDict:
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


def _reply_context(context: ReplyContext | None) -> JsonDict | None:
    if context is None:
        return None
    return {
        "message_id": context.message_id,
        "conversation_id": context.conversation_id,
        "body": context.body,
        "context": dict(context.context),
        "sent_at": when(context.sent_at),
    }


def _customer(profile: ContactProfile) -> JsonDict:
    consent = profile.consent
    return {
        **contact_object(ContactRow(profile.contact, profile.opted_out)),
        "consent": {
            "opted_out": consent.opted_out,
            "since": when(consent.since),
            "source": None if consent.source is None else consent.source.value,
        },
        "consent_history": [_consent(c) for c in profile.consent_history],
        "conversations": [_brief(c) for c in profile.conversations],
    }


def _consent(event: ConsentRecord) -> JsonDict:
    return {
        "kind": event.kind.value,
        "source": event.source.value,
        "actor": event.actor,
        "message_id": event.message_id,
        "at": when(event.at),
    }


def _brief(brief: ConversationBrief) -> JsonDict:
    return {
        "id": brief.id,
        "status": brief.status.value,
        "created_at": when(brief.created_at),
        "last_activity_at": when(brief.last_activity_at),
        "resolved_at": when(brief.resolved_at),
        "last_message": _preview(brief.last_message),
    }


def _badge(contact: ContactBadge) -> JsonDict:
    return {
        "id": contact.id,
        "number": contact.number,
        "name": contact.name,
        "kind": contact.kind.value,
        "opted_out": contact.opted_out,
    }


def _user(user: UserBadge | None) -> JsonDict | None:
    if user is None:
        return None
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def _preview(preview: MessagePreview | None) -> JsonDict | None:
    if preview is None:
        return None
    return {
        "id": preview.id,
        "direction": preview.direction.value,
        "origin": preview.origin.value,
        "status": preview.status.value,
        "body": preview.body,
        "created_at": when(preview.created_at),
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
