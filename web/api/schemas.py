"""What each API endpoint takes: the declared fields (web.api.fields) and the frozen
values a handler gets from them.

The declarations are also the request half of the OpenAPI document: web/api/openapi.py
reads `SEND_MESSAGE.schema()`, `LIST_MESSAGES.parameters()` and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

from multidict import MultiMapping

from gateway.contacts import MAX_NUMBER_INPUT_CHARS
from gateway.domain import (
    AuditRecord,
    ConversationStatus,
    Direction,
    JsonObject,
    JsonValue,
    MessageRecord,
    MessageStatus,
    Priority,
)
from gateway.errors import InvalidInput
from gateway.inbox import policy
from gateway.inbox.records import Ownership
from gateway.messages.records import MessageFilter
from gateway.outbox.service import MAX_IDEMPOTENCY_KEY_CHARS
from web.api import cursors
from web.api.fields import (
    Body,
    Integer,
    JsonMap,
    PathId,
    PathName,
    Query,
    Text,
    TextList,
    Time,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_PAGE = 100
DEFAULT_PAGE = 20
# Bounds the request only: [outbound] max_parts decides what may be sent.
MAX_BODY_CHARS = 40_000
MAX_CONTEXT_BYTES = 8192


def _limit() -> Integer:
    return Integer(
        name="limit",
        description=f"How many to return, 1 to {MAX_PAGE}.",
        maximum=MAX_PAGE,
        default=DEFAULT_PAGE,
    )


def _cursor() -> Text:
    return Text(
        name="cursor",
        description="`next_cursor` of the previous page, with the same filters.",
        max_length=cursors.MAX_CURSOR_CHARS,
    )


def _number(name: str, description: str, *, required: bool) -> Text:
    return Text(
        name=name,
        description=description,
        max_length=MAX_NUMBER_INPUT_CHARS,
        required=required,
        example="+447700900123",
    )


# ---------------------------------------------------------------------- messages

MESSAGE_ID = PathId("id", "The message's id.")

SEND_MESSAGE = Body(
    (
        _number(
            "to",
            "The recipient: E.164 (+447700900123) or national in the box's region.",
            required=True,
        ),
        Text(
            name="body",
            description="The text. GSM-7 when it fits, else UCS-2; at most "
            "[outbound] max_parts SMS parts.",
            max_length=MAX_BODY_CHARS,
            required=True,
            blank=False,
            example="Your order A-1042 has shipped. Reply here with any question.",
        ),
        JsonMap(
            name="context",
            description="Your record of why this was sent (order id, ticket...): kept "
            "on the message, merged into the conversation, and shown to agents beside "
            f"the customer's reply. At most {MAX_CONTEXT_BYTES} bytes as JSON.",
            max_bytes=MAX_CONTEXT_BYTES,
            example={"order_id": "A-1042"},
        ),
        Text(
            name="idempotency_key",
            description=f"Instead of the {IDEMPOTENCY_HEADER} header (the same if both).",
            max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        ),
    ),
    example={
        "to": "+447700900123",
        "body": "Your order A-1042 has shipped.",
        "context": {"order_id": "A-1042"},
    },
)


@dataclass(frozen=True, slots=True)
class SendMessage:
    to: str
    body: str
    context: JsonObject | None
    idempotency_key: str | None

    @classmethod
    def parse(cls, raw: JsonValue, header: str | None) -> SendMessage:
        values = SEND_MESSAGE.read(raw)
        key = _one_key(values.text_or_none("idempotency_key"), header)
        return cls(
            to=values.text("to"),
            body=values.text("body"),
            context=values.object_or_none("context"),
            idempotency_key=key,
        )


def _one_key(body_key: str | None, header: str | None) -> str | None:
    """The idempotency key from the header or the body field (both: the same)."""
    if header is None:
        return body_key
    if body_key is not None and body_key != header:
        raise InvalidInput(
            "idempotency_key",
            f"differs from the {IDEMPOTENCY_HEADER} header; send one of them",
        )
    if not 1 <= len(header) <= MAX_IDEMPOTENCY_KEY_CHARS:
        raise InvalidInput(
            "idempotency_key", f"1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"
        )
    return header


LIST_MESSAGES = Query(
    (
        Text(
            name="direction",
            description="Only inbound or only outbound messages.",
            max_length=8,
            values=tuple(d.value for d in Direction),
        ),
        Text(
            name="status",
            description="Only messages in this status.",
            max_length=10,
            values=tuple(s.value for s in MessageStatus),
        ),
        _number(
            "number",
            "Only messages with this customer number (any form the box reads).",
            required=False,
        ),
        Integer(name="conversation_id", description="Only this conversation's."),
        Time(
            name="since",
            description="Only messages created at or after this time (ISO 8601 with "
            "its zone).",
        ),
        _cursor(),
        _limit(),
    )
)


@dataclass(frozen=True, slots=True)
class MessageList:
    where: MessageFilter
    limit: int
    before_id: int | None

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> MessageList:
        values = LIST_MESSAGES.read(query)
        direction = values.text_or_none("direction")
        status = values.text_or_none("status")
        where = MessageFilter(
            direction=None if direction is None else Direction(direction),
            status=None if status is None else MessageStatus(status),
            number=values.text_or_none("number"),
            conversation_id=values.integer_or_none("conversation_id"),
            since=values.time_or_none("since"),
        )
        cursor = values.text_or_none("cursor")
        before = (
            None if cursor is None else cursors.decode(cursor, "messages", _of(where))
        )
        return cls(where, values.integer("limit"), before)

    def cursor_after(self, message: MessageRecord) -> str:
        return cursors.encode("messages", _of(self.where), message.id)


def _of(where: MessageFilter) -> dict[str, object]:
    return {
        "direction": where.direction,
        "status": where.status,
        "number": where.number,
        "conversation_id": where.conversation_id,
        "since": where.since,
    }


# ---------------------------------------------------------------------- segments

COUNT_SEGMENTS = Body(
    (
        Text(
            name="text",
            description="The draft to measure (may be empty).",
            max_length=MAX_BODY_CHARS,
            min_length=0,
            required=True,
            example="Thanks! 👍",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class CountSegments:
    text: str

    @classmethod
    def parse(cls, raw: JsonValue) -> CountSegments:
        return cls(COUNT_SEGMENTS.read(raw).text("text"))


# ---------------------------------------------------------------------- modems

MODEM_NAME = PathName(
    "name", "The modem's name ([modem:NAME] in gateway.ini).", example="usb0"
)

TEST_MODEM = Body(
    (
        _number("to", "Who gets the test text.", required=True),
        Text(
            name="body",
            description="The text (a standard test message when absent).",
            max_length=MAX_BODY_CHARS,
            blank=False,
        ),
    ),
    example={"to": "+447700900123"},
)


@dataclass(frozen=True, slots=True)
class TestModem:
    to: str
    body: str | None

    __test__ = False  # not a pytest class, whatever its name

    @classmethod
    def parse(cls, raw: JsonValue) -> TestModem:
        values = TEST_MODEM.read(raw)
        return cls(values.text("to"), values.text_or_none("body"))


# ---------------------------------------------------------------------- users, audit

USER_ID = PathId("id", "The user's id.")

LIST_AUDIT = Query((_cursor(), _limit()))


@dataclass(frozen=True, slots=True)
class AuditList:
    limit: int
    before_id: int | None

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> AuditList:
        values = LIST_AUDIT.read(query)
        cursor = values.text_or_none("cursor")
        before = None if cursor is None else cursors.decode(cursor, "audit", {})
        return cls(values.integer("limit"), before)

    @staticmethod
    def cursor_after(event: AuditRecord) -> str:
        return cursors.encode("audit", {}, event.id)


# ---------------------------------------------------------------------- contacts

CONTACT_ID = PathId("id", "The contact's id.")


def _search() -> Text:
    return Text(
        name="q",
        description="Search: words of messages and contacts' names, numbers and "
        "attribute values (word prefixes), or a phone number in any form.",
        max_length=policy.MAX_SEARCH_CHARS,
        min_length=0,
        controls=False,
    )


def _name(*, nullable: bool) -> Text:
    return Text(
        name="name",
        description="The contact's name (null or blank removes it).",
        max_length=policy.MAX_NAME_CHARS,
        min_length=0,
        nullable=nullable,
        example="Ada Lovelace",
    )


def _attributes(description: str) -> JsonMap:
    return JsonMap(
        name="attributes",
        description=description
        + f" Keys: lower-case letters, digits and '_'; at most {policy.MAX_ATTRIBUTES}.",
        max_bytes=MAX_CONTEXT_BYTES,
        example={"customer_id": "C-981", "vip": True},
        documented={
            "maxProperties": policy.MAX_ATTRIBUTES,
            "propertyNames": {
                "pattern": "^[a-z][a-z0-9_]*$",
                "maxLength": policy.MAX_ATTRIBUTE_KEY_CHARS,
            },
            "additionalProperties": {
                "type": ["string", "number", "boolean", "null"],
                "maxLength": policy.MAX_ATTRIBUTE_TEXT_CHARS,
            },
        },
    )


LIST_CONTACTS = Query((_search(), _cursor(), _limit()))


@dataclass(frozen=True, slots=True)
class ContactList:
    search: str | None
    cursor: str | None
    limit: int

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> ContactList:
        values = LIST_CONTACTS.read(query)
        return cls(
            values.text_or_none("q") or None,
            values.text_or_none("cursor"),
            values.integer("limit"),
        )


LOOKUP_CONTACT = Query(
    (_number("number", "The number, in any form the box reads.", required=True),)
)


@dataclass(frozen=True, slots=True)
class ContactLookup:
    number: str

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> ContactLookup:
        return cls(LOOKUP_CONTACT.read(query).text("number"))


CREATE_CONTACT = Body(
    (
        _number("number", "E.164 or national in the box's region.", required=True),
        _name(nullable=True),
        _attributes("Your fields: text, numbers or true/false."),
    ),
    example={"number": "+447700900123", "name": "Ada Lovelace"},
)


@dataclass(frozen=True, slots=True)
class CreateContact:
    number: str
    name: str | None
    attributes: JsonObject | None

    @classmethod
    def parse(cls, raw: JsonValue) -> CreateContact:
        values = CREATE_CONTACT.read(raw)
        return cls(
            values.text("number"),
            values.text_or_none("name"),
            values.object_or_none("attributes"),
        )


UPDATE_CONTACT = Body(
    (
        _name(nullable=True),
        _attributes("Merged key by key; a null value removes the key."),
    ),
    example={"name": "Ada King", "attributes": {"vip": None}},
)


@dataclass(frozen=True, slots=True)
class UpdateContact:
    name: str | None
    change_name: bool  # the body has "name" (null included)
    attributes: JsonObject | None

    @classmethod
    def parse(cls, raw: JsonValue) -> UpdateContact:
        values = UPDATE_CONTACT.read(raw)
        return cls(
            values.text_or_none("name"),
            "name" in values,
            values.object_or_none("attributes"),
        )


# ---------------------------------------------------------------------- conversations

CONVERSATION_ID = PathId("id", "The conversation's id.")
ASSIGNEE_VALUES = ("me", "unassigned")

LIST_CONVERSATIONS = Query(
    (
        Text(
            name="status",
            description="Only conversations in this status.",
            max_length=10,
            values=tuple(s.value for s in ConversationStatus),
        ),
        Text(
            name="assignee",
            description="me (the caller's), unassigned, or a user's id.",
            max_length=20,
            example="me",
        ),
        Text(
            name="queue",
            description="Only this queue's.",
            max_length=policy.MAX_FILTER_CHARS,
            min_length=0,
        ),
        Text(
            name="tag",
            description="Only conversations with this tag.",
            max_length=policy.MAX_FILTER_CHARS,
            min_length=0,
        ),
        Text(
            name="modem",
            description="Only conversations of this modem.",
            max_length=policy.MAX_FILTER_CHARS,
            min_length=0,
        ),
        Text(
            name="priority",
            description="Only conversations with this priority.",
            max_length=10,
            values=tuple(p.value for p in Priority),
        ),
        _search(),
        _cursor(),
        _limit(),
    )
)


@dataclass(frozen=True, slots=True)
class ConversationList:
    status: str | None
    ownership: Ownership
    user_id: int | None
    queue: str | None
    tag: str | None
    modem: str | None
    priority: str | None
    search: str | None
    cursor: str | None
    limit: int

    @classmethod
    def parse(cls, query: MultiMapping[str], *, caller: int) -> ConversationList:
        values = LIST_CONVERSATIONS.read(query)
        ownership, user_id = _assignee(values.text_or_none("assignee"), caller)
        return cls(
            status=values.text_or_none("status"),
            ownership=ownership,
            user_id=user_id,
            queue=values.text_or_none("queue"),
            tag=values.text_or_none("tag"),
            modem=values.text_or_none("modem"),
            priority=values.text_or_none("priority"),
            search=values.text_or_none("q") or None,
            cursor=values.text_or_none("cursor"),
            limit=values.integer("limit"),
        )


def _assignee(text: str | None, caller: int) -> tuple[Ownership, int | None]:
    """Whose conversations: (ownership, the user whose they are)."""
    if text is None:
        return Ownership.ALL, None
    if text == "me":
        return Ownership.MINE, caller
    if text == "unassigned":
        return Ownership.UNASSIGNED, None
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput("assignee", f"me, unassigned or a user's id, not {text!r}")
    user = Integer(name="assignee", description="").parse(text)
    assert isinstance(user, int)
    return Ownership.MINE, user


THREAD = Query(
    (
        Integer(
            name="before",
            description="`older_before` of the previous answer: the messages before it.",
        ),
        Integer(
            name="limit",
            description=f"How many messages, 1 to {MAX_PAGE}.",
            maximum=MAX_PAGE,
            default=50,
        ),
    )
)


@dataclass(frozen=True, slots=True)
class ThreadPage:
    before: int | None
    limit: int

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> ThreadPage:
        values = THREAD.read(query)
        return cls(values.integer_or_none("before"), values.integer("limit"))


ASSIGN = Body(
    (
        Integer(
            name="assignee_id",
            description="The user to give it to (an active one), or null for nobody.",
            required=True,
            nullable=True,
            example=1,
        ),
    ),
    example={"assignee_id": 1},
)


@dataclass(frozen=True, slots=True)
class Assign:
    assignee_id: int | None

    @classmethod
    def parse(cls, raw: JsonValue) -> Assign:
        return cls(ASSIGN.read(raw).integer_or_none("assignee_id"))


SET_STATUS = Body(
    (
        Text(
            name="status",
            description="open (needs an agent), pending (waiting on the customer) or "
            "resolved.",
            max_length=10,
            values=tuple(s.value for s in ConversationStatus),
            required=True,
        ),
    ),
    example={"status": "resolved"},
)
SET_PRIORITY = Body(
    (
        Text(
            name="priority",
            description="low, normal, high or urgent.",
            max_length=10,
            values=tuple(p.value for p in Priority),
            required=True,
        ),
    ),
    example={"priority": "high"},
)


@dataclass(frozen=True, slots=True)
class Choice:
    """A body of one required choice (status, priority)."""

    value: str

    @classmethod
    def status(cls, raw: JsonValue) -> Choice:
        return cls(SET_STATUS.read(raw).text("status"))

    @classmethod
    def priority(cls, raw: JsonValue) -> Choice:
        return cls(SET_PRIORITY.read(raw).text("priority"))


ADD_NOTE = Body(
    (
        Text(
            name="body",
            description="The note (agents only; never sent).",
            max_length=policy.MAX_NOTE_CHARS,
            required=True,
            blank=False,
            example="Called them back; refund approved.",
        ),
    )
)
TAGS = Body(
    (
        TextList(
            name="tags",
            description='Tag names ("VIP Customer" is kept as vip-customer).',
            max_items=policy.MAX_TAGS_PER_CALL,
            max_length=policy.MAX_TAG_CHARS,
            required=True,
            example=["vip", "refund"],
        ),
    )
)
REPLY = Body(
    (
        Text(
            name="body",
            description="The text, sent as the token's user (origin agent).",
            max_length=MAX_BODY_CHARS,
            required=True,
            blank=False,
            example="Thanks - your refund is on its way.",
        ),
        Text(
            name="idempotency_key",
            description=f"Instead of the {IDEMPOTENCY_HEADER} header (the same if both).",
            max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        ),
    )
)


@dataclass(frozen=True, slots=True)
class Note:
    body: str

    @classmethod
    def parse(cls, raw: JsonValue) -> Note:
        return cls(ADD_NOTE.read(raw).text("body"))


@dataclass(frozen=True, slots=True)
class Tags:
    tags: tuple[str, ...]

    @classmethod
    def parse(cls, raw: JsonValue) -> Tags:
        return cls(TAGS.read(raw).texts("tags"))


@dataclass(frozen=True, slots=True)
class Reply:
    body: str
    idempotency_key: str | None

    @classmethod
    def parse(cls, raw: JsonValue, header: str | None) -> Reply:
        values = REPLY.read(raw)
        key = _one_key(values.text_or_none("idempotency_key"), header)
        return cls(values.text("body"), key)
