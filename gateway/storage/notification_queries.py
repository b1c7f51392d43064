"""Units of work (and pieces of units) of notifications: created with their message and
hold, found again for a customer's reply, the option picked recorded with its webhook.

Every function runs ON THE DB THREAD, inside `store.run` (or inside the inbound unit
that commits the reply); records out, never rows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.domain import (
    ContactRecord,
    ConversationRecord,
    ConversationStatus,
    JsonObject,
    JsonValue,
    MessageRecord,
    MessageStatus,
)
from gateway.errors import Conflict, NotFound
from gateway.inbox.records import NoteRecord
from gateway.notifications.options import ReplyOption
from gateway.notifications.records import NotificationRecord, Selection
from gateway.storage import inbox_queries, queries, webhook_queries
from gateway.storage.models import Conversation, Message
from gateway.storage.notification_models import NotificationRow, OutboundHold
from gateway.webhooks import payloads
from gateway.webhooks.payloads import EventType

_LOGGER = logging.getLogger(__name__)

# A reply answers a text the customer had: one at least partly sent.
_LEFT = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.UNKNOWN,
)
# How many of a number's latest notifications a reply is matched against.
_RECENT = 20


def _record(row: Any, message: MessageRecord | None = None) -> NotificationRecord:
    hold = OutboundHold.get_or_none(OutboundHold.message == row.message_id)
    selected = None
    if row.selected_key is not None:
        option = next((o for o in _options(row) if o.key == row.selected_key), None)
        selected = Selection(
            key=row.selected_key,
            value=option.value if option is not None else row.selected_key,
            message_id=row.selected_message_id,
            at=row.selected_at,
            confirmation_message_id=row.confirmation_message_id,
        )
    return NotificationRecord(
        id=row.id,
        message=message or queries.get_message(row.message_id),
        number=row.number,
        template=row.template,
        context=row.context,
        options=_options(row),
        expires_at=row.expires_at,
        scheduled_at=row.scheduled_at,
        not_before=None if hold is None else hold.not_before,
        zones=tuple(hold.zones) if hold is not None else (),
        actor=row.actor,
        created_at=row.created_at,
        selected=selected,
    )


def _options(row: Any) -> tuple[ReplyOption, ...]:
    return tuple(ReplyOption.from_json(o) for o in row.options or [])


def create_notification(
    message: MessageRecord,
    *,
    template: str | None,
    context: JsonObject,
    options: Sequence[ReplyOption],
    expires_at: datetime | None,
    scheduled_at: datetime | None,
    actor: str,
    now: datetime,
) -> NotificationRecord:
    """The notification of a message queued in this unit, audited."""
    row = NotificationRow.create(
        message=message.id,
        number=message.number,
        template=template,
        context=dict(context),
        options=[o.as_json() for o in options],
        expires_at=expires_at if options else None,
        scheduled_at=scheduled_at,
        actor=actor,
        created_at=now,
    )
    queries.record_audit(
        actor,
        "notification.create",
        f"notification:{row.id}",
        now=now,
        detail={"message_id": message.id, "options": [o.key for o in options]},
    )
    return _record(row, message)


def for_message(message_id: int) -> NotificationRecord | None:
    """The notification a message is the text of, if it is one."""
    row = NotificationRow.get_or_none(NotificationRow.message == message_id)
    return None if row is None else _record(row)


def get_notification(notification_id: int) -> NotificationRecord:
    row = NotificationRow.get_or_none(NotificationRow.id == notification_id)
    if row is None:
        raise NotFound("notification", notification_id)
    return _record(row)


def list_notifications(
    *, number: str | None, limit: int, before_id: int | None
) -> list[NotificationRecord]:
    """Newest first; `number` (E.164) filters."""
    query = NotificationRow.select().order_by(NotificationRow.id.desc()).limit(limit)
    if number is not None:
        query = query.where(NotificationRow.number == number)
    if before_id is not None:
        query = query.where(NotificationRow.id < before_id)
    return [_record(row) for row in query]


def answered_by(
    number: str, *, reply_id: int, now: datetime
) -> tuple[NotificationRecord | None, NotificationRecord | None]:
    """For a customer's reply: (the newest notification whose options are open, the
    newest notification sent) among those that reached the customer before it."""
    rows = list(
        NotificationRow.select(NotificationRow, Message)
        .join(Message)
        .where(
            (NotificationRow.number == number)
            & (Message.id < reply_id)
            & Message.status.in_(_LEFT)
        )
        .order_by(NotificationRow.id.desc())
        .limit(_RECENT)
    )
    if not rows:
        return None, None
    latest = _record(rows[0], queries._message(rows[0].message))
    for row in rows:
        if (
            row.options
            and row.selected_key is None
            and (row.expires_at is None or now < row.expires_at)
        ):
            if row is rows[0]:
                return latest, latest
            return _record(row, queries._message(row.message)), latest
    return None, latest


def record_selection(
    notification_id: int,
    option: ReplyOption,
    *,
    reply: MessageRecord,
    confirmation_id: int | None,
    now: datetime,
) -> NotificationRecord:
    """The option a reply picked; Conflict when one was picked already."""
    updated = (
        NotificationRow.update(
            selected_key=option.key,
            selected_at=now,
            selected_message_id=reply.id,
            confirmation_message_id=confirmation_id,
        )
        .where(
            (NotificationRow.id == notification_id)
            & NotificationRow.selected_key.is_null()
        )
        .execute()
    )
    if not updated:
        raise Conflict(f"notification {notification_id} was answered already")
    queries.record_audit(
        f"customer:{reply.number}",
        "notification.option_selected",
        f"notification:{notification_id}",
        now=now,
        detail={"option": option.key, "message_id": reply.id},
    )
    return get_notification(notification_id)


def option_selected(
    notification: NotificationRecord,
    option: ReplyOption,
    *,
    reply: MessageRecord,
    conversation: ConversationRecord,
    contact: ContactRecord,
    now: datetime,
) -> str | None:
    """The reply.option_selected webhook, in the unit that records the choice."""
    data = option_selected_data(notification, option, reply, conversation, contact)
    return webhook_queries.record_event(
        EventType.REPLY_OPTION_SELECTED,
        data,
        conversation_id=conversation.id,
        now=now,
    )


def option_selected_data(
    notification: NotificationRecord,
    option: ReplyOption,
    reply: MessageRecord,
    conversation: ConversationRecord,
    contact: ContactRecord,
) -> dict[str, JsonValue]:
    """PURE: the payload (README "Notifications and templates")."""
    confirmation = notification.selected
    return {
        "notification": {
            "id": notification.id,
            "message_id": notification.message.id,
            "template": notification.template,
            "context": dict(notification.context),
            "created_at": payloads.when(notification.created_at),
            "expires_at": payloads.when(notification.expires_at),
        },
        "option": {
            "key": option.key,
            "value": option.value,
            "action": option.action.value,
            "queue": option.queue,
        },
        "context": dict(notification.context),
        "message": payloads.message_data(reply, body=True),
        "conversation": payloads.conversation_data(conversation),
        "contact": payloads.contact_data(contact),
        "confirmation_message_id": (
            None if confirmation is None else confirmation.confirmation_message_id
        ),
    }


def merge_context(conversation_id: int, context: JsonObject, *, now: datetime) -> None:
    """Put a notification's context on the conversation its reply landed in (when that
    is another conversation than the notification's: agents see which appointment)."""
    if not context:
        return
    row = Conversation.get_by_id(conversation_id)
    merged = {**row.context, **context}
    if merged != row.context:
        row.context = merged
        row.updated_at = now
        row.save()


