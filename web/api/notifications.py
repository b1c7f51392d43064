"""The notification API: proactive texts with a context, reply options, an expiry, a
schedule and quiet hours (POST), read back with what the customer chose (GET).
Documented in web/api/notification_docs.py; the service is gateway.notifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from multidict import MultiMapping

from gateway.contacts import MAX_NUMBER_INPUT_CHARS
from gateway.domain import JsonObject, JsonValue
from gateway.errors import InvalidInput
from gateway.notifications.options import MAX_OPTIONS, ReplyOption
from gateway.notifications.records import NewNotification, NotificationRecord
from gateway.notifications.service import MAX_TTL_S
from gateway.outbox.service import MAX_IDEMPOTENCY_KEY_CHARS
from web.api import cursors
from web.api.common import identity, services
from web.api.fields import (
    Body,
    Field,
    Integer,
    JsonDict,
    JsonMap,
    PathId,
    Query,
    Text,
    read_json,
)
from web.api.objects import message_object, page, respond
from web.api.schemas import (
    IDEMPOTENCY_HEADER,
    MAX_BODY_CHARS,
    MAX_CONTEXT_BYTES,
    _one_key,
)
from web.api.webhooks import Flag
from web.schemas import when

NOTIFICATION_ID = PathId("id", "The notification's id.")
MAX_PAGE = 100
DEFAULT_PAGE = 20
MAX_OPTIONS_BYTES = 16_384


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyTime(Field):
    """An ISO 8601 time with its zone in a JSON body (2026-03-01T09:00:00Z)."""

    def _schema(self) -> JsonDict:
        return {"type": "string", "format": "date-time"}

    def _kind(self) -> str:
        return "an ISO 8601 time with its zone"

    def _check(self, value: JsonValue) -> JsonValue:
        if not isinstance(value, str) or len(value) > 40:
            raise self._wrong(value)
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(
                self.name,
                f"an ISO 8601 time such as 2026-03-01T09:00:00Z, not {value!r}",
            ) from None
        if moment.tzinfo is None:
            raise InvalidInput(self.name, "a time with its zone (Z or +01:00)")
        try:
            return moment.astimezone(UTC).isoformat()
        except OverflowError:
            raise InvalidInput(self.name, "a time within years 1 to 9999") from None


_OPTION_SCHEMA: JsonDict = {
    "oneOf": [
        {"type": "string", "description": "The option's value (its name in words)."},
        {
            "type": "object",
            "properties": {
                "value": {"type": "string", "description": "What it means: confirm."},
                "aliases": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "More words that pick it.",
                },
                "action": {
                    "type": "string",
                    "enum": ["confirm", "handover"],
                    "description": "confirm: nothing for agents. handover: the "
                    "conversation opens for a person (in `queue`).",
                },
                "queue": {"type": "string", "description": "With handover."},
                "reply": {
                    "type": "string",
                    "description": "The confirmation texted back (a template).",
                },
            },
            "required": ["value"],
            "additionalProperties": False,
        },
    ]
}

SEND_NOTIFICATION = Body(
    (
        Text(
            name="to",
            description="The recipient: E.164 or national in the box's region.",
            max_length=MAX_NUMBER_INPUT_CHARS,
            required=True,
            example="+447700900123",
        ),
        Text(
            name="body",
            description="The text as it is (or give `template`).",
            max_length=MAX_BODY_CHARS,
            blank=False,
            example="Your technician comes Tuesday 10:00. Reply 1 to confirm, 2 to "
            "reschedule.",
        ),
        Text(
            name="template",
            description="A template's shortcut (or give `body`): rendered for this "
            "recipient with the context; a variable without a value is a 400 and "
            "nothing is sent.",
            max_length=40,
            example="appointment",
        ),
        JsonMap(
            name="context",
            description="Your record of why this is sent (appointment id...): on the "
            "message, merged into the conversation, shown to agents beside any reply, "
            "and in reply.option_selected.",
            max_bytes=MAX_CONTEXT_BYTES,
            example={"appointment_id": "APT-77"},
        ),
        JsonMap(
            name="reply_options",
            description=f"Up to {MAX_OPTIONS} options by key (a digit, letter or word "
            'the customer replies): "confirm" or {"value", "aliases", "action", '
            '"queue", "reply"}. Empty or absent: a one-way text.',
            max_bytes=MAX_OPTIONS_BYTES,
            documented={"additionalProperties": _OPTION_SCHEMA},
            example={
                "1": {"value": "confirm", "reply": "Thanks, see you then."},
                "2": {"value": "reschedule", "action": "handover", "queue": "bookings"},
            },
        ),
        BodyTime(
            name="expires_at",
            description="When the reply options close (default: [notifications] "
            "options_ttl_s after the text may go).",
        ),
        Integer(
            name="ttl_s",
            description="Or: how long after the text may go they stay open.",
            maximum=int(MAX_TTL_S),
            example=86400,
        ),
        BodyTime(
            name="scheduled_at",
            description="Not before this time (it waits in the durable queue).",
        ),
        Flag(
            name="quiet_hours",
            description="Keep out of quiet hours in the recipient's time zone (default "
            "true; false for texts that must go at night).",
        ),
        Text(
            name="idempotency_key",
            description=f"Instead of the {IDEMPOTENCY_HEADER} header (the same if both).",
            max_length=MAX_IDEMPOTENCY_KEY_CHARS,
        ),
    ),
    example={
        "to": "+447700900123",
        "body": "Your technician comes Tuesday 10:00. Reply 1 to confirm, 2 to "
        "reschedule.",
        "context": {"appointment_id": "APT-77"},
        "reply_options": {"1": "confirm", "2": "reschedule"},
        "ttl_s": 86400,
    },
)

LIST_NOTIFICATIONS = Query(
    (
        Text(
            name="to",
            description="Only those to this number.",
            max_length=MAX_NUMBER_INPUT_CHARS,
        ),
        Text(
            name="cursor",
            description="`next_cursor` of the previous page, with the same filters.",
            max_length=cursors.MAX_CURSOR_CHARS,
        ),
        Integer(
            name="limit",
            description=f"How many to return, 1 to {MAX_PAGE}.",
            maximum=MAX_PAGE,
            default=DEFAULT_PAGE,
        ),
    )
)


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def option_object(option: ReplyOption) -> JsonDict:
    return {
        "key": option.key,
        "value": option.value,
        "aliases": list(option.aliases),
        "action": option.action.value,
        "queue": option.queue,
        "reply": option.reply,
    }


def notification_object(record: NotificationRecord) -> JsonDict:
    selected = record.selected
    message = record.message
    return {
        "object": "notification",
        "id": record.id,
        "to": record.number,
        "message_id": message.id,
        "conversation_id": message.conversation_id,
        "status": message.status.value,
        "body": message.body,
        "template": record.template,
        "context": dict(record.context),
        "reply_options": [option_object(o) for o in record.options],
        "expires_at": when(record.expires_at),
        "scheduled_at": when(record.scheduled_at),
        "send_after": when(record.not_before),
        "timezones": list(record.zones),
        "selected": None
        if selected is None
        else {
            "key": selected.key,
            "value": selected.value,
            "message_id": selected.message_id,
            "at": when(selected.at),
            "confirmation_message_id": selected.confirmation_message_id,
        },
        "message": message_object(message),
        "created_at": when(record.created_at),
    }


@dataclass(frozen=True, slots=True)
class SendNotification:
    """A POST /notifications body, read."""

    to: str
    body: str | None
    template: str | None
    context: JsonObject | None
    options: JsonObject | None
    expires_at: datetime | None
    ttl_s: int | None
    scheduled_at: datetime | None
    quiet_hours: bool
    idempotency_key: str | None

    @classmethod
    def parse(cls, raw: JsonValue, header: str | None) -> SendNotification:
        values = SEND_NOTIFICATION.read(raw)
        quiet = values.integer_or_none("quiet_hours")  # a Flag: true or false
        return cls(
            to=values.text("to"),
            body=values.text_or_none("body"),
            template=values.text_or_none("template"),
            context=values.object_or_none("context"),
            options=values.object_or_none("reply_options"),
            expires_at=_time(values.text_or_none("expires_at")),
            ttl_s=values.integer_or_none("ttl_s"),
            scheduled_at=_time(values.text_or_none("scheduled_at")),
            quiet_hours=quiet is None or bool(quiet),
            idempotency_key=_one_key(values.text_or_none("idempotency_key"), header),
        )


def created(made: NewNotification) -> web.Response:
    """201 with Location, or 200 with Idempotent-Replayed for a known key."""
    headers = {"Location": f"/api/v1/notifications/{made.notification.id}"}
    if not made.created:
        headers["Idempotent-Replayed"] = "true"
    body = notification_object(made.notification)
    return respond(body, status=201 if made.created else 200, headers=headers)


async def send(request: web.Request) -> web.Response:
    sending = SendNotification.parse(
        await read_json(request), request.headers.get(IDEMPOTENCY_HEADER)
    )
    caller = identity(request)
    made = await services(request).notifications.create(
        sending.to,
        body=sending.body,
        template=sending.template,
        context=sending.context,
        options=sending.options,
        expires_at=sending.expires_at,
        ttl_s=sending.ttl_s,
        scheduled_at=sending.scheduled_at,
        quiet_hours=sending.quiet_hours,
        idempotency_key=sending.idempotency_key,
        actor=caller.actor,
        user_id=caller.user.id,
    )
    return created(made)


async def get(request: web.Request) -> web.Response:
    record = await services(request).notifications.get(NOTIFICATION_ID.read(request))
    return respond(notification_object(record))


@dataclass(frozen=True, slots=True)
class NotificationList:
    to: str | None
    limit: int
    before_id: int | None

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> NotificationList:
        values = LIST_NOTIFICATIONS.read(query)
        to, cursor = values.text_or_none("to"), values.text_or_none("cursor")
        before = (
            None
            if cursor is None
            else cursors.decode(cursor, "notifications", {"to": to})
        )
        return cls(to, values.integer("limit"), before)

    def cursor_after(self, record: NotificationRecord) -> str:
        return cursors.encode("notifications", {"to": self.to}, record.id)


async def list_notifications(request: web.Request) -> web.Response:
    listing = NotificationList.parse(request.query)
    rows = await services(request).notifications.list(
        to=listing.to, limit=listing.limit + 1, before_id=listing.before_id
    )
    return respond(page(rows, listing.limit, notification_object, listing.cursor_after))
