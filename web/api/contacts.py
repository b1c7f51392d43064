"""/api/v1/contacts: list and search, create, get, update, delete, look up by number."""

from __future__ import annotations

from aiohttp import web

from gateway.contactbook import ContactBook
from web.api.common import identity, services
from web.api.fields import read_json
from web.api.objects import contact_object, deleted_object, respond, service_page
from web.api.schemas import (
    CONTACT_ID,
    ContactList,
    ContactLookup,
    CreateContact,
    UpdateContact,
)


def _book(request: web.Request) -> ContactBook:
    return ContactBook(services(request).contacts)


async def list_contacts(request: web.Request) -> web.Response:
    listing = ContactList.parse(request.query)
    page = await _book(request).page(
        search=listing.search, cursor=listing.cursor, limit=listing.limit
    )
    return respond(service_page(page.rows, page.next_cursor, contact_object))


async def create(request: web.Request) -> web.Response:
    new = CreateContact.parse(await read_json(request))
    row = await _book(request).create(
        new.number, name=new.name, attributes=new.attributes, actor=identity(request)
    )
    location = {"Location": f"/api/v1/contacts/{row.contact.id}"}
    return respond(contact_object(row), status=201, headers=location)


async def get(request: web.Request) -> web.Response:
    row = await _book(request).get(CONTACT_ID.read(request))
    return respond(contact_object(row))


async def lookup(request: web.Request) -> web.Response:
    row = await _book(request).lookup(ContactLookup.parse(request.query).number)
    return respond(contact_object(row))


async def update(request: web.Request) -> web.Response:
    contact_id = CONTACT_ID.read(request)
    change = UpdateContact.parse(await read_json(request))
    row = await _book(request).update(
        contact_id,
        name=change.name,
        change_name=change.change_name,
        attributes=change.attributes,
        actor=identity(request),
    )
    return respond(contact_object(row))


async def delete(request: web.Request) -> web.Response:
    record = await _book(request).delete(
        CONTACT_ID.read(request), actor=identity(request)
    )
    return respond(deleted_object("contact", record))
