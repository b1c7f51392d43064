"""The Templates console (admins edit, agents read), its preview without the script, and
the composer's template menu without the script: a template rendered for the
conversation's customer goes into the reply box; a variable without a value is shown and
nothing is inserted. The customer panel shows what the automation collected and why it
handed over."""

from __future__ import annotations

import html
import re
from typing import Any

from aiohttp.test_utils import TestClient
from uihelpers import SCRIPT, inbound, store_of
from webhelpers import T0, sign_in

from gateway.automation.rules import AutomationState, Phase
from gateway.inbox.records import SYSTEM
from gateway.services import Services
from gateway.storage import automation_queries

LATE = (
    'Hi {{ contact.first_name | default("there") }}, order '
    "{{ conversation.context.order_id }} is late."
)


def _reply_box(page: str) -> str:
    match = re.search(r'<textarea id="reply-body"[^>]*>(.*?)</textarea>', page, re.S)
    assert match is not None, "no reply box"
    return html.unescape(match[1])


async def _template(
    services: Services, body: str = LATE, shortcut: str = "late"
) -> int:
    made = await services.templates.create(
        name="Delivery late", shortcut=shortcut, body=body, actor="user:admin"
    )
    return made.id


async def test_admins_create_preview_edit_and_delete_templates(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    page = await (await client.get("/templates")).text()
    assert "No templates yet" in page
    assert 'href="/templates"' in page  # in the navigation

    # the Preview button renders with sample data and saves nothing
    form = {"csrf_token": csrf, "name": "Late", "shortcut": "late", "body": LATE}
    answer = await client.post("/templates", data={**form, "intent": "preview"})
    assert answer.status == 200
    text = await answer.text()
    assert "Hi Jamie, order 4839201 is late." in text
    assert "GSM-7</strong> · 1 part" in text
    assert await services.templates.list() == []

    # a variable the sample lacks: named where the preview would be, nothing saved
    unknown = {
        **form,
        "body": "Refund {{ context.refund_id }} sent.",
        "intent": "preview",
    }
    answer = await client.post("/templates", data=unknown)
    assert answer.status == 400
    text = html.unescape(await answer.text())
    assert "data-preview-error>body: context.refund_id has no value here" in text
    assert "Not saved" not in text
    assert await services.templates.list() == []

    # a syntax error: the reason with line and column, the draft kept, nothing saved
    broken = {**form, "body": "Hi {{ contact.first_name "}
    answer = await client.post("/templates", data=broken)
    assert answer.status == 400
    text = await answer.text()
    assert "Not saved: body: line 1, column" in text
    assert "Hi {{ contact.first_name </textarea>" in html.unescape(text)
    assert await services.templates.list() == []

    # saved; then edited; a shortcut in use is refused by name
    answer = await client.post("/templates", data=form, allow_redirects=False)
    assert answer.status == 303
    (made,) = await services.templates.list()
    assert answer.headers["Location"] == f"/templates/{made.id}?saved=1"
    await _template(services, "Thanks!", "thanks")
    taken = {**form, "shortcut": "thanks"}
    answer = await client.post(f"/templates/{made.id}", data=taken)
    assert answer.status == 409
    assert "Not saved:" in await answer.text()
    edited = {**form, "name": "Late delivery", "body": "Sorry {{ agent.name }} here."}
    answer = await client.post(
        f"/templates/{made.id}", data=edited, allow_redirects=False
    )
    assert answer.status == 303
    assert (await services.templates.get(made.id)).name == "Late delivery"

    answer = await client.post(
        f"/templates/{made.id}/delete", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert answer.status == 303
    assert [t.shortcut for t in await services.templates.list()] == ["thanks"]


async def test_agents_see_templates_but_cannot_change_them(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    tid = await _template(services, f"Hello {SCRIPT}")
    page = await (await client.get("/templates")).text()
    assert "/late" in page
    assert SCRIPT not in page  # escaped
    assert html.escape(SCRIPT, quote=False) in page
    assert 'action="/templates"' not in page  # no form to add one
    shown = await (await client.get(f"/templates/{tid}")).text()
    assert "Only admins change templates." in shown
    form = {"csrf_token": csrf, "name": "x", "shortcut": "x", "body": "x"}
    answer = await client.post("/templates", data=form, allow_redirects=False)
    assert answer.status == 403
    assert [t.name for t in await services.templates.list()] == ["Delivery late"]


async def test_the_composer_menu_fills_in_a_template_for_this_customer(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    threaded = await inbound(services, "where is my parcel?", now=T0)
    cid = threaded.conversation.id
    tid = await _template(services)
    page = await (await client.get(f"/conversations/{cid}")).text()
    assert f'<option value="{tid}">/late · Delivery late</option>' in page
    assert "data-template-picker" in page

    # no order in the context yet: the reason, and what was typed stays
    form = {"csrf_token": csrf, "template_id": str(tid), "body": "typed"}
    answer = await client.post(f"/conversations/{cid}/template", data=form)
    assert answer.status == 400
    text = html.unescape(await answer.text())
    assert "Not inserted: body: conversation.context.order_id has no value here" in text
    assert _reply_box(text) == "typed"

    # the order collected (as the automation stores it) and a name: filled in
    await store_of(services).run(
        automation_queries.store_field,
        cid,
        threaded.conversation.contact_id,
        "order_id",
        "4839201",
        on_contact=False,
        now=T0,
    )
    await services.contacts.update(
        threaded.conversation.contact_id, name="Jamie Lee", actor=SYSTEM
    )
    answer = await client.post(
        f"/conversations/{cid}/template",
        data=form,
        headers={"X-Smsgw-Fragment": "thread"},
    )
    assert answer.status == 200
    text = await answer.text()
    assert _reply_box(text) == "Hi Jamie, order 4839201 is late."
    assert "data-composer-error" not in text


async def test_the_panel_shows_what_the_automation_collected_and_why_it_handed_over(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = (await inbound(services, "My delivery is late", now=T0)).conversation.id
    state = AutomationState(
        phase=Phase.HANDED_OVER,
        fields={"order_number": "4839201"},
        handover_reason="Order number: details collected",
        escalated=True,
    )
    await store_of(services).run(automation_queries.save_state, cid, state, now=T0)
    text = await (await client.get(f"/conversations/{cid}")).text()
    assert "collected order_number 4839201 · escalated</summary>" in text
    assert 'data-automation="handed_over"' in text
    assert "Handed over" in text
    assert "Order number: details collected" in text
    assert "<dt>order_number</dt><dd>4839201</dd>" in text
