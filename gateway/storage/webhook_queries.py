"""Units of work of the webhook relay, and `record_event`: the durable webhook outbox.

`record_event` runs INSIDE the unit of work that makes the change it reports (the store
runs every unit in a transaction), so the event is committed iff the change is: it writes
one `webhook_events` row and one `webhook_deliveries` row per active endpoint subscribed
to the type, and nothing when none is. Deliveries of one endpoint that share a
conversation carry one `ordering_key` and go out in id order (see `claim_due`).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from typing import Any

from gateway.domain import (
    ConsentRecord,
    ContactRecord,
    ConversationRecord,
    ConversationStatus,
    JsonObject,
    MessageRecord,
    MessageStatus,
    WebhookStatus,
)
from gateway.storage.models import (
    Contact,
    Conversation,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from gateway.webhooks import payloads
from gateway.webhooks.payloads import EventType

_LOGGER = logging.getLogger(__name__)

EVENT_ID_PREFIX = "evt_"


def new_event_id(now: datetime) -> str:
    """A webhook-id: time-ordered (milliseconds, hex) and unguessable (64 random bits)."""
    return f"{EVENT_ID_PREFIX}{int(now.timestamp() * 1000):012x}{secrets.token_hex(8)}"


def ordering_key(conversation_id: int | None) -> str | None:
    return None if conversation_id is None else f"conversation:{conversation_id}"


def _subscribers(event_type: str) -> list[Any]:
    return [
        row
        for row in WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.events)
        .where(WebhookEndpoint.active == True)  # noqa: E712 - a peewee expression
        .order_by(WebhookEndpoint.id)
        if not row.events or event_type in row.events
    ]


def _head_due(endpoint_id: int, key: str) -> datetime | None:
    """When the first pending delivery with this key is due (None: there is none)."""
    head = (
        WebhookDelivery.select(WebhookDelivery.next_attempt_at)
        .where(
            (WebhookDelivery.endpoint == endpoint_id)
            & (WebhookDelivery.ordering_key == key)
            & (WebhookDelivery.status == WebhookStatus.PENDING)
        )
        .order_by(WebhookDelivery.id)
        .first()
    )
    return None if head is None else head.next_attempt_at


def record_event(
    event_type: str,
    payload: JsonObject,
    *,
    conversation_id: int | None,
    now: datetime,
    endpoint_id: int | None = None,
) -> str | None:
    """ON THE DB THREAD, inside the unit that makes the change: queue the event for every
    active endpoint subscribed to `event_type` (only `endpoint_id` when given, whatever it
    subscribes to: test events). Its id (the webhook-id), or None when nobody wants it.

    `payload` is the envelope's `data` (gateway.webhooks.payloads builds it); deliveries
    with a `conversation_id` keep their order per endpoint.
    """
    if endpoint_id is None:
        endpoints = [row.id for row in _subscribers(event_type)]
    else:
        endpoints = [endpoint_id]
    if not endpoints:
        return None
    event = WebhookEvent.create(
        event_id=new_event_id(now),
        type=event_type,
        data=dict(payload),
        conversation_id=conversation_id,
        created_at=now,
    )
    key = ordering_key(conversation_id)
    rows = []
    for endpoint in endpoints:
        # A later event waits for the earlier ones anyway; not being due before the
        # head keeps it out of the relay's scans meanwhile.
        head_due = _head_due(endpoint, key) if key is not None else None
        due = now if head_due is None else max(now, head_due)
        rows.append(
            {
                "event": event.id,
                "endpoint": endpoint,
                "event_type": event_type,
                "ordering_key": key,
                "status": WebhookStatus.PENDING,
                "next_attempt_at": due,
                "queued_at": now,
                "created_at": now,
            }
        )
    WebhookDelivery.insert_many(rows).execute()
    _LOGGER.debug(
        "event %s (%s) queued for endpoint(s) %s", event.event_id, event_type, endpoints
    )
    return str(event.event_id)


# ------------------------------------------------------------------ what the gateway reports
# Called by the units of work that make each change (gateway.storage.queries, services).


def message_received(
    message: MessageRecord,
    conversation: ConversationRecord,
    contact: ContactRecord,
    *,
    now: datetime,
) -> str | None:
    """message.received: an inbound message was committed to its conversation."""
    return record_event(
        EventType.MESSAGE_RECEIVED,
        payloads.message_received(message, conversation, contact),
        conversation_id=conversation.id,
        now=now,
    )


def message_status_changed(
    message: MessageRecord, previous: MessageStatus | None, *, now: datetime
) -> str | None:
    """message.status: an outbound message's roll-up moved to sent, delivered or failed."""
    if message.status not in payloads.REPORTED_MESSAGE_STATUSES:
        return None
    return record_event(
        EventType.MESSAGE_STATUS,
        payloads.message_status(message, previous),
        conversation_id=message.conversation_id,
        now=now,
    )


def conversation_created(
    conversation: ConversationRecord, contact: ContactRecord, *, now: datetime
) -> str | None:
    return record_event(
        EventType.CONVERSATION_CREATED,
        payloads.conversation_created(conversation, contact),
        conversation_id=conversation.id,
        now=now,
    )


def conversation_status_changed(
    conversation: ConversationRecord,
    previous: ConversationStatus,
    *,
    now: datetime,
) -> str | None:
    """conversation.status_changed (a no-op when the status did not move)."""
    if conversation.status is previous:
        return None
    return record_event(
        EventType.CONVERSATION_STATUS_CHANGED,
        payloads.conversation_status_changed(conversation, previous),
        conversation_id=conversation.id,
        now=now,
    )


def conversation_assigned(
    conversation: ConversationRecord,
    *,
    previous_assignee_id: int | None,
    assignee: JsonObject | None,
    actor: str | None = None,
    now: datetime,
) -> str | None:
    """conversation.assigned; `assignee` is {"id", "username", "display_name"} or None."""
    return record_event(
        EventType.CONVERSATION_ASSIGNED,
        payloads.conversation_assigned(
            conversation,
            previous_assignee_id=previous_assignee_id,
            assignee=assignee,
            actor=actor,
        ),
        conversation_id=conversation.id,
        now=now,
    )


def consent_changed(
    consent: ConsentRecord, *, now: datetime, conversation_id: int | None = None
) -> str | None:
    """contact.opted_out / contact.opted_in. Without `conversation_id` the contact's
    latest conversation orders it (so an agent's opt-in follows the customer's STOP)."""
    contact = Contact.get_or_none(Contact.number == consent.number)
    contact_id = None if contact is None else int(contact.id)
    if conversation_id is None and contact is not None:
        latest = (
            Conversation.select(Conversation.id)
            .where(Conversation.contact == contact.id)
            .order_by(Conversation.id.desc())
            .first()
        )
        conversation_id = None if latest is None else int(latest.id)
    return record_event(
        payloads.consent_event_type(consent),
        payloads.consent_changed(
            consent, contact_id=contact_id, conversation_id=conversation_id
        ),
        conversation_id=conversation_id,
        now=now,
    )
