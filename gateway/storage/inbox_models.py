"""peewee models of the inbox's own table (the read marker); models only.

The table is created by migration step 4 (plain SQL, shared with new databases); the
full-text indexes beside it are not models at all (see migrations and inbox_queries).
"""

from __future__ import annotations

import peewee

from gateway.storage.models import BaseModel, Conversation, User, UtcDateTimeField


class ConversationRead(BaseModel):
    """How far a conversation has been read: one marker per conversation, the team's."""

    # Shared: in a shared inbox, once someone read it, it is no longer news to anyone.

    conversation = peewee.ForeignKeyField(
        Conversation, primary_key=True, on_delete="CASCADE"
    )
    conversation_id: int
    message_id = peewee.BigIntegerField()  # the newest message read
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    user_id: int | None
    read_at = UtcDateTimeField()

    class Meta:
        table_name = "conversation_reads"


INBOX_MODELS: tuple[type[BaseModel], ...] = (ConversationRead,)
