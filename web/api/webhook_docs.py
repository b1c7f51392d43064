"""The webhook API's half of the OpenAPI document (web/api/openapi.py adds it): the
resources and one Operation per route of web/api/webhooks.py."""

from __future__ import annotations

from gateway.domain import WebhookStatus
from gateway.webhooks.policy import Outcome
from gateway.webhooks.service import EVENT_TYPES
from web.api import webhooks
from web.api.openapi import (
    JsonSchema,
    Operation,
    _bool,
    _enum,
    _int,
    _list_of,
    _maybe,
    _object,
    _string,
    _time,
    _values,
    ref,
)

_ENDPOINT_FIELDS: dict[str, JsonSchema] = {
    "id": _int("", 1),
    "url": _string("Where events are POSTed."),
    "description": _maybe(_string()),
    "events": {
        "type": "array",
        "items": _enum(EVENT_TYPES),
        "description": "The event types it gets; empty for all.",
    },
    "active": _bool("Whether events are queued and sent to it."),
    "disabled_reason": _maybe(
        _string("Why the relay disabled it (the receiver answered 410 Gone).")
    ),
    "secret_hint": _string("The start of its signing secret, to tell secrets apart."),
    "rotating_until": _maybe(
        _time("After a rotation the old secret also signs until then.")
    ),
    "created_at": _time(),
    "updated_at": _time(),
}

ENDPOINT = _object(
    "webhook_endpoint", "A receiver of the box's events.", _ENDPOINT_FIELDS
)
ENDPOINT_WITH_SECRET = _object(
    "webhook_endpoint",
    "An endpoint with its new signing secret: shown in this answer only.",
    {
        **_ENDPOINT_FIELDS,
        "secret": _string(
            'The Standard Webhooks signing secret: "whsec_" and base64 of the key.'
        ),
    },
)
DELETED_ENDPOINT = _object(
    "webhook_endpoint",
    "An endpoint that is gone, with its deliveries.",
    {"id": _int("", 1), "deleted": {"const": True}},
)

_DELIVERY_FIELDS: dict[str, JsonSchema] = {
    "id": _int("", 1),
    "endpoint_id": _int("", 1),
    "event_id": _string("The webhook-id header: the same on every attempt and replay."),
    "event_type": _enum((*EVENT_TYPES, "webhook.test")),
    "conversation_id": _maybe(_int("The conversation whose order it keeps.")),
    "status": _enum(_values(WebhookStatus)),
    "attempts": _int("Requests made so far.", 0),
    "next_attempt_at": _time("When it is due (while pending)."),
    "queued_at": _time(
        "When it was queued or last replayed: the dead-letter age counts from it."
    ),
    "last_attempt_at": _maybe(_time()),
    "last_status_code": _maybe(_int("The receiver's last HTTP status.")),
    "last_error": _maybe(_string("Why the last attempt failed, or why it is dead.")),
    "replays": _int("Times it was replayed.", 0),
    "created_at": _time(),
    "delivered_at": _maybe(_time()),
    "dead_at": _maybe(_time()),
}
DELIVERY = _object("webhook_delivery", "One event for one endpoint.", _DELIVERY_FIELDS)
ATTEMPT = _object(
    None,
    "One request of a delivery.",
    {
        "attempt": _int("1 for the first request.", 1),
        "at": _time(),
        "status_code": _maybe(_int("None: no answer (refused, timed out).")),
        "error": _maybe(_string()),
        "response": _maybe(_string("The first characters of the receiver's answer.")),
        "duration_ms": _int("", 0),
        "outcome": _enum(_values(Outcome)),
    },
)
DELIVERY_DETAIL = _object(
    "webhook_delivery",
    "A delivery with the body it sends and its log of attempts, oldest first.",
    {
        **_DELIVERY_FIELDS,
        "endpoint_url": _string(),
        "body": {
            "type": "object",
            "description": 'The JSON POSTed: {"id", "type", "timestamp", "data"}.',
        },
        "log": {"type": "array", "items": ref("WebhookAttempt")},
    },
)
REPLAY = _object(
    "webhook_replay",
    "Dead deliveries queued again.",
    {"endpoint_id": _int("", 1), "replayed": _int("How many.", 0)},
)

SCHEMAS: dict[str, JsonSchema] = {
    "WebhookEndpoint": ENDPOINT,
    "WebhookEndpointWithSecret": ENDPOINT_WITH_SECRET,
    "WebhookEndpointList": _list_of("WebhookEndpoint"),
    "DeletedWebhookEndpoint": DELETED_ENDPOINT,
    "WebhookDelivery": DELIVERY,
    "WebhookDeliveryList": _list_of("WebhookDelivery"),
    "WebhookDeliveryDetail": DELIVERY_DETAIL,
    "WebhookAttempt": ATTEMPT,
    "WebhookReplay": REPLAY,
}

