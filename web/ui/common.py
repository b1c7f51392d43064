"""What the console's handlers share: the caller, the services, the list's filters, how
an action answers (a redirect for a form, a fragment for the page's own script) and how
times are shown."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.auth.records import Identity
from gateway.errors import InvalidInput
from gateway.services import Services
from web import keys
from web.render import url_for

# The page's script asks for a fragment instead of a page (see `after_action`).
FRAGMENT_HEADER = "X-Smsgw-Fragment"
# fields of the list view a form carries back, so the redirect keeps the agent's filters
VIEW_FIELD = "view"
MAX_VIEW_CHARS = 1000


def identity(request: web.Request) -> Identity:
    """Who is signed in (the auth middleware turned everyone else away)."""
    found = request[keys.IDENTITY]
    if found is None:  # only public routes lack one, and no console page is public
        raise web.HTTPUnauthorized
    return found


def services(request: web.Request) -> Services:
    return request.app[keys.SERVICES]


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser GETs `location`."""
    return web.Response(status=303, headers={"Location": location})


def new_key() -> str:
    """A fresh idempotency key for a composer: a double submit queues one text."""
    return secrets.token_hex(16)


# ---------------------------------------------------------------------- the list view


@dataclass(frozen=True, slots=True)
class ListView:
    """The conversation list's filters, as they travel in query strings and forms.

    `status` "all" and `who` "all" mean no filter; blank text filters are no filter.
    InboxService validates the values (InvalidInput naming the field).
    """

    status: str = "open"
    who: str = "all"
    queue: str = ""
    tag: str = ""
    modem: str = ""
    priority: str = ""
    q: str = ""

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListView:
        """The view from a query string (unknown keys ignored, text trimmed)."""
        values = {}
        for f in fields(cls):
            raw = query.get(f.name)
            if raw is not None:
                values[f.name] = raw.strip()[: MAX_VIEW_CHARS // 4]
        view = cls(**values)
        return replace(view, status=view.status or "all", who=view.who or "all")

    @classmethod
    def from_form(cls, form: dict[str, str]) -> ListView:
        """The view a form carried back in its `view` field (a query string)."""
        raw = form.get(VIEW_FIELD, "")[:MAX_VIEW_CHARS]
        return cls.parse(dict(parse_qsl(raw)))

    def pairs(self, **changes: str) -> list[tuple[str, str]]:
        """The query's (name, value) pairs that differ from the default view."""
        view = replace(self, **changes) if changes else self
        default = ListView()
        return [
            (f.name, getattr(view, f.name))
            for f in fields(view)
            if getattr(view, f.name) != getattr(default, f.name)
        ]

    def query(self, **params: str) -> str:
        """The view as a query string without '?' ("" for the default view); `params`
        naming a filter change it, others (cursor, before) are added when not blank."""
        names = {f.name for f in fields(self)}
        changes = {k: v for k, v in params.items() if k in names}
        extra = [(k, v) for k, v in params.items() if k not in names and v]
        return urlencode(self.pairs(**changes) + extra)

    def link(self, path: str, **params: str) -> str:
        """`path` with this view (see `query`) as its query."""
        query = self.query(**params)
        return f"{path}?{query}" if query else path

    @property
    def filtered(self) -> bool:
        """Whether any of the narrower filters (queue, tag, modem, priority) is set."""
        return any((self.queue, self.tag, self.modem, self.priority))


def conversation_url(request: web.Request, conversation_id: int, view: ListView) -> str:
    path = url_for(request, "inbox.conversation", id=str(conversation_id))
    return view.link(path)


def after_action(
    request: web.Request, conversation_id: int, view: ListView
) -> web.Response:
    """A conversation action's answer: the page again for a form (303), the thread
    fragment for the page's script (header `X-Smsgw-Fragment: thread`), or nothing
    (`none`)."""
    wanted = request.headers.get(FRAGMENT_HEADER)
    if wanted == "none":
        return web.Response(status=204)
    if wanted == "thread":
        path = url_for(request, "inbox.thread", id=str(conversation_id))
        return redirect(view.link(path))
    return redirect(conversation_url(request, conversation_id, view))


def wants_fragment(request: web.Request) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "thread"


def form_id(form: dict[str, str], name: str) -> int | None:
    """An optional whole-number form field (blank: None)."""
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(name, f"a whole number, not {raw[:40]!r}") from None
    if value < 1:
        raise InvalidInput(name, f"at least 1, not {value}")
    return value


# ---------------------------------------------------------------------- times


@dataclass(frozen=True, slots=True)
class Times:
    """How the console shows times: compact in lists, whole in titles, in the box's zone."""

    zone: ZoneInfo
    now: datetime

    @classmethod
    def of(cls, request: web.Request) -> Times:
        return cls(request.app[keys.SETTINGS].gateway.timezone, datetime.now(UTC))

    def short(self, value: datetime | None) -> str:
        """14:05 today, Tue this week, 3 Mar this year, else 3 Mar 2025."""
        if value is None:
            return "-"
        local = value.astimezone(self.zone)
        today = self.now.astimezone(self.zone).date()
        if local.date() == today:
            return local.strftime("%H:%M")
        if today - timedelta(days=6) <= local.date() < today:
            return local.strftime("%a")
        if local.year == today.year:
            return f"{local.day} {local.strftime('%b')}"
        return f"{local.day} {local.strftime('%b %Y')}"

    def full(self, value: datetime | None) -> str:
        if value is None:
            return "-"
        return value.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def iso(value: datetime | None) -> str:
        if value is None:
            return ""
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
