"""Typed keys of what the application and each request carry (no module globals)."""

from __future__ import annotations

from collections.abc import Mapping

import jinja2
from aiohttp import web

from gateway.auth.audit import AuditLog
from gateway.auth.records import Identity
from gateway.auth.service import AuthService
from gateway.config import Settings
from gateway.contacts import ContactService
from gateway.events import EventBus, Subscription
from gateway.overview.service import OverviewService
from gateway.services import Services
from web.access import Access
from web.cookies import CookiePolicy

# The whole bundle, for handlers that need a service without a key of its own yet.
SERVICES = web.AppKey("services", Services)
SETTINGS = web.AppKey("settings", Settings)
AUTH = web.AppKey("auth", AuthService)
AUDIT = web.AppKey("audit", AuditLog)
OVERVIEW = web.AppKey("overview", OverviewService)
CONTACTS = web.AppKey("contacts", ContactService)
BUS = web.AppKey("bus", EventBus)

TEMPLATES = web.AppKey("templates", jinja2.Environment)
COOKIE = web.AppKey("cookie", CookiePolicy)
# route name -> who may call it (web/routes.py); a route without an entry needs a user
ACCESS = web.AppKey[Mapping[str, Access]]("access")
# open event streams, ended when the app shuts down (web/sse.py)
STREAMS = web.AppKey("streams", set[Subscription])

# Set by the auth middleware on every request: None only on public routes.
IDENTITY = web.RequestKey[Identity | None]("identity")
