"""Frozen values of the inbox: list rows, threads, the customer panel, contact pages.

Storage builds them (gateway.storage.inbox_queries) and the web layer renders them; this
module imports nothing from storage, so both sides may depend on it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from gateway.domain import (
    ConsentRecord,
    ConsentState,
    ContactRecord,
    ConversationStatus,
    Direction,
    JsonObject,
    MessageOrigin,
    MessageStatus,
    NumberKind,
    PartStatus,
    Priority,
)

if TYPE_CHECKING:
    from gateway.auth.records import Identity


class Ownership(enum.StrEnum):
    """Whose conversations a list shows."""

    ALL = "all"
    MINE = "mine"  # assigned to the user asking
    UNASSIGNED = "unassigned"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who does something: the audit log's name for them and, for people, their user id."""

    name: str  # user:alice, token:crm#3, system
    user_id: int | None = None

    @classmethod
    def of(cls, who: Actor | Identity) -> Actor:
        """An Actor from a web request's Identity (or an Actor, as it is)."""
        if isinstance(who, Actor):
            return who
        return cls(who.actor, who.user.id)


SYSTEM = Actor("system")


# ------------------------------------------------------------------ the list


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """A search box's text, split for the full-text index (see policy.search_terms)."""

    text: str  # as typed, trimmed
    words: tuple[str, ...]  # the terms, each matched as a word prefix in message bodies
    number: str | None = None  # E.164 when the whole text reads as a phone number


@dataclass(frozen=True, slots=True)
class ConversationQuery:
    """The validated filters of a conversation list (InboxService builds it)."""

    status: ConversationStatus | None = None  # None: every status
    assignee_id: int | None = None  # Ownership.MINE
    unassigned: bool = False  # Ownership.UNASSIGNED
    queue: str | None = None
    tag: str | None = None
    modem: str | None = None
    priority: Priority | None = None
    search: SearchTerms | None = None


@dataclass(frozen=True, slots=True)
class Cursor:
    """A position in the list: after the row with this last activity and id."""

    at: datetime
    id: int


@dataclass(frozen=True, slots=True)
class UserBadge:
    """A user as the inbox names them (assignee, note and reply authors)."""

    id: int
    username: str
    display_name: str


@dataclass(frozen=True, slots=True)
class ContactBadge:
    """A contact as a list row shows them."""

    id: int
    number: str
    name: str | None
    kind: NumberKind
    opted_out: bool

    @property
    def display(self) -> str:
        """The name when there is one, else the number (or the sender's name)."""
        return self.name or self.number

    @property
    def alphanumeric(self) -> bool:
        """A business sender id ("AMAZON"): nobody to reply to."""
        return self.kind is NumberKind.ALPHANUMERIC


@dataclass(frozen=True, slots=True)
class MessagePreview:
    """The last message of a conversation; `body` is raw text (the UI escapes it)."""

    id: int
    direction: Direction
    origin: MessageOrigin
    status: MessageStatus
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationSummary:
    """One row of the conversation list."""

    id: int
    status: ConversationStatus
    priority: Priority
    queue: str | None
    modem: str | None
    contact: ContactBadge
    assignee: UserBadge | None
    tags: tuple[str, ...]
    last_message: MessagePreview | None
    # the customer's last message has had no agent reply since (automated texts do not
    # count as a reply)
    awaiting_reply: bool
    unread_count: int  # customer messages after the conversation's read marker
    created_at: datetime
    last_activity_at: datetime  # any change: a message, a note, an assignment ...
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    resolved_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.unread_count > 0


