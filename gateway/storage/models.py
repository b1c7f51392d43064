"""peewee models: the gateway's tables, and nothing else (no business logic here).

Conventions: times are UTC (`UtcDateTimeField` refuses naive datetimes), phone numbers are
E.164 text, states are `StrEnum`s stored as text through one `EnumField`, JSON is text,
and every index is declared explicitly. Modems are referred to by name (text), not by a
foreign key: history must survive a modem being renamed or removed from gateway.ini.

Models are bound through `DB`, a `DatabaseProxy` whose target is set per thread: only a
store's db thread can use them, so a query on the event loop fails loudly instead of
blocking it (ARCHITECTURE invariant 4).
"""

from __future__ import annotations

import enum
import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import peewee

from gateway.domain import (
    ConsentKind,
    ConsentSource,
    ConversationStatus,
    Direction,
    MessageOrigin,
    MessageStatus,
    NumberKind,
    PartStatus,
    Priority,
    UserRole,
    WebhookStatus,
)

E = TypeVar("E", bound=enum.StrEnum)

# peewee's stubs make field classes generic in their value type; at run time they are not
# subscriptable, so the custom fields below derive from these twins.
if TYPE_CHECKING:
    _TextField = peewee.TextField
    _DateTimeField = peewee.DateTimeField
else:

    class _TextField(peewee.TextField):
        def __class_getitem__(cls, item):
            return cls

    class _DateTimeField(peewee.DateTimeField):
        def __class_getitem__(cls, item):
            return cls


class ThreadBoundDatabase(peewee.DatabaseProxy):
    """A DatabaseProxy whose target database is per thread (set on a store's db thread)."""

    __slots__ = ("_local",)

    def __init__(self) -> None:
        object.__setattr__(self, "_local", threading.local())
        super().__init__()

    @property
    def obj(self) -> Any:
        return getattr(self._local, "db", None)

    @obj.setter
    def obj(self, value: Any) -> None:
        self._local.db = value

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    @property
    def postgresql(self) -> bool:
        """Whether this thread's database is PostgreSQL (else SQLite)."""
        return isinstance(self.obj, peewee.PostgresqlDatabase)

    def __getattr__(self, name: str) -> Any:
        db = self.obj
        if db is None:
            raise AttributeError(
                f"no database on thread {threading.current_thread().name!r}: models are "
                "used only inside `await store.run(fn)`"
            )
        return getattr(db, name)


DB = ThreadBoundDatabase()


class EnumField(_TextField[E]):
    """A StrEnum stored as its text value."""

    # The stubs type each field class through __new__; this one is typed by its enum.
    def __new__(cls, enum_type: type[E], **kwargs: Any) -> EnumField[E]:
        return object.__new__(cls)

    def __init__(self, enum_type: type[E], **kwargs: Any) -> None:
        self.enum_type = enum_type
        super().__init__(**kwargs)

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return self.enum_type(value).value

    def python_value(self, value: Any) -> Any:
        return None if value is None else self.enum_type(value)


class UtcDateTimeField(_DateTimeField[Any]):
    """An aware datetime stored as naive UTC; comes back aware (UTC)."""

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(
                f"{self.name}: an aware datetime is required, not {value!r}"
            )
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(naive)  # type: ignore[no-untyped-call]

    def python_value(self, value: Any) -> Any:
        value = super().python_value(value)  # type: ignore[no-untyped-call]
        return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


class JsonField(_TextField[Any]):
    """A JSON value stored as text (portable: SQLite and PostgreSQL alike)."""

    def __new__(cls, **kwargs: Any) -> JsonField:
        return object.__new__(cls)

    def db_value(self, value: Any) -> Any:
        if value is None:
            return None
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), sort_keys=True
        )

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


