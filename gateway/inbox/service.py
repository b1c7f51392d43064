"""InboxService: what the agents' inbox and the REST API call for conversations.

Reads: the conversation list (filters, full-text search, keyset pages), a thread (every
message with its per-part delivery state, notes inline, the customer panel, the context
each customer message answers). Actions: assign, status, priority, tags, notes, reply,
mark read.

Every action is ONE unit of work (`store.run`): the change, its audit entry and, for
conversation.assigned and conversation.status_changed, the durable webhook event commit
together or not at all. Input is checked (gateway.inbox.policy) before the unit starts;
the unit raises NotFound for unknown ids and rolls back whole. Domain events go on the
bus only after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gateway import events
from gateway.config import Settings
from gateway.contacts import normalize_number
from gateway.domain import (
    ConversationRecord,
    ConversationStatus,
    Enqueued,
    MessageOrigin,
    MessageRecord,
    NumberKind,
    Priority,
    utcnow,
)
from gateway.errors import InvalidInput
from gateway.inbox import policy
from gateway.inbox.records import (
    Actor,
    ConversationPage,
    ConversationQuery,
    ConversationSummary,
    Cursor,
    FilterOptions,
    InboxCounts,
    NoteRecord,
    Ownership,
    SearchTerms,
    ThreadView,
)
from gateway.outbox.service import MAX_IDEMPOTENCY_KEY_CHARS, Draft, OutboundService
from gateway.storage import (
    inbox_queries,
    metrics_queries,
    queries,
    webhook_queries,
)
from modem.pdu.types import Encoding

if TYPE_CHECKING:
    from gateway.auth.records import Identity
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

DEFAULT_PAGE = 50
DEFAULT_THREAD_PAGE = 100


@dataclass(frozen=True, slots=True)
class _Changed:
    """A unit's answer: the conversation as a list row now, and whether anything moved."""

    summary: ConversationSummary
    changed: bool


