"""What every API handler reads from its request: the caller and the services."""

from __future__ import annotations

from aiohttp import web

from gateway.auth.records import Identity
from gateway.services import Services
from web import keys


def identity(request: web.Request) -> Identity:
    """Who is calling (the auth middleware refused anyone else)."""
    found = request[keys.IDENTITY]
    if found is None:  # only public routes lack one, and these are not public
        raise web.HTTPUnauthorized
    return found


def services(request: web.Request) -> Services:
    """The running services (for those without an AppKey of their own)."""
    return request.app[keys.SERVICES]
