"""The notification API over real services: a notification with reply options, a
template, a schedule and an idempotency key; listing and reading back; each answer
checked against the OpenAPI document, every notification operation with a success
and an error."""

from __future__ import annotations

from apihelpers import CUSTOMER, CheckedClient
from webhelpers import T0, assert_error_shape

from gateway.domain import ConsentSource
from gateway.services import Services
from web.api import template_docs

NOTIFICATIONS = "/api/v1/notifications"
NOTICE = {
    "to": "07700 900123",
    "body": "Your technician comes Tuesday 10:00. Reply 1 to confirm, 2 to reschedule.",
    "context": {"appointment_id": "APT-77"},
    "reply_options": {
        "1": {"value": "confirm", "reply": "See you {{ context.appointment_id }}."},
        "2": {"value": "reschedule", "action": "handover", "queue": "bookings"},
    },
    "ttl_s": 3600,
}


async def test_a_notification_is_queued_and_read_back(
    agent: CheckedClient, services: Services
) -> None:
    made = await agent.post(
        NOTIFICATIONS, json=NOTICE, headers={"Idempotency-Key": "k1"}
    )
    assert made.status == 201
    sent = await made.json()
    assert made.headers["Location"] == f"{NOTIFICATIONS}/{sent['id']}"
    assert sent["to"] == CUSTOMER
    assert sent["status"] == "queued"
    assert sent["context"] == {"appointment_id": "APT-77"}
    assert [o["key"] for o in sent["reply_options"]] == ["1", "2"]
    assert sent["reply_options"][0]["reply"] == "See you APT-77."  # rendered now
    assert sent["reply_options"][1]["action"] == "handover"
    assert sent["selected"] is None
    assert sent["expires_at"] == "2026-03-01T10:00:00Z"  # 09:00 is day in London
    assert sent["send_after"] == "2026-03-01T09:00:00Z"
    assert "Europe/London" in sent["timezones"]
    assert sent["message"]["context"] == {"appointment_id": "APT-77"}
    again = await agent.post(
        NOTIFICATIONS, json=NOTICE, headers={"Idempotency-Key": "k1"}
    )
    assert again.status == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["id"] == sent["id"]
    got = await (await agent.get(f"{NOTIFICATIONS}/{sent['id']}")).json()
    assert got == sent

    later = await agent.post(
        NOTIFICATIONS,
        json={
            "to": CUSTOMER,
            "body": "Reminder",
            "scheduled_at": "2026-03-01T23:30:00+00:00",
        },
    )
    reminder = await later.json()
    assert reminder["reply_options"] == []
    assert reminder["expires_at"] is None
    assert reminder["scheduled_at"] == "2026-03-01T23:30:00Z"
    assert reminder["send_after"] == "2026-03-02T08:00:00Z"  # quiet hours in London

    first = await (await agent.get(f"{NOTIFICATIONS}?limit=1&to={CUSTOMER}")).json()
    assert [n["id"] for n in first["data"]] == [reminder["id"]]
    assert first["has_more"]
    rest = await (
        await agent.get(
            f"{NOTIFICATIONS}?limit=1&to={CUSTOMER}&cursor={first['next_cursor']}"
        )
    ).json()
    assert [n["id"] for n in rest["data"]] == [sent["id"]]


async def test_notifications_are_refused_before_anything_is_sent(
    agent: CheckedClient, api: CheckedClient, services: Services
) -> None:
    await api.post(
        "/api/v1/templates",
        json={"name": "Appt", "shortcut": "appt", "body": "See you {{ context.when }}"},
    )
    cases = [
        ({**NOTICE, "template": "appt"}, "invalid_input", "body"),
        ({"to": CUSTOMER, "template": "appt"}, "template_variable_missing", "body"),
        (
            {"to": CUSTOMER, "body": "x", "reply_options": {"STOP": "x"}},
            "invalid_input",
            "reply_options.STOP",
        ),
        (
            {
                "to": CUSTOMER,
                "body": "x",
                "reply_options": {"1": "a", "2": {"value": "A"}},
            },
            "invalid_input",
            "reply_options.2",
        ),
        (
            {
                **NOTICE,
                "reply_options": {"1": {"value": "x", "reply": "{{ context.nope }}"}},
            },
            "template_variable_missing",
            "reply_options.1.reply",
        ),
        (
            {**NOTICE, "expires_at": "2026-03-01T08:00:00Z", "ttl_s": None},
            "invalid_input",
            "ttl_s",
        ),
        (
            {"to": CUSTOMER, "body": "x", "scheduled_at": "tomorrow"},
            "invalid_input",
            "scheduled_at",
        ),
        (
            {"to": CUSTOMER, "body": "x", "scheduled_at": "2026-03-01T08:00:00"},
            "invalid_input",
            "scheduled_at",
        ),
    ]
    for body, code, field in cases:
        response = await agent.post(NOTIFICATIONS, json=body)
        await assert_error_shape(response, 400, code, field)
    assert (await services.messages.list(_everything(), limit=10)) == []


def _everything() -> object:
    from gateway.messages.records import MessageFilter

    return MessageFilter()


async def test_every_notification_operation_answers_as_documented(
    agent: CheckedClient, services: Services
) -> None:
    await services.compliance.set_consent(
        "+447700900999", opted_out=True, source=ConsentSource.API, actor="test"
    )
    sent = await (await agent.post(NOTIFICATIONS, json=NOTICE)).json()
    successes = [
        (NOTIFICATIONS, "POST", {"json": {"to": CUSTOMER, "body": "hello"}}),
        (NOTIFICATIONS, "GET", {}),
        (f"{NOTIFICATIONS}/{sent['id']}", "GET", {}),
    ]
    errors = [
        (
            NOTIFICATIONS,
            "POST",
            {"json": {"to": "+447700900999", "body": "x"}},
            409,
            "opted_out",
            None,
        ),
        (
            NOTIFICATIONS,
            "POST",
            {"json": {"to": CUSTOMER, "template": "nope"}},
            404,
            "not_found",
            None,
        ),
        (f"{NOTIFICATIONS}?limit=0", "GET", {}, 400, "invalid_input", "limit"),
        (f"{NOTIFICATIONS}/999", "GET", {}, 404, "not_found", None),
    ]
    for path, method, kwargs in successes:
        response = await agent.request(method, path, **kwargs)
        assert response.status < 300, (method, path, await response.text())
    for path, method, kwargs, status, code, field in errors:
        response = await agent.request(method, path, **kwargs)
        await assert_error_shape(response, status, code, field)
    for op in template_docs.OPERATIONS:
        if op.tag != "notifications":
            continue
        name = f"{op.method} {op.path}"
        statuses = {status for operation, status in agent.seen if operation == name}
        assert any(s < 300 for s in statuses), f"{name}: no success checked"
        assert any(s >= 400 for s in statuses), f"{name}: no error checked"


assert T0.hour == 9  # the tests above count on daytime in London
