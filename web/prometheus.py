"""GET /metrics: the operations metrics in Prometheus' text format, and who may read them.

`guard` runs instead of the session check for the route (Access SCRAPE): with [metrics]
prometheus off the path does not exist (404); with a scrape_token the caller must send
`Authorization: Bearer TOKEN` (401 otherwise); without one only a client on this machine
(127.0.0.1, ::1) that came through no proxy may read it (403 otherwise) - a reverse proxy
on this box connects from loopback too, which is why a forwarded request is refused.
Refusals are in the API's one JSON error shape (/metrics is a JSON path for errors).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.auth.errors import Forbidden, NotAuthenticated
from web import keys

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

METRICS_PATH = "/metrics"
# Any of these means a proxy forwarded the request: its client is not the peer we see.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Via")


def is_loopback(address: str | None) -> bool:
    """Whether a peer address is this machine's (IPv4-mapped IPv6 included)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False  # a Unix socket peer has no address: not assumed local
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Let the scrape through, or refuse it naming why."""
    settings = request.app[keys.SETTINGS].metrics
    if not settings.prometheus:
        raise web.HTTPNotFound(
            text="the Prometheus metrics are off ([metrics] prometheus)"
        )
    token = settings.scrape_token
    if token:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode(), token.encode()
        ):
            raise NotAuthenticated(
                "send Authorization: Bearer TOKEN with [metrics] scrape_token"
            )
        return await handler(request)
    forwarded = [h for h in PROXY_HEADERS if h in request.headers]
    if forwarded:
        raise Forbidden(
            f"a proxied request ({forwarded[0]}) needs [metrics] scrape_token set"
        )
    if not is_loopback(request.remote):
        raise Forbidden(
            "only this machine may read /metrics without [metrics] scrape_token"
        )
    return await handler(request)


async def metrics(request: web.Request) -> web.Response:
    """The exposition, in the format the Accept header asks for."""
    ops = request.app[keys.SERVICES].ops
    body, content_type = await ops.exposition(request.headers.get("Accept", ""))
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response
