"""The Templates console: canned texts agents pick in the composer with `/`. Everyone
sees them; admins create, edit and delete them. A draft is previewed with sample data
(Jamie, order 4839201) and its segment count; a syntax error or a variable without a
value is shown with the draft kept, and nothing is saved.

Without the page's script the Preview button posts the form (nothing saved); with it,
web/static/templates.js previews as the admin types (POST /api/v1/templates/preview).
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.errors import Conflict, GatewayError, InvalidInput
from gateway.templates.records import TemplateRecord
from gateway.templates.service import Rendered, TemplateService
from web.render import render, url_for
from web.schemas import form_fields, path_int
from web.ui.common import Times, identity, redirect, services

PREVIEW = "preview"  # the form's `intent` when the Preview button posted it


@dataclass(frozen=True, slots=True)
class Draft:
    """What the form holds: a stored template's values, or what was typed."""

    name: str = ""
    shortcut: str = ""
    body: str = ""
    description: str = ""

    @classmethod
    def of(cls, record: TemplateRecord) -> Draft:
        return cls(record.name, record.shortcut, record.body, record.description or "")

    @classmethod
    def from_form(cls, form: dict[str, str]) -> Draft:
        return cls(
            form.get("name", ""),
            form.get("shortcut", ""),
            form.get("body", ""),
            form.get("description", ""),
        )


def _templates(request: web.Request) -> TemplateService:
    return services(request).templates


def _page(
    request: web.Request,
    *,
    editing: TemplateRecord | None = None,
    draft: Draft | None = None,
    preview: Rendered | None = None,
    error: str | None = None,
    preview_error: str | None = None,
    status: int = 200,
    listing: list[TemplateRecord] | None = None,
) -> web.Response:
    return render(
        request,
        "templates.html",
        status=status,
        templates=listing or [],
        editing=editing,
        draft=draft or (Draft.of(editing) if editing else Draft()),
        preview=preview,
        error=error,
        preview_error=preview_error,
        t=Times.of(request),
        saved=request.query.get("saved") == "1" and error is None,
        deleted=request.query.get("deleted") == "1",
    )


async def index(request: web.Request) -> web.Response:
    return _page(request, listing=await _templates(request).list())


async def show(request: web.Request) -> web.Response:
    record = await _templates(request).get(path_int(request, "id"))
    return _page(request, editing=record, listing=await _templates(request).list())


async def _again(
    request: web.Request,
    draft: Draft,
    editing: TemplateRecord | None,
    *,
    preview: Rendered | None = None,
    error: GatewayError | None = None,
) -> web.Response:
    """The page again with the draft kept: a preview, or why it was refused."""
    return _page(
        request,
        editing=editing,
        draft=draft,
        preview=preview,
        error=None if error is None else str(error),
        status=200 if error is None else error.http_status,
        listing=await _templates(request).list(),
    )


async def _preview(
    request: web.Request, draft: Draft, editing: TemplateRecord | None
) -> web.Response:
    """The Preview button: the draft rendered with sample data, or why it cannot be
    (shown where the preview would be); nothing is saved either way."""
    try:
        rendered = _templates(request).preview(draft.body)
    except InvalidInput as exc:
        return _page(
            request,
            editing=editing,
            draft=draft,
            preview_error=str(exc),
            status=exc.http_status,
            listing=await _templates(request).list(),
        )
    return await _again(request, draft, editing, preview=rendered)


async def create(request: web.Request) -> web.Response:
    form = await form_fields(request)
    draft = Draft.from_form(form)
    if form.get("intent") == PREVIEW:
        return await _preview(request, draft, None)
    try:
        record = await _templates(request).create(
            name=draft.name,
            shortcut=draft.shortcut,
            body=draft.body,
            description=draft.description or None,
            actor=identity(request).actor,
        )
    except (InvalidInput, Conflict) as exc:  # a bad field, a syntax error, in use
        return await _again(request, draft, None, error=exc)
    return redirect(url_for(request, "template", id=str(record.id)) + "?saved=1")


async def update(request: web.Request) -> web.Response:
    template_id, form = path_int(request, "id"), await form_fields(request)
    editing, draft = await _templates(request).get(template_id), Draft.from_form(form)
    if form.get("intent") == PREVIEW:
        return await _preview(request, draft, editing)
    try:
        await _templates(request).update(
            template_id,
            name=draft.name,
            shortcut=draft.shortcut,
            body=draft.body,
            description=draft.description,
            actor=identity(request).actor,
        )
    except (InvalidInput, Conflict) as exc:
        return await _again(request, draft, editing, error=exc)
    return redirect(url_for(request, "template", id=str(template_id)) + "?saved=1")


async def delete(request: web.Request) -> web.Response:
    template_id = path_int(request, "id")
    await _templates(request).delete(template_id, actor=identity(request).actor)
    return redirect(url_for(request, "templates") + "?deleted=1")
