"""Contacts: the list with search, one contact's page (edit name and attributes, see
consent and conversations), CSV import with a per-row report, CSV export."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from gateway.domain import JsonValue
from gateway.errors import InvalidInput
from gateway.inbox import csvio
from web.render import render, url_for
from web.schemas import form_fields, path_int
from web.ui.common import ListView, Times, identity, redirect, services

PAGE_SIZE = 50
EXPORT_NAME = "contacts.csv"


# ---------------------------------------------------------------------- the form's text


def attributes_text(attributes: Mapping[str, JsonValue]) -> str:
    """Attributes as the edit form shows them: one `key = value` a line, by key."""
    return "\n".join(
        f"{key} = {csvio.attribute_text(value)}"
        for key, value in sorted(attributes.items())
    )


def attribute_patch(text: str, known: str) -> dict[str, JsonValue]:
    """The form's `key = value` lines as a patch: a key the form had (`known`, space
    separated) and no longer has, or left without a value, is removed; values read as
    in a CSV import (true/false and canonical numbers become booleans and numbers)."""
    patch: dict[str, JsonValue] = dict.fromkeys(known.split())
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("attributes", f"line {number}: write it as key = value")
        value = value.strip()
        patch[key.strip()] = csvio.coerce(value) if value else None
    return patch


# ---------------------------------------------------------------------- handlers


async def index(request: web.Request) -> web.Response:
    search, cursor = request.query.get("q", "").strip(), request.query.get("cursor")
    page = await services(request).contacts.page(
        search=search or None, cursor=cursor, limit=PAGE_SIZE
    )
    return render(
        request,
        "contacts.html",
        page=page,
        q=search,
        cursor=cursor,
        t=Times.of(request),
    )


async def create(request: web.Request) -> web.Response:
    form = await form_fields(request)
    record = await services(request).contacts.create(
        form.get("number", ""), name=form.get("name") or None, actor=identity(request)
    )
    return redirect(url_for(request, "contact", id=str(record.id)))


async def show(request: web.Request) -> web.Response:
    profile = await services(request).contacts.profile(path_int(request, "id"))
    return render(
        request,
        "contact.html",
        profile=profile,
        attributes=attributes_text(profile.contact.attributes),
        saved=request.query.get("saved") == "1",
        conversations_link=ListView(status="all", q=profile.contact.number).link("/"),
        t=Times.of(request),
    )


async def update(request: web.Request) -> web.Response:
    contact_id, form = path_int(request, "id"), await form_fields(request)
    patch = attribute_patch(form.get("attributes", ""), form.get("known_keys", ""))
    await services(request).contacts.update(
        contact_id, name=form.get("name", ""), attributes=patch, actor=identity(request)
    )
    return redirect(url_for(request, "contact", id=str(contact_id)) + "?saved=1")


async def import_csv(request: web.Request) -> web.Response:
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        raise InvalidInput("file", "choose a CSV file to import")
    report = await services(request).contacts.import_csv(
        upload.file.read(), actor=identity(request), dry_run=form.get("dry_run") == "1"
    )
    return render(request, "contacts_import.html", report=report, name=upload.filename)


async def export_csv(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{EXPORT_NAME}"',
        }
    )
    await response.prepare(request)
    async for chunk in services(request).contacts.export_csv():
        await response.write(chunk.encode("utf-8"))
    await response.write_eof()
    return response
