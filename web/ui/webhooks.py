"""The Webhooks console (admins): endpoints (add, edit, rotate the secret, test, delete),
deliveries with their attempts, replay. A new secret is rendered once, in the answer to
the form that made it, and never again."""

from __future__ import annotations

import json

from aiohttp import web

from gateway.domain import WebhookStatus
from gateway.errors import InvalidInput
from gateway.webhooks.records import EndpointSecret
from gateway.webhooks.service import EVENT_TYPES, WebhookService
from web import keys
from web.render import render, url_for
from web.schemas import path_int, query_int
from web.ui.session import redirect

PAGE_SIZE = 50
STATUSES = tuple(s.value for s in WebhookStatus)


def _hooks(request: web.Request) -> WebhookService:
    return request.app[keys.SERVICES].webhooks


def _actor(request: web.Request) -> str:
    identity = request[keys.IDENTITY]
    if identity is None:  # admin routes always have one
        raise web.HTTPUnauthorized
    return identity.actor


async def _form(request: web.Request) -> tuple[dict[str, str], list[str]]:
    """The form's text fields, and the event types picked (a multiple select)."""
    form = await request.post()
    fields: dict[str, str] = {}
    for name, value in form.items():
        if not isinstance(value, str):
            raise InvalidInput(name, "text, not a file")
        fields[name] = value
    events = [v for v in form.getall("events", []) if isinstance(v, str)]
    return fields, events


def _choice(request: web.Request, name: str, options: tuple[str, ...]) -> str | None:
    value = request.query.get(name) or None
    if value is not None and value not in options:
        raise InvalidInput(name, f"one of {', '.join(options)}")
    return value


async def page(request: web.Request) -> web.Response:
    hooks = _hooks(request)
    endpoint_id = query_int(request, "endpoint", default=None)
    status = _choice(request, "status", STATUSES)
    event_type = _choice(request, "type", (*EVENT_TYPES, "webhook.test"))
    before = query_int(request, "before", default=None)
    deliveries = await hooks.list_deliveries(
        endpoint_id=endpoint_id,
        status=status,
        event_type=event_type,
        limit=PAGE_SIZE,
        before_id=before,
    )
    return render(
        request,
        "webhooks.html",
        endpoints=await hooks.list_endpoints(),
        deliveries=deliveries,
        older=deliveries[-1].id if len(deliveries) == PAGE_SIZE else None,
        chosen={"endpoint": endpoint_id, "status": status, "type": event_type},
        statuses=STATUSES,
        event_types=EVENT_TYPES,
    )


async def create(request: web.Request) -> web.Response:
    fields, events = await _form(request)
    made = await _hooks(request).create_endpoint(
        fields.get("url", ""),
        description=fields.get("description") or None,
        events=events,
        active=fields.get("active", "yes") == "yes",
        actor=_actor(request),
    )
    return await _endpoint_page(request, made.endpoint.id, made, status=201)


async def endpoint(request: web.Request) -> web.Response:
    return await _endpoint_page(request, path_int(request, "id"))


async def _endpoint_page(
    request: web.Request,
    endpoint_id: int,
    made: EndpointSecret | None = None,
    *,
    status: int = 200,
) -> web.Response:
    hooks = _hooks(request)
    found = await hooks.get_endpoint(endpoint_id)
    deliveries = await hooks.list_deliveries(endpoint_id=endpoint_id, limit=PAGE_SIZE)
    return render(
        request,
        "webhook_endpoint.html",
        status=status,
        endpoint=found,
        secret=None if made is None else made.secret,
        deliveries=deliveries,
        event_types=EVENT_TYPES,
    )


async def update(request: web.Request) -> web.Response:
    endpoint_id = path_int(request, "id")
    fields, events = await _form(request)
    await _hooks(request).update_endpoint(
        endpoint_id,
        url=fields.get("url", ""),
        description=fields.get("description", ""),
        events=events,
        active=fields.get("active", "yes") == "yes",
        actor=_actor(request),
    )
    return redirect(url_for(request, "webhooks.endpoint", id=str(endpoint_id)))


async def rotate(request: web.Request) -> web.Response:
    endpoint_id = path_int(request, "id")
    made = await _hooks(request).rotate_secret(endpoint_id, actor=_actor(request))
    return await _endpoint_page(request, endpoint_id, made)


async def send_test(request: web.Request) -> web.Response:
    delivery = await _hooks(request).send_test(
        path_int(request, "id"), actor=_actor(request)
    )
    return redirect(url_for(request, "webhooks.delivery", id=str(delivery.id)))


async def replay_dead(request: web.Request) -> web.Response:
    endpoint_id = path_int(request, "id")
    await _hooks(request).replay_dead(endpoint_id, actor=_actor(request))
    return redirect(url_for(request, "webhooks.endpoint", id=str(endpoint_id)))


async def delete(request: web.Request) -> web.Response:
    fields, _ = await _form(request)
    if fields.get("confirm") != "yes":
        raise InvalidInput("confirm", "tick the box to delete the endpoint")
    await _hooks(request).delete_endpoint(
        path_int(request, "id"), actor=_actor(request)
    )
    return redirect(url_for(request, "webhooks"))


async def delivery(request: web.Request) -> web.Response:
    detail = await _hooks(request).get_delivery(path_int(request, "id"))
    body = json.dumps(detail.body, indent=2, ensure_ascii=False)
    return render(request, "webhook_delivery.html", detail=detail, body=body)


async def replay(request: web.Request) -> web.Response:
    found = await _hooks(request).replay(path_int(request, "id"), actor=_actor(request))
    return redirect(url_for(request, "webhooks.delivery", id=str(found.id)))
