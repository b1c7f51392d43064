"""The gateway's persisted states and the frozen records that storage hands to services.

Storage returns these instead of peewee model instances, so services and the web layer
(which must not import `gateway.storage`) share one vocabulary and never hold a live row.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeAlias

from gateway.errors import InvalidInput
from modem.pdu.types import Concat

JsonValue: TypeAlias = (
    "str | int | float | bool | list[JsonValue] | dict[str, JsonValue] | None"
)
JsonObject: TypeAlias = Mapping[str, JsonValue]


def utcnow() -> datetime:
    """The current time, aware, in UTC: the only clock the gateway stores."""
    return datetime.now(UTC)


def storable_text(text: str) -> str:
    """A customer's text as every engine stores it: U+0000, which PostgreSQL text cannot
    hold (SQLite can), becomes U+FFFD. The part's PDU keeps the original bytes."""
    return text.replace("\x00", "\ufffd")


NUL_REFUSED = "the NUL character (U+0000) is not allowed"


def refuse_nul(text: str, field: str) -> str:
    """`text` typed by an agent or sent to the API, unless it holds U+0000: refused
    alike on every engine (PostgreSQL text cannot hold it, and nobody types it), with
    InvalidInput naming `field`. A customer's text is never refused: storable_text."""
    if "\x00" in text:
        raise InvalidInput(field, NUL_REFUSED)
    return text


class NumberKind(enum.StrEnum):
    """What a contact's `number` is."""

    E164 = "e164"  # +<country><number>: can be replied to
    # "AMAZON": a business sender id, cannot be replied to
    ALPHANUMERIC = "alphanumeric"
    # digits we cannot place in a region (short codes, odd network forms)
    SHORT = "short"


