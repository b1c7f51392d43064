"""The Messages resource: create (POST, form-encoded), fetch one, and the list with
Twilio's filters and paging. Each handler parses, makes one service call and renders."""

from __future__ import annotations

from aiohttp import web

from gateway.twilio import resource
from web.twilio.forms import ListQuery, SendForm
from web.twilio.guard import ACCOUNT, service


async def create(request: web.Request) -> web.Response:
    form = SendForm.parse(await request.post())
    account = request[ACCOUNT]
    sent = await service(request).send(
        account,
        to=form.to,
        body=form.body,
        from_=form.from_,
        status_callback=form.status_callback,
        media=form.media,
    )
    return web.json_response(resource.message_json(sent, account.sid), status=201)


async def fetch(request: web.Request) -> web.Response:
    account = request[ACCOUNT]
    found = await service(request).get_message(account, request.match_info["Sid"])
    return web.json_response(resource.message_json(found, account.sid))


async def list_messages(request: web.Request) -> web.Response:
    query = ListQuery.parse(request.query)
    account = request[ACCOUNT]
    page = await service(request).list_messages(account, query.where, query.page)
    body = resource.page_json(
        page,
        asked=query.page,
        path=request.path,
        given=query.given,
        account_sid=account.sid,
    )
    return web.json_response(body)