class PartTextField(_TextField[str]):
    """One part's decoded text, stored JSON-escaped.

    A UCS-2 character outside the BMP can be split between two parts by the sending phone;
    each part then decodes to a lone surrogate, which UTF-8 (and so SQLite) cannot store.
    Escaped, it survives until the parts are joined and the pair is whole again.
    """

    def db_value(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, ensure_ascii=True)

    def python_value(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(peewee.Model):
    class Meta:
        database = DB
        legacy_table_names = False
        only_save_dirty = True  # save() writes the fields that changed, nothing else


class Counter(BaseModel):
    """Named counters (e.g. the next concatenation reference)."""

    name = peewee.TextField(primary_key=True)
    value = peewee.BigIntegerField(default=0)

    class Meta:
        table_name = "counters"


class User(BaseModel):
    id = peewee.AutoField()
    username = peewee.TextField()
    display_name = peewee.TextField()
    role = EnumField(UserRole)
    password_hash = peewee.TextField()
    active = peewee.BooleanField(default=True)
    created_at = UtcDateTimeField()
    last_login_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "users"
        indexes = ((("username",), True),)


class ApiToken(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField()
    # sha256 of the token; the token itself is never stored
    token_hash = peewee.TextField()
    prefix = peewee.TextField()  # first characters, so people can tell tokens apart
    user = peewee.ForeignKeyField(
        User, null=True, on_delete="CASCADE", backref="tokens"
    )
    created_at = UtcDateTimeField()
    last_used_at = UtcDateTimeField(null=True)
    revoked_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "api_tokens"
        indexes = ((("token_hash",), True), (("user",), False))


class Contact(BaseModel):
    id = peewee.AutoField()
    # E.164, or the sender name/digits as received (see kind)
    number = peewee.TextField()
    kind = EnumField(NumberKind)
    name = peewee.TextField(null=True)
    attributes = JsonField(default=dict)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "contacts"
        indexes = ((("number",), True),)


class Conversation(BaseModel):
    id = peewee.AutoField()
    contact = peewee.ForeignKeyField(
        Contact, on_delete="RESTRICT", backref="conversations"
    )
    contact_id: int
    number = peewee.TextField()  # the contact's number, kept for listing without a join
    status = EnumField(ConversationStatus)
    priority = EnumField(Priority, default=Priority.NORMAL)
    assignee = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    assignee_id: int | None
    queue = peewee.TextField(null=True)
    context = JsonField(default=dict)
    modem = peewee.TextField(null=True)  # the modem the customer last texted
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    last_inbound_at = UtcDateTimeField(null=True)
    last_outbound_at = UtcDateTimeField(null=True)
    resolved_at = UtcDateTimeField(null=True)
    reopened_at = UtcDateTimeField(null=True)
    reopen_count = peewee.IntegerField(default=0)

    class Meta:
        table_name = "conversations"
        indexes = (
            (("status", "updated_at"), False),
            (("assignee", "status", "updated_at"), False),
            (("queue", "status", "updated_at"), False),
            (("contact", "created_at"), False),
        )


# A contact has at most one conversation that is not resolved: threading relies on it.
Conversation.add_index(
    Conversation.index(
        Conversation.contact,
        unique=True,
        where=(Conversation.status != ConversationStatus.RESOLVED.value),
        name="conversations_one_active_per_contact",
    )
)


class Message(BaseModel):
    id = peewee.BigAutoField()
    conversation = peewee.ForeignKeyField(
        Conversation, on_delete="RESTRICT", backref="messages"
    )
    conversation_id: int
    direction = EnumField(Direction)
    status = EnumField(MessageStatus)
    origin = EnumField(MessageOrigin)
    number = peewee.TextField()  # the customer's number, whichever the direction
    body = peewee.TextField()
    modem = peewee.TextField(null=True)  # outbound: set when a modem takes it
    encoding = peewee.TextField(null=True)
    parts_count = peewee.IntegerField(default=1)
    concat_ref = peewee.IntegerField(null=True)
    idempotency_key = peewee.TextField(null=True)
    context = JsonField(default=dict)
    error = peewee.TextField(null=True)
    user = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    user_id: int | None
    # Compliance replies (the STOP confirmation) go to numbers that just opted out.
    consent_exempt = peewee.BooleanField(default=False)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    network_at = UtcDateTimeField(null=True)
    sent_at = UtcDateTimeField(null=True)
    delivered_at = UtcDateTimeField(null=True)
    failed_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "messages"
        indexes = (
            (("idempotency_key",), True),
            (("conversation", "id"), False),
            (("direction", "status", "modem"), False),
            (("number", "created_at"), False),
        )


class InboundPart(BaseModel):
    id = peewee.BigAutoField()
    modem = peewee.TextField()
    sender = peewee.TextField()
    sender_kind = EnumField(NumberKind)
    pdu_hex = peewee.TextField()  # as the modem gave it, SMSC field included
    text = PartTextField()  # decoded by modem.pdu; "" for 8-bit data
    encoding = peewee.TextField()
    concat_ref = peewee.IntegerField(null=True)
    concat_total = peewee.IntegerField(null=True)
    concat_seq = peewee.IntegerField(null=True)
    concat_ref_bits = peewee.IntegerField(null=True)
    reassembly_key = peewee.TextField()
    # the same part read again after a crash has the same key
    dedupe_key = peewee.TextField()
    network_at = UtcDateTimeField()  # the SC timestamp
    received_at = UtcDateTimeField()
    message = peewee.ForeignKeyField(
        Message, null=True, on_delete="SET NULL", backref="parts"
    )
    message_id: int | None

    class Meta:
        table_name = "inbound_parts"
        indexes = ((("dedupe_key",), True), (("message",), False))


# Pending (unassembled) parts are looked up by key and swept by age; assembled ones never.
InboundPart.add_index(
    InboundPart.index(
        InboundPart.reassembly_key,
        InboundPart.concat_seq,
        where=InboundPart.message.is_null(),
        name="inbound_parts_pending_by_key",
    )
)
InboundPart.add_index(
    InboundPart.index(
        InboundPart.received_at,
        where=InboundPart.message.is_null(),
        name="inbound_parts_pending_by_age",
    )
)


class UndecodablePdu(BaseModel):
    """Bytes a modem stored or pushed that do not decode; kept so nothing is lost silently."""

    id = peewee.BigAutoField()
    modem = peewee.TextField()
    pdu_hex = peewee.TextField()  # as the modem gave it
    error = peewee.TextField()  # why it does not decode (field and octet)
    # the same bytes read again after a crash are kept once
    dedupe_key = peewee.TextField()
    received_at = UtcDateTimeField()

    class Meta:
        table_name = "undecodable_pdus"
        indexes = ((("dedupe_key",), True), (("received_at",), False))


class OutboundPart(BaseModel):
    id = peewee.BigAutoField()
    message = peewee.ForeignKeyField(
        Message, on_delete="CASCADE", backref="outbound_parts"
    )
    message_id: int
    seq = peewee.IntegerField()  # 1-based, as in the concatenation header
    status = EnumField(PartStatus)
    attempts = peewee.IntegerField(default=0)
    modem = peewee.TextField(null=True)
    # TP-MR from +CMGS: matches status reports
    reference = peewee.IntegerField(null=True)
    pdu_hex = peewee.TextField(null=True)  # what was sent, for the record
    tpdu_length = peewee.IntegerField(null=True)
    error = peewee.TextField(null=True)
    report_status = peewee.IntegerField(null=True)  # TP-ST of the last status report
    next_attempt_at = UtcDateTimeField()
    claimed_at = UtcDateTimeField(null=True)
    accepted_at = UtcDateTimeField(null=True)
    delivered_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "outbound_parts"
        indexes = (
            (("message", "seq"), True),
            (("status", "next_attempt_at"), False),
            (("modem", "reference", "accepted_at"), False),
        )


class Modem(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField()
    # the box that owns it, when boxes share a database
    node = peewee.TextField(null=True)
    state = peewee.TextField()  # modem.events.ModemState values
    imei = peewee.TextField(null=True)
    imsi = peewee.TextField(null=True)
    iccid = peewee.TextField(null=True)
    manufacturer = peewee.TextField(null=True)
    model = peewee.TextField(null=True)
    profile = peewee.TextField(null=True)
    own_number = peewee.TextField(null=True)
    registration = peewee.TextField(null=True)
    operator = peewee.TextField(null=True)
    signal_dbm = peewee.IntegerField(null=True)
    last_error = peewee.TextField(null=True)
    last_seen_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "modems"
        indexes = ((("name",), True),)


class ConsentEvent(BaseModel):
    """Append-only: a number's consent is its latest event."""

    id = peewee.BigAutoField()
    number = peewee.TextField()
    kind = EnumField(ConsentKind)
    source = EnumField(ConsentSource)
    # user name or token name, for agent/api changes
    actor = peewee.TextField(null=True)
    message = peewee.ForeignKeyField(Message, null=True, on_delete="SET NULL")
    message_id: int | None
    at = UtcDateTimeField()

    class Meta:
        table_name = "consent_events"
        indexes = ((("number", "id"), False),)


class AuditEvent(BaseModel):
    id = peewee.BigAutoField()
    actor = peewee.TextField()  # "user:alice", "token:crm", "system", "customer:+44..."
    action = peewee.TextField()  # "consent.opt_out", "conversation.assign", ...
    # "conversation:12", "contact:+44...", "setting:web.port"
    subject = peewee.TextField()
    detail = JsonField(default=dict)
    at = UtcDateTimeField()

    class Meta:
        table_name = "audit_events"
        indexes = (
            (("at",), False),
            (("subject", "id"), False),
            (("actor", "id"), False),
        )


class Tag(BaseModel):
    id = peewee.AutoField()
    name = peewee.TextField()
    color = peewee.TextField(null=True)

    class Meta:
        table_name = "tags"
        indexes = ((("name",), True),)


class ConversationTag(BaseModel):
    conversation = peewee.ForeignKeyField(
        Conversation, on_delete="CASCADE", backref="tags"
    )
    tag = peewee.ForeignKeyField(Tag, on_delete="CASCADE")
    created_at = UtcDateTimeField()

    class Meta:
        table_name = "conversation_tags"
        primary_key = peewee.CompositeKey("conversation", "tag")
        indexes = ((("tag", "conversation"), False),)


class Note(BaseModel):
    id = peewee.AutoField()
    conversation = peewee.ForeignKeyField(
        Conversation, on_delete="CASCADE", backref="notes"
    )
    author = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    body = peewee.TextField()
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "notes"
        indexes = ((("conversation", "created_at"), False),)


class WebhookEndpoint(BaseModel):
    """A receiver of webhooks (schema step 4 gave the webhook tables their current form)."""

    id = peewee.AutoField()
    url = peewee.TextField()
    description = peewee.TextField(null=True)
    # how requests to it are built and signed: gateway.webhooks.formats (standard, ...)
    kind = peewee.TextField(default="standard")
    secret = peewee.TextField()  # the signing key (Standard Webhooks "whsec_...")
    # after a rotation the old key signs too (a second signature) until this time
    previous_secret = peewee.TextField(null=True)
    previous_secret_until = UtcDateTimeField(null=True)
    events = JsonField(default=list)  # event types it wants; empty means all
    active = peewee.BooleanField(default=True)
    disabled_reason = peewee.TextField(null=True)  # why the relay turned it off (410)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "webhook_endpoints"


class WebhookEvent(BaseModel):
    """One event that leaves the box; written in the transaction of the change it reports."""

    id = peewee.BigAutoField()
    event_id = peewee.TextField()  # webhook-id: stable across retries and replays
    type = peewee.TextField()
    data = JsonField()
    # the conversation it belongs to (deliveries keep its order); no foreign key: the
    # event log outlives what it reports
    conversation_id = peewee.BigIntegerField(null=True)
    created_at = UtcDateTimeField()

    class Meta:
        table_name = "webhook_events"
        indexes = ((("event_id",), True), (("created_at",), False))


class WebhookDelivery(BaseModel):
    """The durable webhook outbox: one row per event and endpoint."""

    id = peewee.BigAutoField()
    event = peewee.ForeignKeyField(
        WebhookEvent, on_delete="CASCADE", backref="deliveries", index=False
    )
    event_id: int
    endpoint = peewee.ForeignKeyField(
        WebhookEndpoint, on_delete="CASCADE", backref="deliveries", index=False
    )
    endpoint_id: int
    event_type = peewee.TextField()  # the event's, for filtering without a join
    # deliveries of one endpoint with one key go out in order ("conversation:12")
    ordering_key = peewee.TextField(null=True)
    status = EnumField(WebhookStatus, default=WebhookStatus.PENDING)
    attempts = peewee.IntegerField(default=0)
    rejections = peewee.IntegerField(default=0)  # 4xx answers since it was queued
    next_attempt_at = UtcDateTimeField()
    queued_at = (
        UtcDateTimeField()
    )  # created or replayed: the dead-letter age counts from it
    last_attempt_at = UtcDateTimeField(null=True)
    last_status_code = peewee.IntegerField(null=True)
    last_error = peewee.TextField(null=True)
    replays = peewee.IntegerField(default=0)
    created_at = UtcDateTimeField()
    delivered_at = UtcDateTimeField(null=True)
    dead_at = UtcDateTimeField(null=True)
    # The lease of the node sending it now (schema step 12): no other node claims it
    # before claimed_until; recording the attempt clears both.
    claimed_by = peewee.TextField(null=True)
    claimed_until = UtcDateTimeField(null=True)

    class Meta:
        table_name = "webhook_deliveries"
        indexes = (
            (("event", "endpoint"), True),
            (("status", "next_attempt_at"), False),
            (("endpoint", "ordering_key", "id"), False),
            (("endpoint", "id"), False),
        )


class WebhookAttempt(BaseModel):
    """One HTTP request of a delivery, whatever came of it."""

    id = peewee.BigAutoField()
    delivery = peewee.ForeignKeyField(
        WebhookDelivery, on_delete="CASCADE", backref="log", index=False
    )
    delivery_id: int
    attempt = peewee.IntegerField()  # 1 for the first request of the delivery
    at = UtcDateTimeField()
    status_code = peewee.IntegerField(null=True)  # None: no answer (refused, timeout)
    error = peewee.TextField(null=True)
    response = peewee.TextField(null=True)  # the first characters of the answer's body
    duration_ms = peewee.IntegerField()
    outcome = peewee.TextField()  # gateway.webhooks.policy.Outcome

    class Meta:
        table_name = "webhook_attempts"
        indexes = ((("delivery", "id"), False),)


class Node(BaseModel):
    """A box running the gateway on this database (gateway.node_name), and its heartbeat."""

    name = peewee.TextField(primary_key=True)
    pid = peewee.IntegerField()
    started_at = UtcDateTimeField()
    heartbeat_at = UtcDateTimeField()

    class Meta:
        table_name = "nodes"


# Every table, in dependency order (creation order; drop in reverse).
MODELS: tuple[type[BaseModel], ...] = (
    Counter,
    User,
    ApiToken,
    Contact,
    Conversation,
    Message,
    InboundPart,
    OutboundPart,
    Modem,
    ConsentEvent,
    AuditEvent,
    Tag,
    ConversationTag,
    Note,
    WebhookEndpoint,
    WebhookEvent,  # schema version 4 gave the webhook tables their current form
    WebhookDelivery,
    WebhookAttempt,
    UndecodablePdu,  # schema version 2
    Node,  # schema version 11
)
