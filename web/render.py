"""Pages: one Jinja2 environment (autoescape on for every template) and `render()`.

Plain jinja2 rather than aiohttp-jinja2: the environment lives under an AppKey like every
other shared object, and one small function is all the glue a page needs.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

import jinja2
from aiohttp import web

from gateway.auth.records import Identity
from web import keys
from web.access import Access

# (label, route name, who sees the link); every link leads to a page of its own.
NAV: tuple[tuple[str, str, Access], ...] = (
    ("Inbox", "inbox", Access.USER),
    ("Dashboard", "dashboard", Access.USER),
    ("Contacts", "contacts", Access.USER),
    ("Templates", "templates", Access.USER),
    ("Modems", "modems", Access.USER),
    ("Webhooks", "webhooks", Access.ADMIN),
    ("Twilio", "twilio", Access.ADMIN),
    ("Automation", "automation", Access.ADMIN),
    ("Users", "users", Access.ADMIN),
    ("Audit", "audit", Access.ADMIN),
)


def create_templates(timezone: zoneinfo.ZoneInfo) -> jinja2.Environment:
    """The template environment: web/templates, autoescaped, strict about missing names."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("web", "templates"),
        # every template, whatever its name: a .txt or .svg one must not be the exception
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def when(value: datetime | None) -> str:
        if value is None:
            return "-"
        return value.astimezone(timezone).strftime("%Y-%m-%d %H:%M")

    env.filters["when"] = when
    return env


def url_for(request: web.Request, name: str, **parts: str) -> str:
    """The path of a named route (web/routes.py)."""
    return str(request.app.router[name].url_for(**parts))


def static_url(request: web.Request, filename: str) -> str:
    """A file of web/static, with a version query so browsers refetch it after upgrades."""
    return str(request.app.router["static"].url_for(filename=filename))


def _nav(request: web.Request, identity: Identity | None) -> list[dict[str, Any]]:
    if identity is None:
        return []
    links = []
    for label, name, access in NAV:
        if access is Access.ADMIN and not identity.is_admin:
            continue
        path = url_for(request, name)
        current = request.path == path or (
            path != "/" and request.path.startswith(path)
        )
        links.append({"label": label, "url": path, "current": current})
    return links


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A page of the console: the template with who is signed in, the CSRF token and the
    navigation added to `context`."""
    identity = request.get(keys.IDENTITY)
    page = (
        request.app[keys.TEMPLATES]
        .get_template(template)
        .render(
            me=identity.user if identity is not None else None,
            csrf_token=(identity.csrf_token or "") if identity is not None else "",
            nav=_nav(request, identity),
            static=lambda filename: static_url(request, filename),
            url=lambda name, **parts: url_for(request, name, **parts),
            **context,
        )
    )
    return web.Response(text=page, status=status, content_type="text/html")