class InboxService:
    """Conversations for agents and the API: lists, threads and every action on them."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        outbound: OutboundService,
        *,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._bus = bus
        self._outbound = outbound
        self._region = settings.gateway.default_region
        self._clock = clock

    # -------------------------------------------------------------- reads

    def search_terms(self, text: str | None) -> SearchTerms | None:
        """A search box's text as terms; the E.164 form too when it reads as a number."""
        number = None
        if text is not None and policy.looks_like_number(text):
            try:
                number = normalize_number(text, self._region, field="search")
            except InvalidInput:
                number = None
        return policy.search_terms(text, number=number)

    async def list_conversations(
        self,
        *,
        status: ConversationStatus | str | None = None,
        ownership: Ownership | str = Ownership.ALL,
        user_id: int | None = None,
        queue: str | None = None,
        tag: str | None = None,
        modem: str | None = None,
        priority: Priority | str | None = None,
        search: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> ConversationPage:
        """A page of conversations, newest activity first; filter values as in build_query."""
        # mine is the conversations assigned to `user_id`; `search` matches message bodies
        # (word prefixes) and the contact's name, number and attribute values.
        query = self.build_query(
            status=status,
            ownership=ownership,
            user_id=user_id,
            queue=queue,
            tag=tag,
            modem=modem,
            priority=priority,
            search=search,
        )
        after = None if cursor is None else policy.decode_cursor(cursor)
        size = policy.check_limit(limit, maximum=policy.MAX_PAGE)
        rows, more = await self._store.read(
            inbox_queries.list_conversations, query, after=after, limit=size
        )
        next_cursor = None
        if more and rows:
            last = rows[-1]
            next_cursor = policy.encode_cursor(Cursor(last.last_activity_at, last.id))
        return ConversationPage(tuple(rows), next_cursor)

    def build_query(
        self,
        *,
        status: ConversationStatus | str | None = None,
        ownership: Ownership | str = Ownership.ALL,
        user_id: int | None = None,
        queue: str | None = None,
        tag: str | None = None,
        modem: str | None = None,
        priority: Priority | str | None = None,
        search: str | None = None,
    ) -> ConversationQuery:
        """The validated filters (InvalidInput naming the field for a bad one)."""
        owner = policy.parse_ownership(ownership)
        if owner is Ownership.MINE:
            if user_id is None:
                raise InvalidInput("ownership", "mine needs a signed-in user")
            policy.check_id(user_id, "user_id")
        return ConversationQuery(
            status=None
            if status is None or status == ""
            else policy.parse_status(status),
            assignee_id=user_id if owner is Ownership.MINE else None,
            unassigned=owner is Ownership.UNASSIGNED,
            queue=policy.filter_text(queue, "queue"),
            tag=None
            if not tag or not tag.strip()
            else policy.normalize_tag(tag, field="tag"),
            modem=policy.filter_text(modem, "modem"),
            priority=None
            if priority is None or priority == ""
            else policy.parse_priority(priority),
            search=self.search_terms(search),
        )

    async def counts(self, *, user_id: int | None = None) -> InboxCounts:
        """How many conversations are open, pending, open and mine, open and nobody's."""
        if user_id is not None:
            policy.check_id(user_id, "user_id")
        return await self._store.read(inbox_queries.inbox_counts, user_id)

    async def filter_options(self) -> FilterOptions:
        """The tags, queues and modems the list can be filtered by."""
        return await self._store.read(inbox_queries.filter_options)

    async def get(self, conversation_id: int) -> ConversationSummary:
        """One conversation as a list row; NotFound if there is none."""
        cid = policy.check_id(conversation_id, "conversation_id")
        return await self._store.read(inbox_queries.conversation_summary, cid)

    async def thread(
        self,
        conversation_id: int,
        *,
        before: int | None = None,
        limit: int = DEFAULT_THREAD_PAGE,
    ) -> ThreadView:
        """The newest `limit` messages (before `before`) with notes, panel and reply contexts."""
        cid = policy.check_id(conversation_id, "conversation_id")
        if before is not None:
            policy.check_id(before, "before")
        size = policy.check_limit(limit, maximum=policy.MAX_THREAD_PAGE)
        return await self._store.read(
            inbox_queries.thread, cid, before=before, limit=size
        )

    # -------------------------------------------------------------- actions

    async def assign(
        self,
        conversation_id: int,
        assignee_id: int | None,
        *,
        actor: Actor | Identity,
    ) -> ConversationSummary:
        """Give the conversation to an active user, or to nobody (None)."""
        cid = policy.check_id(conversation_id, "conversation_id")
        if assignee_id is not None:
            policy.check_id(assignee_id, "assignee_id")
        who = Actor.of(actor)
        now = self._clock()
        result = await self._store.run(self._assign_unit, cid, assignee_id, who, now)
        if result.changed:
            _LOGGER.info(
                "conversation %s assigned to %s by %s",
                cid,
                assignee_id if assignee_id is not None else "nobody",
                who.name,
            )
            self._bus.publish(events.ConversationAssigned(cid, assignee_id, now))
        return result.summary

    def _assign_unit(
        self, cid: int, assignee_id: int | None, who: Actor, now: datetime
    ) -> _Changed:
        """ON THE DB THREAD: the assignment, its audit entry and its webhook event."""
        previous, changed = inbox_queries.assign_conversation(cid, assignee_id, now=now)
        summary = inbox_queries.conversation_summary(cid)
        if changed:
            queries.record_audit(
                who.name,
                "conversation.assign",
                f"conversation:{cid}",
                now=now,
                detail={"from": previous, "to": assignee_id},
            )
            assignee = summary.assignee
            webhook_queries.conversation_assigned(
                queries.get_conversation(cid),
                previous_assignee_id=previous,
                assignee=None
                if assignee is None
                else {
                    "id": assignee.id,
                    "username": assignee.username,
                    "display_name": assignee.display_name,
                },
                actor=who.name,
                now=now,
            )
        return _Changed(summary, changed)

    async def set_status(
        self,
        conversation_id: int,
        status: ConversationStatus | str,
        *,
        actor: Actor | Identity,
    ) -> ConversationSummary:
        """Open, park (pending) or resolve the conversation; resolving stamps resolved_at."""
        # Reopening a resolved one is a Conflict while its contact has another active one
        # (queries.set_conversation_status: a contact has at most one).
        cid = policy.check_id(conversation_id, "conversation_id")
        target = policy.parse_status(status)
        who = Actor.of(actor)
        now = self._clock()
        result = await self._store.run(self._status_unit, cid, target, who, now)
        if result.changed:
            _LOGGER.info("conversation %s %s by %s", cid, target.value, who.name)
            self._bus.publish(events.ConversationStatusChanged(cid, target.value, now))
        return result.summary

    def _status_unit(
        self, cid: int, target: ConversationStatus, who: Actor, now: datetime
    ) -> _Changed:
        """ON THE DB THREAD: the status, its audit entry and its webhook event."""
        previous = queries.get_conversation(cid).status
        record: ConversationRecord = queries.set_conversation_status(
            cid, target, now=now
        )
        changed = record.status is not previous
        if changed:
            queries.record_audit(
                who.name,
                "conversation.status",
                f"conversation:{cid}",
                now=now,
                detail={"from": previous.value, "to": target.value},
            )
            webhook_queries.conversation_status_changed(record, previous, now=now)
            metrics_queries.record_status(
                record, previous, user_id=who.user_id, now=now
            )
        return _Changed(inbox_queries.conversation_summary(cid), changed)

    async def set_priority(
        self,
        conversation_id: int,
        priority: Priority | str,
        *,
        actor: Actor | Identity,
    ) -> ConversationSummary:
        """Set the conversation's priority (low, normal, high, urgent)."""
        cid = policy.check_id(conversation_id, "conversation_id")
        target = policy.parse_priority(priority)
        who = Actor.of(actor)
        now = self._clock()
        result = await self._store.run(self._priority_unit, cid, target, who, now)
        if result.changed:
            self._bus.publish(events.PriorityChanged(cid, target.value, now))
        return result.summary

    def _priority_unit(
        self, cid: int, target: Priority, who: Actor, now: datetime
    ) -> _Changed:
        """ON THE DB THREAD: the priority and its audit entry."""
        previous, changed = inbox_queries.set_priority(cid, target, now=now)
        if changed:
            queries.record_audit(
                who.name,
                "conversation.priority",
                f"conversation:{cid}",
                now=now,
                detail={"from": previous.value, "to": target.value},
            )
        return _Changed(inbox_queries.conversation_summary(cid), changed)

    async def add_tags(
        self,
        conversation_id: int,
        tags: Sequence[str] | str,
        *,
        actor: Actor | Identity,
    ) -> ConversationSummary:
        """Tag the conversation (names normalised: "VIP Customer" -> vip-customer)."""
        return await self._change_tags(
            conversation_id, policy.normalize_tags(tags), (), actor
        )

    async def remove_tags(
        self,
        conversation_id: int,
        tags: Sequence[str] | str,
        *,
        actor: Actor | Identity,
    ) -> ConversationSummary:
        """Take tags off the conversation (tags it does not have are ignored)."""
        return await self._change_tags(
            conversation_id, (), policy.normalize_tags(tags), actor
        )

    async def _change_tags(
        self,
        conversation_id: int,
        to_add: tuple[str, ...],
        to_remove: tuple[str, ...],
        actor: Actor | Identity,
    ) -> ConversationSummary:
        cid = policy.check_id(conversation_id, "conversation_id")
        who = Actor.of(actor)
        now = self._clock()
        summary, added, removed = await self._store.run(
            self._tags_unit, cid, to_add, to_remove, who, now
        )
        if added or removed:
            self._bus.publish(
                events.ConversationTagged(cid, added, removed, summary.tags, now)
            )
        return summary

    def _tags_unit(
        self,
        cid: int,
        add: tuple[str, ...],
        remove: tuple[str, ...],
        who: Actor,
        now: datetime,
    ) -> tuple[ConversationSummary, tuple[str, ...], tuple[str, ...]]:
        """ON THE DB THREAD: the tags and one audit entry per direction of change."""
        added, removed = inbox_queries.change_tags(cid, add=add, remove=remove, now=now)
        for action, names in (
            ("conversation.tag", added),
            ("conversation.untag", removed),
        ):
            if names:
                queries.record_audit(
                    who.name,
                    action,
                    f"conversation:{cid}",
                    now=now,
                    detail={"tags": list(names)},
                )
        return inbox_queries.conversation_summary(cid), added, removed

    async def add_note(
        self, conversation_id: int, body: str, *, actor: Actor | Identity
    ) -> NoteRecord:
        """Write an internal note (agents only; never sent to the customer)."""
        cid = policy.check_id(conversation_id, "conversation_id")
        text = policy.note_body(body)
        who = Actor.of(actor)
        now = self._clock()
        note = await self._store.run(self._note_unit, cid, text, who, now)
        self._bus.publish(events.NoteAdded(cid, note.id, who.user_id, now))
        return note

    def _note_unit(self, cid: int, text: str, who: Actor, now: datetime) -> NoteRecord:
        """ON THE DB THREAD: the note and its audit entry (which never holds the text)."""
        note = inbox_queries.add_note(cid, body=text, author_id=who.user_id, now=now)
        queries.record_audit(
            who.name,
            "conversation.note",
            f"conversation:{cid}",
            now=now,
            detail={"note_id": note.id},
        )
        return note

    async def reply(
        self,
        conversation_id: int,
        body: str,
        *,
        actor: Actor | Identity,
        idempotency_key: str | None = None,
    ) -> MessageRecord:
        """Queue a text to the customer as an agent (committed on return); the message."""
        # OutboundService's own unit step refuses an opted-out number (OptedOut) as for any
        # send; the same `idempotency_key` again returns the first message, queues nothing.
        enqueued = await self.queue_reply(
            conversation_id, body, actor=actor, idempotency_key=idempotency_key
        )
        return enqueued.message

    async def queue_reply(
        self,
        conversation_id: int,
        body: str,
        *,
        actor: Actor | Identity,
        idempotency_key: str | None = None,
    ) -> Enqueued:
        """`reply`, answering with the parts and `created` (False: the key was known)."""
        cid = policy.check_id(conversation_id, "conversation_id")
        if not isinstance(body, str):
            raise InvalidInput("body", "text is required")
        parts, encoding = self._outbound.measure(body)
        if idempotency_key is not None and not (
            0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY_CHARS
        ):
            raise InvalidInput(
                "idempotency_key",
                f"must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters",
            )
        who = Actor.of(actor)
        healthy = self._outbound.healthy_now()
        enqueued: Enqueued = await self._store.run(
            self._reply_unit,
            cid,
            body,
            parts,
            encoding,
            who,
            idempotency_key,
            healthy,
            self._clock(),
        )
        self._outbound.announce(enqueued)
        return enqueued

    def _reply_unit(
        self,
        cid: int,
        body: str,
        parts: int,
        encoding: Encoding,
        who: Actor,
        idempotency_key: str | None,
        healthy: frozenset[str] | None,
        now: datetime,
    ) -> Enqueued:
        """ON THE DB THREAD: queue the reply in the conversation, with its audit entry."""
        conversation = queries.get_conversation(cid)
        contact = queries.get_contact(conversation.contact_id)
        if contact.kind is not NumberKind.E164:
            raise InvalidInput(
                "conversation_id",
                f"conversation {cid} is with a sender that cannot be replied to "
                f"({contact.kind.value})",
            )
        enqueued = self._outbound.enqueue_in_unit(
            Draft(contact.number, body, parts, encoding),
            now=now,
            healthy=healthy,
            origin=MessageOrigin.AGENT,
            idempotency_key=idempotency_key,
            conversation_id=cid,
            user_id=who.user_id,
        )
        if enqueued.created:
            queries.record_audit(
                who.name,
                "conversation.reply",
                f"conversation:{cid}",
                now=now,
                detail={"message_id": enqueued.message.id},
            )
        return enqueued

    async def mark_read(
        self,
        conversation_id: int,
        *,
        actor: Actor | Identity,
        message_id: int | None = None,
    ) -> ConversationSummary:
        """Mark the conversation read up to `message_id` (its newest message when None)."""
        # The marker is the team's and never moves back; only a move is audited.
        cid = policy.check_id(conversation_id, "conversation_id")
        if message_id is not None:
            policy.check_id(message_id, "message_id")
        who = Actor.of(actor)
        now = self._clock()
        result, marker = await self._store.run(
            self._read_unit, cid, message_id, who, now
        )
        if result.changed and marker is not None:
            self._bus.publish(events.ConversationRead(cid, marker, who.user_id, now))
        return result.summary

    def _read_unit(
        self, cid: int, message_id: int | None, who: Actor, now: datetime
    ) -> tuple[_Changed, int | None]:
        """ON THE DB THREAD: the read marker and, when it moved, its audit entry."""
        previous, marker = inbox_queries.mark_read(
            cid, message_id=message_id, user_id=who.user_id, now=now
        )
        changed = marker != previous
        if changed:
            queries.record_audit(
                who.name,
                "conversation.read",
                f"conversation:{cid}",
                now=now,
                detail={"message_id": marker},
            )
        return _Changed(inbox_queries.conversation_summary(cid), changed), marker
