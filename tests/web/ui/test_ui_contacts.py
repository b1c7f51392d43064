"""The Contacts pages over real services: list and search, add, edit name and attributes,
consent shown, CSV import with a per-row report (and a dry run), CSV export; CSRF;
escaping."""

from __future__ import annotations

import csv
import io
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from markupsafe import escape
from uihelpers import CUSTOMER, IMG, PAYLOADS, SCRIPT, SVG, inbound
from webhelpers import T0

from gateway.domain import ConsentSource
from gateway.inbox.records import Actor
from gateway.services import Services
from web.ui.contacts import attribute_patch, attributes_text


async def test_the_list_searches_and_shows_opt_outs(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    await services.contacts.upsert(CUSTOMER, name="Ada Lovelace")
    await services.contacts.upsert("+447700900456", name="Charles Babbage")
    await services.compliance.set_consent(
        "+447700900456", opted_out=True, source=ConsentSource.KEYWORD, actor="test"
    )
    page = await (await client.get("/contacts")).text()
    assert "<h1>Contacts</h1>" in page
    assert "Ada Lovelace" in page
    assert "Charles Babbage" in page
    assert page.count("badge-optout") == 1
    assert 'href="/contacts/export.csv"' in page
    page = await (await client.get("/contacts?q=lovelace")).text()
    assert "Ada Lovelace" in page
    assert "Charles Babbage" not in page
    page = await (await client.get("/contacts?q=zzzz")).text()
    assert "No contact matches" in page


async def test_add_then_edit_a_contact(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    form = {"csrf_token": csrf, "number": "07700 900123", "name": "Ada"}
    response = await client.post("/contacts", data=form, allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/contacts/")
    contact_id = int(location.rsplit("/", 1)[1])

    form = {
        "csrf_token": csrf,
        "name": "Ada Lovelace",
        "known_keys": "",
        "attributes": "plan = gold\norders = 12\nvip = true\n",
    }
    response = await client.post(location, data=form, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (
        303,
        f"{location}?saved=1",
    )
    record = await services.contacts.get(contact_id)
    assert record.name == "Ada Lovelace"
    assert record.attributes == {"plan": "gold", "orders": 12, "vip": True}

    page = await (await client.get(f"{location}?saved=1")).text()
    assert "Saved." in page
    assert "orders = 12\nplan = gold\nvip = true</textarea>" in page
    assert 'name="known_keys" value="orders plan vip"' in page
    # a line taken out removes the attribute; a name left blank removes the name
    form = {
        "csrf_token": csrf,
        "name": "",
        "known_keys": "orders plan vip",
        "attributes": "plan = silver",
    }
    await client.post(location, data=form, allow_redirects=False)
    record = await services.contacts.get(contact_id)
    assert (record.name, record.attributes) == (None, {"plan": "silver"})
    # a bad line is refused, naming the field
    form["attributes"] = "just words"
    response = await client.post(location, data=form)
    assert response.status == 400
    assert "attributes: line 1" in await response.text()
    # a duplicate number is the service's Conflict
    form = {"csrf_token": csrf, "number": CUSTOMER}
    assert (await client.post("/contacts", data=form)).status == 409


async def test_a_contact_page_shows_consent_and_conversations(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    threaded = await inbound(services, "STOP please", now=T0)
    await services.compliance.set_consent(
        CUSTOMER, opted_out=True, source=ConsentSource.AGENT, actor="user:agent"
    )
    page = await (await client.get(f"/contacts/{threaded.contact.id}")).text()
    assert "badge-optout" in page
    assert "opt out (agent, user:agent)" in page
    assert f'href="/conversations/{threaded.conversation.id}?status=all"' in page
    assert "STOP please" in page
    assert "/?status=all&amp;q=%2B447700900123" in page  # every conversation
    assert (await client.get("/contacts/999")).status == 404


def _csv_form(csrf: str, text: str, *, dry_run: bool) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    if dry_run:
        form.add_field("dry_run", "1")
    form.add_field(
        "file", text.encode(), filename="people.csv", content_type="text/csv"
    )
    return form


async def test_csv_import_reports_each_bad_row(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    text = (
        "number,name,plan\n"
        "+447700900123,Ada,gold\n"
        "not a number,Bob,silver\n"
        "+447700900456,Cy,\n"
        f"+447700900789,{SCRIPT},x\n"
    )
    response = await client.post(
        "/contacts/import", data=_csv_form(csrf, text, dry_run=True)
    )
    assert response.status == 200
    page = await response.text()
    assert "A check only: nothing was changed." in page
    assert "<strong>4</strong> rows read" in page
    assert "<strong>3</strong> would be created" in page
    assert "<td>3</td><td><code>number</code></td>" in page  # the header is row 1
    assert SCRIPT not in page
    assert (await services.contacts.page()).rows == ()

    response = await client.post(
        "/contacts/import", data=_csv_form(csrf, text, dry_run=False)
    )
    page = await response.text()
    assert "1 row could not be imported; the others were." in page
    numbers = {r.contact.number for r in (await services.contacts.page()).rows}
    assert numbers == {"+447700900123", "+447700900456", "+447700900789"}
    # no file, and a file that is not CSV at all
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", b"", filename="", content_type="text/csv")
    response = await client.post("/contacts/import", data=form)
    assert response.status == 400
    assert "choose a CSV file" in await response.text()
    response = await client.post(
        "/contacts/import", data=_csv_form(csrf, "name\nAda\n", dry_run=False)
    )
    assert response.status == 400
    assert "no &#39;number&#39; column" in await response.text()


async def test_csv_export_downloads_every_contact(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    contact = await services.contacts.upsert(CUSTOMER, name="=cmd|' /C calc'!A0")
    await services.contacts.update(
        contact.id, attributes={"plan": "gold"}, actor=Actor("t")
    )
    response = await client.get("/contacts/export.csv")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="contacts.csv"'
    )
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == ["number", "name", "opted_out", "plan"]
    assert rows[1][0] == "'+447700900123"  # a leading + is guarded too
    assert rows[1][1].startswith("'=")  # no spreadsheet runs it
    assert rows[1][3] == "gold"


async def test_contact_forms_need_the_csrf_token(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    contact = await services.contacts.upsert(CUSTOMER, name="Ada")
    for path, form in (
        ("/contacts", {"number": "+447700900999"}),
        (f"/contacts/{contact.id}", {"name": "Mallory"}),
    ):
        assert (await client.post(path, data=form)).status == 403
    form = aiohttp.FormData()
    form.add_field("file", b"number\n+447700900999\n", filename="a.csv")
    assert (await client.post("/contacts/import", data=form)).status == 403
    assert (await services.contacts.get(contact.id)).name == "Ada"
    assert len((await services.contacts.page()).rows) == 1


async def test_contact_pages_escape_names_and_attributes(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    contact = await services.contacts.upsert(CUSTOMER, name=SCRIPT)
    await services.contacts.update(
        contact.id, attributes={"note": IMG, "ref": SVG}, actor=Actor("t")
    )
    for path in ("/contacts", f"/contacts/{contact.id}", f"/contacts?q={SCRIPT}"):
        page = await (await client.get(path)).text()
        for payload in PAYLOADS:
            assert payload not in page, (path, payload)
        assert str(escape(SCRIPT)) in page, path


def test_the_attribute_text_round_trips() -> None:
    attributes = {"plan": "gold", "orders": 12, "vip": True, "score": 2.5}
    text = attributes_text(attributes)
    assert text == "orders = 12\nplan = gold\nscore = 2.5\nvip = true"
    assert attribute_patch(text, "orders plan score vip") == attributes
    assert attribute_patch("plan =\n\n", "plan old") == {"plan": None, "old": None}
    assert attribute_patch("url = https://x.test/?a=b", "") == {
        "url": "https://x.test/?a=b"
    }
