"""The Automation page through the real routes (admins): settings over gateway.ini's
defaults and their reset, the triage menu and its options, collection flows, routing
rules and queues saved from forms and used by the rules; every refused form names its
input and changes nothing; the rule tester answers without writing anything; the
availability toggle every agent has."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from uihelpers import PAYLOADS, SCRIPT
from webhelpers import sign_in

from gateway.config import Settings
from gateway.inbox.records import Actor
from gateway.services import Services
from tests.pgtest import dump_database

TEST = Actor("test")
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ORDER_PATTERN = r"\b(\d{6,10})\b"


def dump(settings: Settings) -> list[str]:
    """Every committed row of every table (a second connection), on either engine."""
    return dump_database(settings.database.path, settings.database.url)


async def user_id(services: Services, username: str) -> int:
    return next(
        u.id for u in await services.auth.list_users() if u.username == username
    )


def text_of(page: str) -> str:
    """The page's words without tags, entities read."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


async def post(
    client: TestClient[Any, Any], path: str, data: Any, *, redirect: bool = False
) -> Any:
    return await client.post(path, data=data, allow_redirects=redirect)


async def build_rules(
    client: TestClient[Any, Any], csrf: str, services: Services
) -> None:
    """The seed's rules, typed into the forms: a delivery queue (round robin, weekday
    hours), an order-number flow, triage 1 billing / 2 delivery, a VIP routing rule."""
    admin = await user_id(services, "admin")
    answers = [
        await post(
            client,
            "/automation/queues",
            [
                ("csrf_token", csrf),
                ("name", "delivery"),
                ("assignment", "round_robin"),
                ("members", str(admin)),
                ("timezone", "Europe/London"),
                ("hours", "mon-fri 08:00-18:00"),
                ("holidays", "2026-12-25"),
                ("ack_text", "We typically reply within 10 minutes."),
                ("after_hours_text", "We're closed; we'll reply {when}."),
            ],
        ),
        await post(
            client,
            "/automation/flows",
            {
                "csrf_token": csrf,
                "name": "Order number",
                "fields.1.name": "order_number",
                "fields.1.label": "order number",
                "fields.1.prompt": "Sorry about that. Reply with your order number.",
                "fields.1.kind": "pattern",
                "fields.1.pattern": ORDER_PATTERN,
                "fields.1.save_to_contact": "yes",
                "done_text": "",
            },
        ),
    ]
    flow = (await services.automation.view()).snapshot.flows[0]
    answers += [
        await post(
            client,
            "/automation/triage/options",
            {"csrf_token": csrf, "key": "1", "label": "billing", "queue": "billing"},
        ),
        await post(
            client,
            "/automation/triage/options",
            {
                "csrf_token": csrf,
                "key": "2",
                "label": "delivery",
                "keywords": "late, parcel, courier",
                "queue": "delivery",
                "tags": "delivery",
                "flow_id": str(flow.id),
            },
        ),
        await post(
            client,
            "/automation/routing",
            {
                "csrf_token": csrf,
                "name": "VIP customers",
                "kind": "attribute",
                "key": "vip",
                "value": "true",
                "priority": "high",
                "tags": "vip",
            },
        ),
    ]
    assert [a.status for a in answers] == [303] * len(answers)


async def test_agents_are_refused_and_see_no_link(
    client: TestClient[Any, Any],
) -> None:
    csrf = await sign_in(client, "agent")
    assert 'href="/automation"' not in await (await client.get("/")).text()
    response = await client.get("/automation")
    assert response.status == 403
    assert "admins only" in await response.text()
    for path in ("/automation/settings", "/automation/test", "/automation/queues"):
        refused = await post(client, path, {"csrf_token": csrf, "text": "hi"})
        assert refused.status == 403, path

    await sign_in(client, "admin")
    page = await (await client.get("/")).text()
    assert '<a href="/automation">Automation</a>' in page


