"""GET /api/v1/modems, GET /api/v1/modems/{name}, POST /api/v1/modems/{name}/test."""

from __future__ import annotations

from aiohttp import web

from web import keys
from web.api.common import identity, services
from web.api.fields import read_json
from web.api.objects import queued, respond, whole_list
from web.api.schemas import MODEM_NAME, TestModem
from web.schemas import modem_out


async def list_modems(request: web.Request) -> web.Response:
    views = await request.app[keys.OVERVIEW].modems()
    return respond(whole_list(views, modem_out))


async def get(request: web.Request) -> web.Response:
    view = await request.app[keys.OVERVIEW].modem(MODEM_NAME.read(request))
    return respond(modem_out(view))


async def send_test(request: web.Request) -> web.Response:
    test = TestModem.parse(await read_json(request))
    enqueued = await services(request).outbound.send_test(
        MODEM_NAME.read(request), test.to, test.body, user=identity(request).user.id
    )
    return queued(enqueued)
