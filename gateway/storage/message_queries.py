"""Units of work for reading messages (gateway.messages): read-only, records out."""

from __future__ import annotations

from gateway.domain import MessageRecord
from gateway.messages.records import MessageDetail, MessageFilter
from gateway.storage.models import Message
from gateway.storage.queries import _message, get_message, outbound_parts


def message_detail(message_id: int) -> MessageDetail:
    """The message with its outbound parts; NotFound if there is none."""
    return MessageDetail(get_message(message_id), tuple(outbound_parts(message_id)))


def list_messages(
    where: MessageFilter, *, limit: int, before_id: int | None = None
) -> list[MessageRecord]:
    """Messages matching `where`, newest first, `limit` at a time before `before_id`."""
    query = Message.select().order_by(Message.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    if where.direction is not None:
        query = query.where(Message.direction == where.direction)
    if where.status is not None:
        query = query.where(Message.status == where.status)
    if where.number is not None:
        query = query.where(Message.number == where.number)
    if where.conversation_id is not None:
        query = query.where(Message.conversation == where.conversation_id)
    if where.since is not None:
        query = query.where(Message.created_at >= where.since)
    return [_message(row) for row in query]