async def test_the_empty_page_shows_the_defaults_and_the_guarantees(
    client: TestClient[Any, Any],
) -> None:
    await sign_in(client, "admin")
    response = await client.get("/automation")
    assert response.status == 200
    page = await response.text()
    assert "<h1>Automation</h1>" in page
    assert 'aria-current="page"' in page
    assert "No options yet: no menu is sent." in page
    words = text_of(page)
    assert "asked again at most 2 times and at most 6 questions" in words
    # gateway.ini's values, none marked changed
    assert 'name="max_prompts" value="2"' in page
    assert "agent, human, person, representative" in page
    assert "changed</span>" not in page
    # every form carries the CSRF token; the page has no inline script or style
    forms = page.count("<form ") - page.count('<form method="dialog">')
    assert page.count('name="csrf_token"') == forms
    assert " style=" not in page
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


async def test_rules_saved_in_the_forms_drive_the_rule_tester(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    await build_rules(client, csrf, services)

    page = await (await client.get("/automation")).text()
    assert "Reply 1 for billing, 2 for delivery." in page
    assert "asks: Order number" in page
    assert "round robin" in page

    # Monday 2 March 2026, 09:00 in London: the delivery queue is open
    answer = await post(
        client,
        "/automation/test",
        {
            "csrf_token": csrf,
            "text": "My delivery is late\n4839201",
            "at": "2026-03-02T09:00",
        },
    )
    assert answer.status == 200
    words = text_of(await answer.text())
    assert "Sorry about that. Reply with your order number." in words
    assert "stores order_number = 4839201 on the conversation and contact" in words
    assert "Thanks - one moment while I connect you to an agent." in words
    assert "Queue delivery" in words
    assert "takes over : Order number: details collected" in words
    assert "We typically reply within 10 minutes." in words

    # Sunday: the after-hours text says when a human answers
    answer = await post(
        client,
        "/automation/test",
        {
            "csrf_token": csrf,
            "text": "Hello\n2\n4839201",
            "at": "2026-03-01T10:00",
        },
    )
    words = text_of(await answer.text())
    assert "What would happen" in words
    assert "Reply 1 for billing, 2 for delivery." in words
    assert "We're closed; we'll reply tomorrow at 8am." in words

    # each change was audited as the admin
    audit = [e.action for e in await services.audit.list(limit=50)]
    for action in (
        "automation.queue",
        "automation.flow",
        "automation.triage_option",
        "automation.routing_rule",
    ):
        assert action in audit


async def test_a_takeover_word_and_a_contact_in_the_tester(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    await build_rules(client, csrf, services)
    await services.contacts.create(
        "+447700900123", name="Vera Vip", attributes={"vip": True}, actor=TEST
    )
    answer = await post(
        client,
        "/automation/test",
        {
            "csrf_token": csrf,
            "text": "Hello\nI want a real person",
            "number": "07700 900123",
            "at": "2026-03-02T09:00",
        },
    )
    words = text_of(await answer.text())
    assert "played as Vera Vip" in words
    assert "escalated , agents notified" in words
    assert "Queue escalations" in words
    assert "Tags escalated, vip" in words
    assert "Priority high" in words


async def test_the_tester_writes_nothing(
    client: TestClient[Any, Any], services: Services, settings: Settings
) -> None:
    csrf = await sign_in(client, "admin")
    await build_rules(client, csrf, services)
    await services.contacts.create("+447700900123", name="Vera", actor=TEST)
    before = dump(settings)
    for data in (
        {"text": "My delivery is late\n4839201\nthanks", "at": "2026-03-02T09:00"},
        {"text": "2\nno idea\nstill no\nnope", "at": "2026-03-01T23:00"},
        {"text": "STOP\nhello", "number": "+447700900123"},
        {"text": "HELP", "context": "order_status = shipped"},
        {"text": "WHY IS NOTHING HAPPENING!!!"},
    ):
        answer = await post(client, "/automation/test", {"csrf_token": csrf, **data})
        assert answer.status == 200, await answer.text()
        fragment = await client.post(
            "/automation/test",
            data={"csrf_token": csrf, **data},
            headers={"X-Smsgw-Fragment": "tester"},
        )
        assert fragment.status == 200
    assert dump(settings) == before
    assert await services.messages.list(limit=10) == []


async def test_the_tester_answers_a_fragment_for_the_page_script(
    client: TestClient[Any, Any],
) -> None:
    csrf = await sign_in(client, "admin")
    headers = {"X-Smsgw-Fragment": "tester"}
    answer = await client.post(
        "/automation/test", data={"csrf_token": csrf, "text": "hi"}, headers=headers
    )
    body = await answer.text()
    assert answer.status == 200
    assert body.lstrip().startswith("{#") is False
    assert "<html" not in body
    assert 'data-region="tester-result"' in body
    assert "What would happen" in body

    refused = await client.post(
        "/automation/test",
        data={"csrf_token": csrf, "text": "hi", "at": "soon"},
        headers=headers,
    )
    assert refused.status == 400
    body = await refused.text()
    assert "<html" not in body
    assert 'data-field="at"' in body
    assert "at: a date and time such as 2026-03-02T08:30" in body


async def test_the_tester_starts_where_the_conversation_stands(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    answer = await post(
        client,
        "/automation/settings",
        {"csrf_token": csrf, "ack_text": "We typically reply within 10 minutes 🙂"},
    )
    assert answer.status == 303
    await build_rules(client, csrf, services)

    async def tested(start: str) -> str:
        answer = await client.post(
            "/automation/test",
            data={"csrf_token": csrf, "text": "hello", "start": start},
            headers={"X-Smsgw-Fragment": "tester"},  # the answer alone
        )
        assert answer.status == 200
        return text_of(await answer.text())

    assert "Reply 1 for billing, 2 for delivery." in await tested("new")
    words = await tested("open")
    assert "Reply 1 for billing" not in words
    # each text with what it costs on the air: the emoji makes it UCS-2
    assert (
        "we text (ack) · 1 SMS, UCS-2 We typically reply within 10 minutes 🙂" in words
    )
    words = await tested("agent_replied")
    assert "We typically reply" not in words
    assert "an agent replied recently: no acknowledgement" in words
    assert "Texts 0" in words


TESTER_REFUSALS = [
    ({"text": "hi", "start": "later"}, "start", "start: one of new, open, agent_"),
    ({"text": "  \n "}, "text", "text: type what the customer texts"),
    ({"text": "hi", "at": "tomorrow"}, "at", "at: a date and time"),
    ({"text": "hi", "number": "+447700900999"}, "number", "number: no contact"),
    ({"text": "hi", "number": "not a number"}, "number", "number: "),
    ({"text": "hi", "context": "shipped"}, "context", "context: line 1: write it"),
    ({"text": "\n".join(["hi"] * 21)}, "text", "text: at most 20 messages"),
]


@pytest.mark.parametrize(("data", "field", "message"), TESTER_REFUSALS)
async def test_the_tester_names_what_was_wrong(
    client: TestClient[Any, Any],
    settings: Settings,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    csrf = await sign_in(client, "admin")
    before = dump(settings)
    answer = await post(client, "/automation/test", {"csrf_token": csrf, **data})
    assert answer.status == 400
    page = await answer.text()
    assert message in page
    assert_marked(page, field, "tester")
    # what was typed is kept
    assert (data.get("text") or "").strip() in page
    assert dump(settings) == before


SELECTS = {"kind", "assignment", "priority"}  # a value not offered is not kept


def assert_marked(page: str, field: str, form: str) -> None:
    """The input named `field` is marked invalid and described by the form's error."""
    pattern = (
        rf'name="{re.escape(field)}"[^>]*aria-invalid="true" '
        rf'aria-describedby="{re.escape(form)}-error"'
    )
    assert re.search(pattern, page), f"{field} is not marked in {form}"
    assert f'id="{form}-error"' in page


# (path, form, data, the input named, the message, status); each changes nothing
REFUSALS: Sequence[tuple[str, str, dict[str, str], str, str, int]] = [
    (
        "/automation/settings",
        "settings",
        {"max_prompts": "9", "max_questions": "3"},
        "max_prompts",
        "max_prompts: a whole number from 0 to 5",
        400,
    ),
    (
        "/automation/settings",
        "settings",
        {"connecting_text": "Hi {name}", "max_questions": "3"},
        "connecting_text",
        "connecting_text: no braces",
        400,
    ),
    (
        "/automation/settings",
        "settings",
        {"escalation_queue": "Bad Queue!"},
        "escalation_queue",
        "escalation_queue: lower-case letters",
        400,
    ),
    ("/automation/triage", "triage", {"intro": "  "}, "intro", "intro: required", 400),
    (
        "/automation/triage/options",
        "option-new",
        {"key": "1 2", "label": "billing"},
        "key",
        "key: letters and digits",
        400,
    ),
    (
        "/automation/triage/options",
        "option-new",
        {"key": "3", "label": "other", "queue": "No Such Queue!"},
        "queue",
        "queue: lower-case letters",
        400,
    ),
    (
        "/automation/triage/options",
        "option-new",
        {"key": "3", "label": ""},
        "label",
        "label: required",
        400,
    ),
    (
        "/automation/triage/options",
        "option-new",
        {"key": "2", "label": "another"},
        "",
        "another triage option answers to &#39;2&#39;",
        409,
    ),
    (
        "/automation/flows",
        "flow-new",
        {
            "name": "Broken",
            "fields.1.name": "ref",
            "fields.1.prompt": "Ref?",
            "fields.1.kind": "pattern",
            "fields.1.pattern": "(unclosed",
        },
        "fields.1.pattern",
        "fields.1.pattern: not a regular expression",
        400,
    ),
    (
        "/automation/flows",
        "flow-new",
        {"name": "Empty"},
        "",
        "fields: a flow asks for at least one field",
        400,
    ),
    (
        "/automation/flows",
        "flow-new",
        {"name": "No prompt", "fields.2.name": "ref"},
        "fields.2.prompt",
        "fields.2.prompt: required",
        400,
    ),
    (
        "/automation/routing",
        "rule-new",
        {"name": "x", "kind": "colour", "value": "red", "queue": "q"},
        "kind",
        "kind: one of keyword, attribute, context",
        400,
    ),
    (
        "/automation/routing",
        "rule-new",
        {"name": "does nothing", "kind": "keyword", "value": "refund"},
        "queue",
        "queue: a rule does something",
        400,
    ),
    (
        "/automation/routing",
        "rule-new",
        {
            "name": "ctx",
            "kind": "context",
            "key": "order status!",
            "value": "x",
            "queue": "q",
        },
        "key",
        "key: a context key",
        400,
    ),
    (
        "/automation/queues",
        "queue-new",
        {"name": "night", "hours": "mon 25:00-26:00"},
        "hours",
        "hours: line 1: 25:00-26:00 is not a time of day",
        400,
    ),
    (
        "/automation/queues",
        "queue-new",
        {"name": "mars", "timezone": "Mars/Olympus_Mons"},
        "timezone",
        "timezone: an IANA time zone",
        400,
    ),
    (
        "/automation/queues",
        "queue-new",
        {"name": "hols", "holidays": "christmas"},
        "holidays",
        "holidays: line 1: a date as YYYY-MM-DD",
        400,
    ),
    (
        "/automation/queues",
        "queue-new",
        {"name": "delivery"},
        "",
        "another queue is called &#39;delivery&#39;",
        409,
    ),
    (
        "/automation/queues",
        "queue-new",
        {"name": "x", "after_hours_text": "Back {tomorrow}"},
        "after_hours_text",
        "after_hours_text: no braces, but {when}",
        400,
    ),
]


@pytest.mark.parametrize(
    ("path", "form", "data", "field", "message", "status"),
    REFUSALS,
    ids=[f"{r[1]}-{r[3] or r[4][:12]}" for r in REFUSALS],
)
async def test_a_refused_form_names_its_input_and_changes_nothing(
    client: TestClient[Any, Any],
    services: Services,
    settings: Settings,
    path: str,
    form: str,
    data: dict[str, str],
    field: str,
    message: str,
    status: int,
) -> None:
    csrf = await sign_in(client, "admin")
    await build_rules(client, csrf, services)
    before = dump(settings)
    answer = await post(client, path, {"csrf_token": csrf, **data})
    assert answer.status == status
    page = await answer.text()
    assert message in page
    if field:
        assert_marked(page, field, form)
    # the form is open again with what was typed
    assert re.search(rf'<details id="{form}"[^>]*\bopen\b', page) or form in (
        "settings",
        "triage",
    )
    for name, value in data.items():
        if value.strip() and name not in SELECTS:
            assert value.replace("'", "&#39;").replace("&", "&amp;") in page or (
                value in page
            )
    assert dump(settings) == before


async def test_editing_an_option_changes_the_menu(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    await build_rules(client, csrf, services)
    option = (await services.automation.view()).snapshot.triage_options[0]
    answer = await post(
        client,
        f"/automation/triage/options/{option.id}",
        {"csrf_token": csrf, "key": "B", "label": "invoices", "queue": "billing"},
    )
    assert answer.status == 303
    assert answer.headers["Location"] == (
        f"/automation?saved=option-{option.id}#option-{option.id}"
    )
    page = await (await client.get(answer.headers["Location"])).text()
    assert "Reply B for invoices, 2 for delivery." in page
    assert re.search(rf'<details id="option-{option.id}" open>', page)
    assert '<p class="success" role="status">Saved.</p>' in page

    answer = await post(
        client, "/automation/triage", {"csrf_token": csrf, "intro": "Hi there!"}
    )
    assert answer.status == 303
    view = await services.automation.view()
    assert (view.triage_intro, view.triage_ask) == ("Hi there!", False)

    deleted = await post(
        client, f"/automation/triage/options/{option.id}/delete", {"csrf_token": csrf}
    )
    assert deleted.status == 303
    page = await (await client.get("/automation")).text()
    assert "Reply 2 for delivery." in page
    missing = await post(
        client, f"/automation/triage/options/{option.id}/delete", {"csrf_token": csrf}
    )
    assert missing.status == 404


async def test_flows_rules_and_queues_are_edited_and_deleted(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    await build_rules(client, csrf, services)
    view = await services.automation.view()
    flow, rule = view.snapshot.flows[0], view.snapshot.routing[0]
    queue = view.snapshot.queues[0]

    # a second detail added in the flow's spare row
    answer = await post(
        client,
        f"/automation/flows/{flow.id}",
        {
            "csrf_token": csrf,
            "name": "Order number",
            "fields.1.name": "order_number",
            "fields.1.prompt": "Your order number?",
            "fields.1.kind": "pattern",
            "fields.1.pattern": ORDER_PATTERN,
            "fields.2.name": "address_ok",
            "fields.2.label": "address",
            "fields.2.prompt": "Is the address on the order right? (yes/no)",
            "fields.2.kind": "yes_no",
            "done_text": "Thanks - an agent will check your order now.",
        },
    )
    assert answer.status == 303
    saved = await services.automation.get_flow(flow.id)
    assert [f.name for f in saved.fields] == ["order_number", "address_ok"]
    assert [f.save_to_contact for f in saved.fields] == [False, False]

    answer = await post(
        client,
        f"/automation/routing/{rule.id}",
        {
            "csrf_token": csrf,
            "name": "Refunds",
            "kind": "keyword",
            "value": "refund, money back",
            "queue": "billing",
            "position": "1",
        },
    )
    assert answer.status == 303
    rules = (await services.automation.view()).snapshot.routing
    assert [(r.name, r.value, r.queue) for r in rules] == [
        ("Refunds", "refund, money back", "billing")
    ]

    answer = await post(
        client,
        f"/automation/queues/{queue.id}",
        [
            ("csrf_token", csrf),
            ("name", "delivery"),
            ("assignment", "least_busy"),
            ("hours", "mon-fri 9:00-17:00\nsat 10:00-12:00"),
        ],
    )
    assert answer.status == 303
    stored = await services.automation.get_queue(queue.id)
    assert (stored.assignment, stored.members) == ("least_busy", ())
    assert stored.hours == "mon-fri 09:00-17:00\nsat 10:00-12:00\nsun closed"

    for path in (
        f"/automation/flows/{flow.id}/delete",
        f"/automation/routing/{rule.id}/delete",
        f"/automation/queues/{queue.id}/delete",
    ):
        assert (await post(client, path, {"csrf_token": csrf})).status == 303
    view = await services.automation.view()
    assert (view.snapshot.flows, view.snapshot.routing, view.snapshot.queues) == (
        (),
        (),
        (),
    )
    # the option that ran the flow now hands over
    page = await (await client.get("/automation")).text()
    assert "hands over" in page


async def test_settings_override_the_ini_until_reset(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    answer = await post(
        client,
        "/automation/settings",
        {
            "csrf_token": csrf,
            "max_prompts": "1",
            "takeover_words": "agent, human, manager",
            "sticky_agent": "no",
            "max_questions": "6",  # the ini's value: no override
        },
    )
    assert answer.status == 303
    page = await (await client.get("/automation")).text()
    assert 'name="max_prompts" value="1"' in page
    assert page.count("changed</span>") == 3
    assert "Default: <code>2</code>" in page
    assert "asked again at most <strong>1</strong> times" in page

    answer = await post(
        client,
        "/automation/test",
        {"csrf_token": csrf, "text": "I need a manager"},
    )
    assert "takeover word" in text_of(await answer.text())

    answer = await post(client, "/automation/settings/reset", {"csrf_token": csrf})
    assert answer.status == 303
    page = await (await client.get("/automation")).text()
    assert 'name="max_prompts" value="2"' in page
    assert "changed</span>" not in page
    audit = [e.action for e in await services.audit.list(limit=10)]
    assert audit.count("automation.settings") == 2


async def test_untrusted_text_stays_text(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    hostile = " ".join(PAYLOADS)
    answers = [
        await post(
            client,
            "/automation/triage/options",
            {"csrf_token": csrf, "key": "1", "label": SCRIPT[:60], "keywords": SCRIPT},
        ),
        await post(
            client,
            "/automation/queues",
            {"csrf_token": csrf, "name": "q", "description": hostile[:200]},
        ),
    ]
    assert [a.status for a in answers] == [303, 303]
    await services.auth.add_user(
        "mallory",
        "correct horse battery",
        role="agent",
        display_name=SCRIPT,
        actor="test",
    )
    page = await (await client.get("/automation")).text()
    tested = await post(
        client, "/automation/test", {"csrf_token": csrf, "text": hostile}
    )
    refused = await post(
        client, "/automation/triage", {"csrf_token": csrf, "intro": "{" + SCRIPT}
    )
    for body in (page, await tested.text(), await refused.text()):
        assert SCRIPT not in body
        assert "<img src=x" not in body
        assert "<svg onload" not in body
        assert ESCAPED_SCRIPT in body


async def test_an_agent_sets_themselves_away_and_back(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "agent")
    page = await (await client.get("/")).text()
    assert 'data-away="no"' in page
    assert "Set away" in page
    answer = await post(
        client,
        "/me/availability",
        {"csrf_token": csrf, "away": "yes", "next": "/?status=all"},
    )
    assert answer.status == 303
    assert answer.headers["Location"] == "/?status=all"
    agent = await user_id(services, "agent")
    assert await services.automation.is_away(agent)
    page = await (await client.get("/")).text()
    assert 'data-away="yes"' in page
    assert "I&#39;m back" in page

    # another site is never the way back; a bad value changes nothing
    answer = await post(
        client,
        "/me/availability",
        {"csrf_token": csrf, "away": "no", "next": "//evil.example/"},
    )
    assert answer.headers["Location"] == "/"
    assert not await services.automation.is_away(agent)
    refused = await post(client, "/me/availability", {"csrf_token": csrf, "away": "x"})
    assert refused.status == 400
    assert "away: yes or no" in await refused.text()
    assert not await services.automation.is_away(agent)
    without = await post(client, "/me/availability", {"away": "yes"})
    assert without.status == 403
    assert not await services.automation.is_away(agent)

    await post(client, "/me/availability", {"csrf_token": csrf, "away": "yes"})
    await sign_in(client, "admin")
    page = await (await client.get("/automation")).text()
    agents = page[page.index('id="agents"') :]
    assert re.search(r"agent</span>\s*<span class=\"badge badge-pending\">away", agents)
    audit = [e.action for e in await services.audit.list(limit=10)]
    assert "automation.away" in audit
    assert "automation.available" in audit