_ENDPOINT = "/api/v1/webhooks/endpoints/{id}"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "api.webhooks.endpoints",
        "GET",
        "/api/v1/webhooks/endpoints",
        "webhooks",
        "List webhook endpoints (admins)",
        {200: ("WebhookEndpointList", "Every endpoint; one page.")},
    ),
    Operation(
        "api.webhooks.endpoints.create",
        "POST",
        "/api/v1/webhooks/endpoints",
        "webhooks",
        "Add a webhook endpoint (admins)",
        {201: ("WebhookEndpointWithSecret", "Its signing secret, shown this once.")},
        body=webhooks.CREATE_ENDPOINT,
        description="Events are POSTed as JSON and signed the Standard Webhooks way "
        "(webhook-id, webhook-timestamp, webhook-signature) with the secret in this "
        "answer; keep it, it is not shown again (rotate it to get a new one).",
    ),
    Operation(
        "api.webhooks.endpoint",
        "GET",
        _ENDPOINT,
        "webhooks",
        "Get a webhook endpoint (admins)",
        {200: ("WebhookEndpoint", "The endpoint (never its secret).")},
        errors=(404,),
        path_params=(webhooks.ENDPOINT_ID,),
    ),
    Operation(
        "api.webhooks.endpoint.update",
        "PATCH",
        _ENDPOINT,
        "webhooks",
        "Change a webhook endpoint (admins)",
        {200: ("WebhookEndpoint", "The endpoint as it is now.")},
        errors=(404,),
        body=webhooks.UPDATE_ENDPOINT,
        path_params=(webhooks.ENDPOINT_ID,),
        description="Fields left out stay as they are; a null or empty description "
        "clears it.",
    ),
    Operation(
        "api.webhooks.endpoint.delete",
        "DELETE",
        _ENDPOINT,
        "webhooks",
        "Delete a webhook endpoint and its deliveries (admins)",
        {200: ("DeletedWebhookEndpoint", "Gone; its pending deliveries too.")},
        errors=(404,),
        path_params=(webhooks.ENDPOINT_ID,),
    ),
    Operation(
        "api.webhooks.endpoint.rotate",
        "POST",
        _ENDPOINT + "/rotate-secret",
        "webhooks",
        "Rotate an endpoint's signing secret (admins)",
        {200: ("WebhookEndpointWithSecret", "The new secret, shown this once.")},
        errors=(404,),
        path_params=(webhooks.ENDPOINT_ID,),
        description="For 24 hours requests carry two signatures, by the new secret "
        "and the old one, so the receiver can switch without dropping any.",
    ),
    Operation(
        "api.webhooks.endpoint.test",
        "POST",
        _ENDPOINT + "/test",
        "webhooks",
        "Send a webhook.test event to an endpoint (admins)",
        {202: ("WebhookDelivery", "Queued (even for a disabled endpoint).")},
        errors=(404,),
        path_params=(webhooks.ENDPOINT_ID,),
    ),
    Operation(
        "api.webhooks.endpoint.replay_dead",
        "POST",
        _ENDPOINT + "/replay-dead",
        "webhooks",
        "Replay every dead delivery of an endpoint (admins)",
        {202: ("WebhookReplay", "Queued again, each with its webhook-id.")},
        errors=(404,),
        path_params=(webhooks.ENDPOINT_ID,),
    ),
    Operation(
        "api.webhooks.deliveries",
        "GET",
        "/api/v1/webhooks/deliveries",
        "webhooks",
        "List webhook deliveries (admins)",
        {200: ("WebhookDeliveryList", "Newest first.")},
        query=webhooks.LIST_DELIVERIES,
    ),
    Operation(
        "api.webhooks.delivery",
        "GET",
        "/api/v1/webhooks/deliveries/{id}",
        "webhooks",
        "Get a webhook delivery with its attempts (admins)",
        {200: ("WebhookDeliveryDetail", "The delivery, its body and its log.")},
        errors=(404,),
        path_params=(webhooks.DELIVERY_ID,),
    ),
    Operation(
        "api.webhooks.delivery.replay",
        "POST",
        "/api/v1/webhooks/deliveries/{id}/replay",
        "webhooks",
        "Replay a delivered or dead delivery (admins)",
        {202: ("WebhookDelivery", "Pending again, with the same webhook-id.")},
        errors=(404, 409),
        path_params=(webhooks.DELIVERY_ID,),
        description="409 while it is still pending. It keeps its place in its "
        "conversation's order: later pending events of the conversation wait for it.",
    ),
)
