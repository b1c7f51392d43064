"""POST /api/v1/segments: what a draft costs on the air (the composer's live counter)."""

from __future__ import annotations

from aiohttp import web

from web.api.common import services
from web.api.fields import read_json
from web.api.objects import respond, segments_object
from web.api.schemas import CountSegments


async def count(request: web.Request) -> web.Response:
    draft = CountSegments.parse(await read_json(request))
    return respond(segments_object(services(request).outbound.count(draft.text)))