def hand_over(
    conversation_id: int, *, queue: str | None, note: str, now: datetime
) -> tuple[ConversationRecord, NoteRecord]:
    """A person takes it: open, in `queue` when given, with a note saying why."""
    row = Conversation.get_by_id(conversation_id)
    if queue is not None and row.queue != queue:
        row.queue = queue
        row.updated_at = now
        row.save()
    if row.status != ConversationStatus.OPEN:
        queries.set_conversation_status(
            conversation_id, ConversationStatus.OPEN, now=now
        )
    written = inbox_queries.add_note(
        conversation_id, body=note, author_id=None, now=now
    )
    return queries.get_conversation(conversation_id), written


def settle(
    conversation: ConversationRecord,
    previous: ConversationStatus | None,
    *,
    now: datetime,
) -> ConversationRecord | None:
    """After a confirm: the conversation as the reply found it - resolved again when
    nobody needed to act before it (it was pending, resolved or new). The changed
    record, or None when it stays open."""
    if previous is ConversationStatus.OPEN or conversation.status is (
        ConversationStatus.RESOLVED
    ):
        return None
    changed = queries.set_conversation_status(
        conversation.id, ConversationStatus.RESOLVED, now=now
    )
    webhook_queries.conversation_status_changed(changed, conversation.status, now=now)
    queries.record_audit(
        "system",
        "conversation.status",
        f"conversation:{conversation.id}",
        now=now,
        detail={
            "from": conversation.status.value,
            "to": changed.status.value,
            "reason": "reply option confirmed",
        },
    )
    return changed
