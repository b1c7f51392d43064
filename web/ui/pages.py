"""The pages every signed-in user has: inbox, contacts, modems."""

from __future__ import annotations

from aiohttp import web

from web import keys
from web.render import render
from web.schemas import query_int

PAGE_SIZE = 50


async def inbox(request: web.Request) -> web.Response:
    rows = await request.app[keys.OVERVIEW].recent_conversations(limit=PAGE_SIZE)
    return render(request, "inbox.html", conversations=rows)


async def contacts(request: web.Request) -> web.Response:
    after = query_int(request, "after", default=None)
    rows = await request.app[keys.CONTACTS].list(limit=PAGE_SIZE, after_id=after)
    more = rows[-1].id if len(rows) == PAGE_SIZE else None
    return render(request, "contacts.html", contacts=rows, next_after=more)


async def modems(request: web.Request) -> web.Response:
    views = await request.app[keys.OVERVIEW].modems()
    return render(request, "modems.html", modems=views)
