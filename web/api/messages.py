"""POST /api/v1/messages (send), GET /api/v1/messages/{id}, GET /api/v1/messages."""

from __future__ import annotations

from aiohttp import web

from gateway.domain import MessageOrigin
from web.api.common import identity, services
from web.api.fields import read_json
from web.api.objects import message_object, page, queued, respond
from web.api.schemas import IDEMPOTENCY_HEADER, MESSAGE_ID, MessageList, SendMessage


async def send(request: web.Request) -> web.Response:
    sending = SendMessage.parse(
        await read_json(request), request.headers.get(IDEMPOTENCY_HEADER)
    )
    enqueued = await services(request).outbound.queue(
        sending.to,
        sending.body,
        context=sending.context,
        idempotency_key=sending.idempotency_key,
        origin=MessageOrigin.API,
        user=identity(request).user.id,
    )
    return queued(enqueued)


async def get(request: web.Request) -> web.Response:
    detail = await services(request).messages.get(MESSAGE_ID.read(request))
    return respond(message_object(detail.message, detail.parts))


async def list_messages(request: web.Request) -> web.Response:
    listing = MessageList.parse(request.query)
    rows = await services(request).messages.list(
        listing.where, limit=listing.limit + 1, before_id=listing.before_id
    )
    return respond(page(rows, listing.limit, message_object, listing.cursor_after))
