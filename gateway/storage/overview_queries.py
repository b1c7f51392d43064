"""Units of work for the overview (gateway.overview): read-only, records out."""

from __future__ import annotations

from typing import Any

from gateway.overview.records import ConversationRow
from gateway.storage.models import Contact, Conversation


def recent_conversations(*, limit: int) -> list[ConversationRow]:
    """The most recently updated conversations, any status, with their contact's name."""
    rows: Any = (
        Conversation.select(Conversation, Contact.name)
        .join(Contact)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit)
    )
    return [
        ConversationRow(
            id=row.id,
            number=row.number,
            contact_name=row.contact.name,
            status=row.status,
            priority=row.priority,
            assignee_id=row.assignee_id,
            modem=row.modem,
            updated_at=row.updated_at,
            last_inbound_at=row.last_inbound_at,
        )
        for row in rows
    ]