class Direction(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class MessageStatus(enum.StrEnum):
    QUEUED = "queued"  # committed, waiting for its modem
    SENDING = "sending"  # at least one part handed to a modem, not all accepted yet
    SENT = "sent"  # every part accepted by the network
    DELIVERED = "delivered"  # every part reported delivered
    FAILED = "failed"  # a part failed for good; `error` says why
    # Every part left or may have: one was in flight when the modem or the process went
    # away, so the phone may or may not have it (never resent: at most once); `error`
    # says which part. Not `sent`: that would claim what nobody knows.
    UNKNOWN = "unknown"
    RECEIVED = "received"  # inbound, complete
    INCOMPLETE = "incomplete"  # inbound, some parts never arrived before the timeout


class MessageOrigin(enum.StrEnum):
    """Who wrote a message: metrics tell human replies from automated ones by this."""

    CUSTOMER = "customer"
    AGENT = "agent"
    API = "api"
    AUTOMATION = "automation"
    SYSTEM = "system"  # compliance confirmations, help text
    # a modem test (Modems page, API): sent through that modem only, never failed over
    TEST = "test"


class PartStatus(enum.StrEnum):
    """An outbound part's state."""

    QUEUED = "queued"
    SENDING = "sending"  # claimed by a modem's sender, AT+CMGS under way
    SENT = "sent"  # accepted by the network (TP-MR recorded)
    DELIVERED = "delivered"  # status report said so
    FAILED = "failed"
    # Claimed before a crash with no recorded outcome: it may have reached the phone, so it
    # is never sent again (at most once), and no status report can be matched to it.
    UNKNOWN = "unknown"


class ConversationStatus(enum.StrEnum):
    OPEN = "open"  # needs an agent
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"


# A conversation that is not resolved is "active": a contact has at most one.
ACTIVE_CONVERSATION_STATUSES = (ConversationStatus.OPEN, ConversationStatus.PENDING)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ThreadOutcome(enum.StrEnum):
    """What threading an inbound message did to the customer's conversations."""

    APPENDED = "appended"  # added to their active conversation
    REOPENED = "reopened"  # a recently resolved conversation was reopened
    CREATED = "created"  # a new conversation


class ConsentKind(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class ConsentSource(enum.StrEnum):
    KEYWORD = "keyword"  # the customer texted STOP / START
    AGENT = "agent"
    API = "api"
    IMPORT = "import"


class UserRole(enum.StrEnum):
    ADMIN = "admin"
    AGENT = "agent"


class WebhookStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the dead-letter time; can be replayed


# ------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class NodeRecord:
    """A box running the gateway on this database, and when it last said it was alive."""

    name: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime

    def alive(self, now: datetime, timeout_s: float) -> bool:
        """Whether it beat within `timeout_s` ([gateway] node_timeout_s): past that, the
        other boxes take it as gone and send what waits on its modems."""
        return self.heartbeat_at >= node_alive_since(now, timeout_s)


def node_alive_since(now: datetime, timeout_s: float) -> datetime:
    """The oldest heartbeat of a box still taken as alive at `now`."""
    return now - timedelta(seconds=timeout_s)


@dataclass(frozen=True, slots=True)
class ContactRecord:
    id: int
    number: str
    kind: NumberKind
    name: str | None
    attributes: JsonObject
    created_at: datetime
    updated_at: datetime

    @property
    def repliable(self) -> bool:
        """False for alphanumeric senders: there is no number to text back."""
        return self.kind is not NumberKind.ALPHANUMERIC


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    id: int
    contact_id: int
    number: str
    status: ConversationStatus
    priority: Priority
    assignee_id: int | None
    queue: str | None
    context: JsonObject
    modem: str | None  # the modem the customer last texted: replies go out through it
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    resolved_at: datetime | None
    reopened_at: datetime | None
    reopen_count: int


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    conversation_id: int
    direction: Direction
    status: MessageStatus
    origin: MessageOrigin
    number: str  # the customer's number, whichever the direction
    body: str
    modem: str | None
    encoding: str | None
    parts_count: int
    concat_ref: int | None
    idempotency_key: str | None
    context: JsonObject
    error: str | None
    user_id: int | None
    consent_exempt: bool
    created_at: datetime
    updated_at: datetime
    network_at: datetime | None  # inbound: the SC timestamp of the first part
    sent_at: datetime | None
    delivered_at: datetime | None
    failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboundPartRecord:
    id: int
    modem: str
    sender: str
    sender_kind: NumberKind
    pdu_hex: str
    text: str  # may hold half of a surrogate pair until the parts are joined
    encoding: str
    concat: Concat | None
    reassembly_key: str
    dedupe_key: str
    network_at: datetime
    received_at: datetime
    message_id: int | None  # set once the part is assembled into a message


@dataclass(frozen=True, slots=True)
class RecordedPart:
    """`record_inbound_part`'s answer: the stored part, and whether this call stored it."""

    part: InboundPartRecord
    new: bool


@dataclass(frozen=True, slots=True)
class ThreadedMessage:
    """An inbound message committed to its conversation, and how it got there."""

    message: MessageRecord
    conversation: ConversationRecord
    contact: ContactRecord
    outcome: ThreadOutcome
    # the conversation's status before this message (None: the message started it)
    previous_status: ConversationStatus | None = None


@dataclass(frozen=True, slots=True)
class OutboundPartRecord:
    id: int
    message_id: int
    seq: int
    status: PartStatus
    attempts: int
    modem: str | None
    reference: int | None  # TP-MR the network gave it
    pdu_hex: str | None
    tpdu_length: int | None
    error: str | None
    report_status: int | None  # TP-ST of the last status report
    next_attempt_at: datetime
    claimed_at: datetime | None
    accepted_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Enqueued:
    """`enqueue_outbound`'s answer: `created` is False when the idempotency key was known."""

    message: MessageRecord
    parts: tuple[OutboundPartRecord, ...]
    created: bool


@dataclass(frozen=True, slots=True)
class ClaimedPart:
    """A part a modem's sender now owns: encode it from the message and send it."""

    part: OutboundPartRecord
    message: MessageRecord
    previous_status: MessageStatus | None = (
        None  # the message's status before the claim
    )

    @property
    def status_changed(self) -> bool:
        return self.previous_status is not self.message.status


@dataclass(frozen=True, slots=True)
class PartOutcome:
    """A part's new state and its message rolled up from all its parts."""

    part: OutboundPartRecord
    message: MessageRecord
    previous_status: MessageStatus | None = (
        None  # the message's status before this change
    )

    @property
    def status_changed(self) -> bool:
        """True when the roll-up moved the message to another status."""
        return self.previous_status is not self.message.status


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    id: int
    number: str
    kind: ConsentKind
    source: ConsentSource
    actor: str | None
    message_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class ConsentState:
    number: str
    opted_out: bool
    since: datetime | None  # when the last consent event happened (None: never any)
    source: ConsentSource | None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    actor: str
    action: str
    subject: str
    detail: JsonObject
    at: datetime


@dataclass(frozen=True, slots=True)
class UndecodableRecord:
    """Bytes a modem handed over that are not a valid PDU, kept for the operator."""

    id: int
    modem: str
    pdu_hex: str
    error: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class MessageCounts:
    """How many messages are in each status, per direction (for `smsgw status`)."""

    inbound: Mapping[MessageStatus, int]
    outbound: Mapping[MessageStatus, int]


@dataclass(frozen=True, slots=True)
class ModemRecord:
    name: str
    node: str | None
    state: str
    imei: str | None
    imsi: str | None
    iccid: str | None
    manufacturer: str | None
    model: str | None
    profile: str | None
    own_number: str | None
    registration: str | None
    operator: str | None
    signal_dbm: int | None
    last_error: str | None
    last_seen_at: datetime | None
    updated_at: datetime
