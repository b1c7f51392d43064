"""`create_app(services, settings)`: the aiohttp application of the console and the API."""

from __future__ import annotations

from aiohttp import web

from gateway.config import Settings
from gateway.services import Services
from web import keys
from web.cookies import CookiePolicy
from web.middleware import (
    auth_middleware,
    csrf_middleware,
    error_middleware,
    input_middleware,
    security_headers,
)
from web.render import create_templates
from web.routes import ROUTES, Route, setup_routes
from web.sse import close_streams

# Forms and API bodies are small; a CSV import (issue 4) may raise its own route's limit.
CLIENT_MAX_SIZE_BYTES = 1024 * 1024


def create_app(
    services: Services, settings: Settings, *, routes: tuple[Route, ...] = ROUTES
) -> web.Application:
    """The web application over the running services; serve it with an AppRunner."""
    # Outermost first: errors see everything (auth and CSRF refusals too), CSRF runs once
    # the caller is known, and bodies are read for U+0000 only for callers let in.
    app = web.Application(
        middlewares=[
            error_middleware,
            auth_middleware,
            csrf_middleware,
            input_middleware,
        ],
        client_max_size=CLIENT_MAX_SIZE_BYTES,
    )
    app[keys.SERVICES] = services
    app[keys.SETTINGS] = settings
    app[keys.AUTH] = services.auth
    app[keys.AUDIT] = services.audit
    app[keys.OVERVIEW] = services.overview
    app[keys.CONTACTS] = services.contacts
    app[keys.BUS] = services.bus
    app[keys.TEMPLATES] = create_templates(settings.gateway.timezone)
    app[keys.COOKIE] = CookiePolicy.from_settings(settings)
    app[keys.STREAMS] = set()
    setup_routes(app, routes)
    app.on_response_prepare.append(security_headers)
    app.on_shutdown.append(close_streams)
    return app
