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
    Direction,
    JsonObject,
    JsonValue,
    MessageRecord,
    MessageStatus,
)
from gateway.errors import InvalidInput
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
        key = values.text_or_none("idempotency_key")
        if header is not None:
            if key is not None and key != header:
                raise InvalidInput(
                    "idempotency_key",
                    f"differs from the {IDEMPOTENCY_HEADER} header; send one of them",
                )
            if not 1 <= len(header) <= MAX_IDEMPOTENCY_KEY_CHARS:
                raise InvalidInput(
                    "idempotency_key", f"1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"
                )
            key = header
        return cls(
            to=values.text("to"),
            body=values.text("body"),
            context=values.object_or_none("context"),
            idempotency_key=key,
        )


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
