"""PURE: the event types that leave the box and the JSON shape of each (README "Webhooks").

Every body is an envelope `{"id", "type", "timestamp", "data"}`; `data` is built here from
the records storage hands out. Numbers are E.164, times ISO 8601 in UTC, ids integers.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from gateway.domain import (
    ConsentKind,
    ConsentRecord,
    ContactRecord,
    ConversationRecord,
    ConversationStatus,
    JsonObject,
    JsonValue,
    MessageRecord,
    MessageStatus,
)

JsonDict = dict[str, JsonValue]


class EventType(enum.StrEnum):
    MESSAGE_RECEIVED = "message.received"
    MESSAGE_STATUS = "message.status"
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
    CONTACT_OPTED_OUT = "contact.opted_out"
    CONTACT_OPTED_IN = "contact.opted_in"
    # a reply picked a notification's option (gateway.storage.notification_queries)
    REPLY_OPTION_SELECTED = "reply.option_selected"


# Sent by "send a test event" to one endpoint, whatever it subscribes to.
TEST_EVENT = "webhook.test"

# message.status reports these roll-ups (queued and sending are the box's business;
# "unknown" where the gateway has it: a part's fate is not known, it is never resent).
REPORTED_MESSAGE_STATUSES = frozenset(
    s for s in MessageStatus if s.value in ("sent", "delivered", "failed", "unknown")
)


def when(value: datetime | None) -> str | None:
    """A time as JSON: ISO 8601 in UTC with "Z", as the REST API writes it."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def envelope(
    event_id: str, event_type: str, created_at: datetime, data: JsonObject
) -> JsonDict:
    """The body of every request: the event's id (= webhook-id), type, time and data."""
    return {
        "id": event_id,
        "type": event_type,
        "timestamp": when(created_at),
        "data": dict(data),
    }


def contact_data(contact: ContactRecord) -> JsonDict:
    return {
        "id": contact.id,
        "number": contact.number,
        "kind": contact.kind.value,
        "name": contact.name,
    }


def conversation_data(conversation: ConversationRecord) -> JsonDict:
    return {
        "id": conversation.id,
        "contact_id": conversation.contact_id,
        "number": conversation.number,
        "status": conversation.status.value,
        "priority": conversation.priority.value,
        "assignee_id": conversation.assignee_id,
        "queue": conversation.queue,
        "context": dict(conversation.context),
        "modem": conversation.modem,
        "created_at": when(conversation.created_at),
        "updated_at": when(conversation.updated_at),
        "resolved_at": when(conversation.resolved_at),
    }


def message_data(message: MessageRecord, *, body: bool) -> JsonDict:
    data: JsonDict = {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "direction": message.direction.value,
        "status": message.status.value,
        "origin": message.origin.value,
        "number": message.number,
        "modem": message.modem,
        "parts": message.parts_count,
        "encoding": message.encoding,
        "error": message.error,
        "context": dict(message.context),
        "idempotency_key": message.idempotency_key,
        "created_at": when(message.created_at),
        "network_at": when(message.network_at),
        "sent_at": when(message.sent_at),
        "delivered_at": when(message.delivered_at),
        "failed_at": when(message.failed_at),
    }
    if body:
        data["body"] = message.body
    return data


def message_received(
    message: MessageRecord, conversation: ConversationRecord, contact: ContactRecord
) -> JsonDict:
    """A customer's text, committed to its conversation (the body included)."""
    return {
        "message": message_data(message, body=True),
        "conversation": conversation_data(conversation),
        "contact": contact_data(contact),
    }


def message_status(message: MessageRecord, previous: MessageStatus | None) -> JsonDict:
    """An outbound message's roll-up moved (sent, delivered, failed); no body."""
    return {
        "message": message_data(message, body=False),
        "previous_status": None if previous is None else previous.value,
    }


def conversation_created(
    conversation: ConversationRecord, contact: ContactRecord
) -> JsonDict:
    return {
        "conversation": conversation_data(conversation),
        "contact": contact_data(contact),
    }


def conversation_status_changed(
    conversation: ConversationRecord, previous: ConversationStatus
) -> JsonDict:
    return {
        "conversation": conversation_data(conversation),
        "previous_status": previous.value,
    }


def conversation_assigned(
    conversation: ConversationRecord,
    *,
    previous_assignee_id: int | None,
    assignee: JsonObject | None,
    actor: str | None = None,
) -> JsonDict:
    """`assignee` is `{"id", "username", "display_name"}` or None (unassigned)."""
    return {
        "conversation": conversation_data(conversation),
        "assignee": None if assignee is None else dict(assignee),
        "previous_assignee_id": previous_assignee_id,
        "actor": actor,
    }


def consent_event_type(consent: ConsentRecord) -> EventType:
    if consent.kind is ConsentKind.OPT_OUT:
        return EventType.CONTACT_OPTED_OUT
    return EventType.CONTACT_OPTED_IN


def consent_changed(
    consent: ConsentRecord,
    *,
    contact_id: int | None,
    conversation_id: int | None,
) -> JsonDict:
    """A number opted out or back in: by keyword (`message_id` set), agent, API, import."""
    return {
        "contact": {"id": contact_id, "number": consent.number},
        "source": consent.source.value,
        "actor": consent.actor,
        "message_id": consent.message_id,
        "conversation_id": conversation_id,
        "at": when(consent.at),
    }


def test_event(endpoint_id: int, actor: str) -> JsonDict:
    return {
        "endpoint_id": endpoint_id,
        "actor": actor,
        "note": "a test event from smsgw: answer 2xx to acknowledge it",
    }
