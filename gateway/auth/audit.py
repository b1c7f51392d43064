"""AuditLog: who did what to which thing, for services without a unit of their own and for
the Audit page. Services that change something record it in the change's own unit
(`queries.record_audit`), so the change and its entry commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway.domain import AuditRecord, JsonObject, utcnow
from gateway.errors import InvalidInput
from gateway.storage import queries
from gateway.storage.db import Store

MAX_PAGE = 500


class AuditLog:
    """Reads and appends audit entries."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self,
        actor: str,
        action: str,
        subject: str,
        detail: JsonObject | None = None,
    ) -> AuditRecord:
        """Append one entry (actor: user:alice, token:crm#3, system; action: noun.verb)."""
        return await self._store.run(
            queries.record_audit,
            actor,
            action,
            subject,
            now=self._clock(),
            detail=detail,
        )

    async def list(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        subject: str | None = None,
    ) -> list[AuditRecord]:
        """Entries newest first, `limit` at a time before `before_id` (keyset pages)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"{limit} is not between 1 and {MAX_PAGE}")
        return await self._store.read(
            queries.list_audit, limit=limit, before_id=before_id, subject=subject
        )
