"""The Twilio accounts console (admins): accounts of the Twilio-compatible API, each with
its SID, its inbound URL, the modems it may send from, its webhooks on or off, and its
webhook deliveries. A new or rotated auth token is rendered once, in the answer to the
form that made it, and never again."""

from __future__ import annotations

from aiohttp import web

from gateway.twilio.records import AccountToken
from gateway.twilio.service import TwilioService
from web import keys
from web.render import render, url_for
from web.schemas import query_int
from web.ui.common import identity, redirect


def _twilio(request: web.Request) -> TwilioService:
    return request.app[keys.SERVICES].twilio


async def _form(request: web.Request) -> tuple[dict[str, str], list[str]]:
    """The form's text fields, and the modems ticked."""
    form = await request.post()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    modems = [v for v in form.getall("modems", []) if isinstance(v, str)]
    return fields, modems


async def page(request: web.Request) -> web.Response:
    overview = request.app[keys.OVERVIEW]
    return render(
        request,
        "twilio.html",
        accounts=await _twilio(request).list_accounts(),
        modems=[m.name for m in await overview.modems()],
    )


async def create(request: web.Request) -> web.Response:
    fields, modems = await _form(request)
    made = await _twilio(request).create_account(
        fields.get("name", ""),
        inbound_url=fields.get("inbound_url") or None,
        modems=modems,
        actor=identity(request).actor,
    )
    return await _account_page(request, made.account.sid, made, status=201)


async def account(request: web.Request) -> web.Response:
    return await _account_page(request, request.match_info["sid"])


async def _account_page(
    request: web.Request,
    sid: str,
    made: AccountToken | None = None,
    *,
    status: int = 200,
) -> web.Response:
    twilio = _twilio(request)
    found = await twilio.get_account(sid)
    before = query_int(request, "before", default=None)
    deliveries = await twilio.deliveries(sid, before_id=before)
    return render(
        request,
        "twilio_account.html",
        status=status,
        account=found,
        auth_token=None if made is None else made.auth_token,
        modems=[m.name for m in await request.app[keys.OVERVIEW].modems()],
        deliveries=deliveries,
        base_url=request.app[keys.SETTINGS].web.base_url
        or f"{request.scheme}://{request.host}",
    )


async def update(request: web.Request) -> web.Response:
    sid = request.match_info["sid"]
    fields, modems = await _form(request)
    await _twilio(request).update_account(
        sid,
        name=fields.get("name"),
        inbound_url=fields.get("inbound_url", ""),
        modems=modems,
        webhooks_active=fields.get("webhooks", "on") == "on",
        actor=identity(request).actor,
    )
    return redirect(url_for(request, "twilio.account", sid=sid))


async def rotate(request: web.Request) -> web.Response:
    sid = request.match_info["sid"]
    made = await _twilio(request).rotate_token(sid, actor=identity(request).actor)
    return await _account_page(request, sid, made)