@dataclass(frozen=True, slots=True)
class ConversationPage:
    """A page of the list; pass `next_cursor` back for the next (None: the last page)."""

    rows: tuple[ConversationSummary, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class InboxCounts:
    """How many conversations each view of the inbox holds (the tabs' badges)."""

    open: int
    pending: int
    mine_open: int  # open and assigned to the user asking (0 without one)
    unassigned_open: int


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """The values the list's filters can take now."""

    tags: tuple[str, ...]
    queues: tuple[str, ...]
    modems: tuple[str, ...]


# ------------------------------------------------------------------ the thread


@dataclass(frozen=True, slots=True)
class PartState:
    """One SMS part of an outbound message, as the network last reported it."""

    seq: int
    status: PartStatus
    reference: int | None  # TP-MR
    report_status: int | None  # TP-ST of the last status report
    error: str | None
    attempts: int
    modem: str | None
    accepted_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """The outbound message (with a context) a customer's message most likely answers."""

    message_id: int
    conversation_id: int
    body: str
    context: JsonObject  # e.g. {"order_id": "A-1042"} from the notification's sender
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A message in a thread, with its per-part delivery state and its author."""

    id: int
    direction: Direction
    origin: MessageOrigin
    status: MessageStatus
    body: str  # raw text: the UI escapes it
    created_at: datetime
    network_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None
    error: str | None
    modem: str | None
    encoding: str | None
    parts_count: int
    parts: tuple[PartState, ...]  # outbound only; empty for inbound
    author: UserBadge | None  # the agent who wrote it
    context: JsonObject
    replying_to: ReplyContext | None  # inbound only
    kind: Literal["message"] = "message"


@dataclass(frozen=True, slots=True)
class NoteRecord:
    """An internal note: agents see it in the thread; it is never sent."""

    id: int
    conversation_id: int
    author: UserBadge | None
    body: str
    created_at: datetime
    kind: Literal["note"] = "note"


ThreadItem = ThreadMessage | NoteRecord


@dataclass(frozen=True, slots=True)
class ConversationBrief:
    """Another conversation of the same contact, for the customer panel."""

    id: int
    status: ConversationStatus
    created_at: datetime
    last_activity_at: datetime
    resolved_at: datetime | None
    last_message: MessagePreview | None


@dataclass(frozen=True, slots=True)
class ContactProfile:
    """The customer panel: who they are, their consent, their other conversations."""

    contact: ContactRecord
    consent: ConsentState
    consent_history: tuple[ConsentRecord, ...]  # newest first
    conversations: tuple[
        ConversationBrief, ...
    ]  # newest first; the current one excluded

    @property
    def opted_out(self) -> bool:
        return self.consent.opted_out

    @property
    def display(self) -> str:
        return self.contact.name or self.contact.number


@dataclass(frozen=True, slots=True)
class ThreadView:
    """A conversation's newest messages with the notes among them, and the customer panel."""

    conversation: ConversationSummary
    context: JsonObject  # merged contexts of the outbound messages sent in it
    reopen_count: int
    items: tuple[ThreadItem, ...]
    older_cursor: int | None  # `before` for the page before `items`; None: none before
    customer: ContactProfile
    read_message_id: int | None  # the read marker: the newest message someone read
    read_by: UserBadge | None
    rating: int | None = None  # the customer's CSAT rating (1-5), if they gave one

    @property
    def messages(self) -> tuple[ThreadMessage, ...]:
        return tuple(i for i in self.items if isinstance(i, ThreadMessage))

    @property
    def notes(self) -> tuple[NoteRecord, ...]:
        return tuple(i for i in self.items if isinstance(i, NoteRecord))


# ------------------------------------------------------------------ contacts


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact in the contact list."""

    contact: ContactRecord
    opted_out: bool

    @property
    def display(self) -> str:
        return self.contact.name or self.contact.number


@dataclass(frozen=True, slots=True)
class ContactPage:
    rows: tuple[ContactRow, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ContactInput:
    """A validated contact to create or update (from a form, the API or a CSV row)."""

    number: str  # E.164, or an existing contact's number exactly as stored
    name: str | None  # None: leave as it is
    attributes: JsonObject  # merged key by key; a None value removes the key
    row: int = 0  # the CSV row it came from (1 is the header), 0 otherwise
    # Set when `number` did not read as a phone number (why not): the row then only
    # updates a contact stored under exactly that text (a sender such as "AMAZON").
    exact: str | None = None


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """Why one CSV row was not imported."""

    row: int  # the line in the file, the header being row 1
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """What one unit of an import did: counts, and the rows it could not apply."""

    created: int
    updated: int
    unchanged: int
    problems: tuple[ImportProblem, ...]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What a CSV import did (or, with dry_run, would do)."""

    rows: int  # data rows read
    created: int
    updated: int
    unchanged: int
    problems: tuple[ImportProblem, ...]  # rows skipped, with the reason
    dry_run: bool

    @property
    def ok(self) -> bool:
        return not self.problems
