"""The agents' inbox: the conversation list, a thread, and every action on it.

Pages render on the server. The page's script (web/static/inbox.js) asks for the same
templates as fragments (the list, a thread) and posts the same forms with
`X-Smsgw-Fragment`, so there is one rendering path and one escaping rule. Without the
script every form posts and redirects back (303) with the agent's filters kept.
"""

from __future__ import annotations

import re

from aiohttp import web

from gateway.errors import GatewayError, InvalidInput
from web.render import render
from web.schemas import form_fields, path_int, query_int
from web.ui import views
from web.ui.common import (
    ListView,
    Times,
    after_action,
    form_id,
    identity,
    new_key,
    services,
    wants_fragment,
)

_TAG_SEPARATORS = re.compile(r"[,\s]+")
UNASSIGNED = ("", "none")


def _page(
    request: web.Request,
    data: views.InboxPage,
    *,
    status: int = 200,
    composer_error: str | None = None,
    draft: str = "",
    draft_kind: str = "reply",
) -> web.Response:
    return render(
        request,
        "inbox.html",
        status=status,
        inbox=data,
        view=data.view,
        t=Times.of(request),
        reply_key=new_key(),
        composer_error=composer_error,
        draft=draft,
        draft_kind=draft_kind,
    )


def _thread(
    request: web.Request,
    pane: views.ThreadPane,
    view: ListView,
    *,
    status: int = 200,
    composer_error: str | None = None,
    draft: str = "",
    draft_kind: str = "reply",
) -> web.Response:
    return render(
        request,
        "inbox/thread_fragment.html",
        status=status,
        pane=pane,
        view=view,
        t=Times.of(request),
        reply_key=new_key(),
        composer_error=composer_error,
        draft=draft,
        draft_kind=draft_kind,
    )


# ---------------------------------------------------------------------- pages


async def inbox(request: web.Request) -> web.Response:
    view = ListView.parse(request.query)
    data = await views.inbox_page(
        services(request), identity(request), view, cursor=request.query.get("cursor")
    )
    return _page(request, data)


async def conversation(request: web.Request) -> web.Response:
    cid, view = path_int(request, "id"), ListView.parse(request.query)
    data = await views.inbox_page(
        services(request),
        identity(request),
        view,
        open_id=cid,
        cursor=request.query.get("cursor"),
        before=query_int(request, "before", default=None),
    )
    return _page(request, data)


async def list_fragment(request: web.Request) -> web.Response:
    view = ListView.parse(request.query)
    limit = query_int(request, "limit", default=views.LIST_PAGE, maximum=200)
    listing = await views.list_pane(
        services(request),
        identity(request),
        view,
        cursor=request.query.get("cursor"),
        limit=limit or views.LIST_PAGE,
    )
    return _list(request, listing, view, query_int(request, "open", default=None))


def _list(
    request: web.Request, listing: views.ListPane, view: ListView, open_id: int | None
) -> web.Response:
    return render(
        request,
        "inbox/list_fragment.html",
        listing=listing,
        view=view,
        open_id=open_id,
        t=Times.of(request),
    )


async def thread_fragment(request: web.Request) -> web.Response:
    cid, view = path_int(request, "id"), ListView.parse(request.query)
    before = query_int(request, "before", default=None)
    pane = await views.thread_pane(services(request), cid, before=before)
    return _thread(request, pane, view)


# ---------------------------------------------------------------------- actions


async def _refused(
    request: web.Request,
    cid: int,
    view: ListView,
    exc: GatewayError,
    draft: tuple[str, str],
) -> web.Response:
    """The thread again with the service's refusal shown by the composer and the draft
    kept (a page for a form, the fragment for the script)."""
    if exc.http_status >= 500:  # not the agent's doing: the error middleware answers
        raise exc
    return await _composer(request, cid, view, draft, exc.http_status, str(exc))


async def _composer(
    request: web.Request,
    cid: int,
    view: ListView,
    draft: tuple[str, str],
    status: int = 200,
    error: str | None = None,
) -> web.Response:
    """The thread again with `draft` (kind, text) in the composer and `error` by it."""
    kind, text = draft
    if wants_fragment(request):
        pane = await views.thread_pane(services(request), cid)
        return _thread(
            request,
            pane,
            view,
            status=status,
            composer_error=error,
            draft=text,
            draft_kind=kind,
        )
    data = await views.inbox_page(
        services(request), identity(request), view, open_id=cid
    )
    return _page(
        request, data, status=status, composer_error=error, draft=text, draft_kind=kind
    )


async def reply(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    view, body = ListView.from_form(form), form.get("body", "")
    try:
        await services(request).inbox.reply(
            cid,
            body,
            actor=identity(request),
            idempotency_key=form.get("idempotency_key") or None,
        )
    except GatewayError as exc:  # opted out, empty, too long: shown by the composer
        return await _refused(request, cid, view, exc, ("reply", body))
    return after_action(request, cid, view)


async def use_template(request: web.Request) -> web.Response:
    """The composer's template menu without the script: the template rendered for this
    conversation's customer goes into the reply box; a variable without a value is
    shown as the reason and what was typed stays."""
    cid, form = path_int(request, "id"), await form_fields(request)
    view, typed = ListView.from_form(form), form.get("body", "")
    try:
        template_id = form_id(form, "template_id")
        if template_id is None:
            raise InvalidInput("template_id", "choose a template")
        rendered = await services(request).templates.render_in_conversation(
            template_id, cid, user_id=identity(request).user.id
        )
    except GatewayError as exc:
        return await _refused(request, cid, view, exc, ("template", typed))
    return await _composer(request, cid, view, ("reply", rendered.text))


async def add_note(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    view, body = ListView.from_form(form), form.get("body", "")
    try:
        await services(request).inbox.add_note(cid, body, actor=identity(request))
    except GatewayError as exc:
        return await _refused(request, cid, view, exc, ("note", body))
    return after_action(request, cid, view)


async def assign(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    choice, me = form.get("assignee", "").strip(), identity(request)
    if choice == "me":
        assignee: int | None = me.user.id
    else:
        assignee = None if choice in UNASSIGNED else form_id(form, "assignee")
    await services(request).inbox.assign(cid, assignee, actor=me)
    return after_action(request, cid, ListView.from_form(form))


async def set_status(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    await services(request).inbox.set_status(
        cid, form.get("status", ""), actor=identity(request)
    )
    return after_action(request, cid, ListView.from_form(form))


async def set_priority(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    await services(request).inbox.set_priority(
        cid, form.get("priority", ""), actor=identity(request)
    )
    return after_action(request, cid, ListView.from_form(form))


async def add_tags(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    names = [t for t in _TAG_SEPARATORS.split(form.get("tags", "")) if t]
    await services(request).inbox.add_tags(cid, names, actor=identity(request))
    return after_action(request, cid, ListView.from_form(form))


async def remove_tag(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    await services(request).inbox.remove_tags(
        cid, form.get("tag", ""), actor=identity(request)
    )
    return after_action(request, cid, ListView.from_form(form))


async def mark_read(request: web.Request) -> web.Response:
    cid, form = path_int(request, "id"), await form_fields(request)
    await services(request).inbox.mark_read(
        cid, actor=identity(request), message_id=form_id(form, "message_id")
    )
    return after_action(request, cid, ListView.from_form(form))
