"""MessageService: messages of both directions, one with its parts or a filtered list."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from gateway.contacts import normalize_number
from gateway.domain import MessageRecord
from gateway.errors import InvalidInput
from gateway.messages.records import MessageDetail, MessageFilter
from gateway.storage import message_queries

if TYPE_CHECKING:
    from gateway.storage.db import Store

MAX_PAGE = 500
_EVERYTHING = MessageFilter()


class MessageService:
    """Read-only: a message with its parts, or a list in keyset pages (newest first)."""

    def __init__(self, store: Store, *, default_region: str) -> None:
        self._store = store
        self._region = default_region

    async def get(self, message_id: int) -> MessageDetail:
        """The message and its parts; NotFound if there is none."""
        return await self._store.read(message_queries.message_detail, message_id)

    async def list(
        self,
        where: MessageFilter = _EVERYTHING,
        *,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[MessageRecord]:
        """Messages matching `where`, newest first, `limit` at a time before `before_id`.

        `where.number` may be written in any form the box reads; InvalidInput names
        `number`, `since` (a time without its zone) or `limit`.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"{limit} is not between 1 and {MAX_PAGE}")
        if where.since is not None and where.since.tzinfo is None:
            raise InvalidInput("since", "a time with its time zone")
        if where.number is not None:
            number = normalize_number(where.number, self._region, field="number")
            where = dataclasses.replace(where, number=number)
        return await self._store.read(
            message_queries.list_messages, where, limit=limit, before_id=before_id
        )
