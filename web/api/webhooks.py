"""The webhook API (admins): endpoints (CRUD, secret rotation, a test event, replay of
the dead), deliveries (list, one with its attempts, replay). Documented in
web/api/webhook_docs.py; the relay itself is gateway.webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from aiohttp import web
from multidict import MultiMapping

from gateway.domain import JsonValue, WebhookStatus
from gateway.errors import InvalidInput
from gateway.webhooks.records import (
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    EndpointRecord,
    EndpointSecret,
)
from gateway.webhooks.service import (
    EVENT_TYPES,
    MAX_DESCRIPTION_CHARS,
    MAX_URL_CHARS,
    WebhookService,
)
from web.api import cursors
from web.api.common import identity, services
from web.api.fields import (
    Body,
    Field,
    Integer,
    JsonDict,
    PathId,
    Query,
    Text,
    Values,
    read_json,
)
from web.api.objects import page, respond, whole_list
from web.schemas import when

MAX_PAGE = 100
DEFAULT_PAGE = 20

# ---------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag(Field):
    """true or false."""

    json_type: ClassVar[str] = "boolean"

    def _kind(self) -> str:
        return "true or false"

    def _check(self, value: JsonValue) -> JsonValue:
        if not isinstance(value, bool):
            raise self._wrong(value)
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class EventTypes(Field):
    """A list of known event types; empty means every type."""

    json_type: ClassVar[str] = "array"

    def _schema(self) -> JsonDict:
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(EVENT_TYPES)},
            "maxItems": len(EVENT_TYPES),
            "uniqueItems": True,
        }

    def _kind(self) -> str:
        return "a list of event types"

    def _check(self, value: JsonValue) -> JsonValue:
        if not isinstance(value, list):
            raise self._wrong(value)
        names = [item for item in value if isinstance(item, str)]
        if len(names) != len(value):
            raise InvalidInput(self.name, "each item is an event type (text)")
        if len(set(names)) != len(names):
            raise InvalidInput(self.name, "each event type once")
        unknown = sorted(set(names) - set(EVENT_TYPES))
        if unknown:
            raise InvalidInput(
                self.name,
                f"unknown event type(s) {', '.join(u[:40] for u in unknown[:3])}; "
                f"known: {', '.join(EVENT_TYPES)}",
            )
        return value


def _url(required: bool) -> Text:
    return Text(
        name="url",
        description="Where events are POSTed: http:// or https://, no user or "
        "password in it (requests are signed instead).",
        max_length=MAX_URL_CHARS,
        required=required,
        example="https://crm.example.com/hooks/sms",
    )


def _description() -> Text:
    return Text(
        name="description",
        description="What it is, for people.",
        max_length=MAX_DESCRIPTION_CHARS,
        min_length=0,
        nullable=True,
        example="Helpdesk",
    )


def _events() -> EventTypes:
    return EventTypes(
        name="events",
        description="The event types it gets; empty (or absent at creation) for all.",
        example=["message.received", "message.status"],
    )


def _active() -> Flag:
    return Flag(
        name="active",
        description="Whether events are queued and sent to it. Enabling an endpoint "
        "the relay disabled (410 Gone) sends what waited, in order.",
    )


ENDPOINT_ID = PathId("id", "The webhook endpoint's id.")
DELIVERY_ID = PathId("id", "The webhook delivery's id.")

CREATE_ENDPOINT = Body(
    (_url(True), _description(), _events(), _active()),
    example={
        "url": "https://crm.example.com/hooks/sms",
        "description": "CRM",
        "events": ["message.received", "message.status"],
    },
)
UPDATE_ENDPOINT = Body(
    (_url(False), _description(), _events(), _active()),
    example={"active": True},
)

LIST_DELIVERIES = Query(
    (
        Integer(name="endpoint_id", description="Only this endpoint's."),
        Text(
            name="status",
            description="Only deliveries in this state.",
            max_length=10,
            values=tuple(s.value for s in WebhookStatus),
        ),
        Text(
            name="event_type",
            description="Only events of this type.",
            max_length=40,
            values=(*EVENT_TYPES, "webhook.test"),
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


@dataclass(frozen=True, slots=True)
class DeliveryList:
    endpoint_id: int | None
    status: str | None
    event_type: str | None
    limit: int
    before_id: int | None

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> DeliveryList:
        values = LIST_DELIVERIES.read(query)
        filters = cls._filters(
            values.integer_or_none("endpoint_id"),
            values.text_or_none("status"),
            values.text_or_none("event_type"),
        )
        cursor = values.text_or_none("cursor")
        before = (
            None
            if cursor is None
            else cursors.decode(cursor, "webhook_deliveries", filters)
        )
        return cls(
            values.integer_or_none("endpoint_id"),
            values.text_or_none("status"),
            values.text_or_none("event_type"),
            values.integer("limit"),
            before,
        )

    @staticmethod
    def _filters(
        endpoint_id: int | None, status: str | None, event_type: str | None
    ) -> dict[str, object]:
        return {"endpoint_id": endpoint_id, "status": status, "event_type": event_type}

    def cursor_after(self, delivery: DeliveryRecord) -> str:
        filters = self._filters(self.endpoint_id, self.status, self.event_type)
        return cursors.encode("webhook_deliveries", filters, delivery.id)


def _flag(values: Values, name: str) -> bool | None:
    """A Flag's value (None when absent). Flag lets only true and false in, and a bool
    is an int to Python, so the integer getter hands it over."""
    value = values.integer_or_none(name)
    return None if value is None else bool(value)


# ---------------------------------------------------------------------- outputs


def endpoint_object(endpoint: EndpointRecord) -> JsonDict:
    return {
        "object": "webhook_endpoint",
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "disabled_reason": endpoint.disabled_reason,
        "secret_hint": endpoint.secret_hint,
        "rotating_until": when(endpoint.rotating_until),
        "created_at": when(endpoint.created_at),
        "updated_at": when(endpoint.updated_at),
    }


def secret_object(made: EndpointSecret) -> JsonDict:
    """The endpoint with its new secret: the only answer that ever shows it."""
    return {**endpoint_object(made.endpoint), "secret": made.secret}


def delivery_object(delivery: DeliveryRecord) -> JsonDict:
    return {
        "object": "webhook_delivery",
        "id": delivery.id,
        "endpoint_id": delivery.endpoint_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "conversation_id": delivery.conversation_id,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "next_attempt_at": when(delivery.next_attempt_at),
        "queued_at": when(delivery.queued_at),
        "last_attempt_at": when(delivery.last_attempt_at),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "replays": delivery.replays,
        "created_at": when(delivery.created_at),
        "delivered_at": when(delivery.delivered_at),
        "dead_at": when(delivery.dead_at),
    }


def attempt_object(attempt: AttemptRecord) -> JsonDict:
    return {
        "attempt": attempt.attempt,
        "at": when(attempt.at),
        "status_code": attempt.status_code,
        "error": attempt.error,
        "response": attempt.response,
        "duration_ms": attempt.duration_ms,
        "outcome": attempt.outcome,
    }


def detail_object(detail: DeliveryDetail) -> JsonDict:
    return {
        **delivery_object(detail.delivery),
        "endpoint_url": detail.endpoint_url,
        "body": dict(detail.body),
        "log": [attempt_object(a) for a in detail.attempts],
    }


# ---------------------------------------------------------------------- handlers


def _hooks(request: web.Request) -> WebhookService:
    return services(request).webhooks


async def list_endpoints(request: web.Request) -> web.Response:
    return respond(whole_list(await _hooks(request).list_endpoints(), endpoint_object))


async def create_endpoint(request: web.Request) -> web.Response:
    values = CREATE_ENDPOINT.read(await read_json(request))
    made = await _hooks(request).create_endpoint(
        values.text("url"),
        description=values.text_or_none("description"),
        events=values.texts("events") if "events" in values else (),
        active=_flag(values, "active") is not False,
        actor=identity(request).actor,
    )
    location = f"/api/v1/webhooks/endpoints/{made.endpoint.id}"
    return respond(secret_object(made), status=201, headers={"Location": location})


async def get_endpoint(request: web.Request) -> web.Response:
    endpoint = await _hooks(request).get_endpoint(ENDPOINT_ID.read(request))
    return respond(endpoint_object(endpoint))


async def update_endpoint(request: web.Request) -> web.Response:
    endpoint_id = ENDPOINT_ID.read(request)
    values = UPDATE_ENDPOINT.read(await read_json(request))
    description = values.text_or_none("description")
    endpoint = await _hooks(request).update_endpoint(
        endpoint_id,
        url=values.text_or_none("url"),
        # null or "" clears it; absent leaves it
        description=(description or "") if "description" in values else None,
        events=values.texts("events") if "events" in values else None,
        active=_flag(values, "active"),
        actor=identity(request).actor,
    )
    return respond(endpoint_object(endpoint))


async def delete_endpoint(request: web.Request) -> web.Response:
    endpoint_id = ENDPOINT_ID.read(request)
    await _hooks(request).delete_endpoint(endpoint_id, actor=identity(request).actor)
    return respond({"object": "webhook_endpoint", "id": endpoint_id, "deleted": True})


async def rotate_secret(request: web.Request) -> web.Response:
    made = await _hooks(request).rotate_secret(
        ENDPOINT_ID.read(request), actor=identity(request).actor
    )
    return respond(secret_object(made))


async def send_test(request: web.Request) -> web.Response:
    delivery = await _hooks(request).send_test(
        ENDPOINT_ID.read(request), actor=identity(request).actor
    )
    return respond(delivery_object(delivery), status=202)


async def replay_dead(request: web.Request) -> web.Response:
    endpoint_id = ENDPOINT_ID.read(request)
    count = await _hooks(request).replay_dead(
        endpoint_id, actor=identity(request).actor
    )
    return respond(
        {"object": "webhook_replay", "endpoint_id": endpoint_id, "replayed": count},
        status=202,
    )


async def list_deliveries(request: web.Request) -> web.Response:
    listing = DeliveryList.parse(request.query)
    rows = await _hooks(request).list_deliveries(
        endpoint_id=listing.endpoint_id,
        status=listing.status,
        event_type=listing.event_type,
        limit=listing.limit + 1,
        before_id=listing.before_id,
    )
    return respond(page(rows, listing.limit, delivery_object, listing.cursor_after))


async def get_delivery(request: web.Request) -> web.Response:
    detail = await _hooks(request).get_delivery(DELIVERY_ID.read(request))
    return respond(detail_object(detail))


async def replay_delivery(request: web.Request) -> web.Response:
    delivery = await _hooks(request).replay(
        DELIVERY_ID.read(request), actor=identity(request).actor
    )
    return respond(delivery_object(delivery), status=202)
