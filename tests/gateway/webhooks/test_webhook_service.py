"""WebhookService: endpoint URLs and event types validated, changes audited, the secret
shown once, deliveries listed by endpoint, status and type, replay refused while pending."""

from __future__ import annotations

import pytest

from gateway.domain import WebhookStatus, utcnow
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.storage import queries, webhook_queries
from gateway.storage.db import Store
from gateway.webhooks import signing
from gateway.webhooks.service import WebhookService, check_url


@pytest.fixture
def service(store: Store, settings: object) -> WebhookService:
    return WebhookService(store, settings.webhooks)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example.com/hooks/sms",
        "http://10.0.0.5:8080/in?token=abc",
        "https://[2001:db8::1]/x",
        "  https://padded.example/  ",
    ],
)
def test_http_and_https_urls_are_taken(url: str) -> None:
    assert check_url(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "required"),
        ("ftp://example.com/x", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("https:///path", "host"),
        ("https://user:pass@example.com/", "no user name or password"),
        ("https://token@example.com/", "no user name or password"),
        ("https://example.com/#frag", "fragment"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "no spaces"),
        ("https://example.com/\x00", "control"),
        ("https://example.com/" + "a" * 2000, "at most 2000"),
    ],
)
def test_other_urls_are_refused_naming_the_field(url: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason) as info:
        check_url(url)
    assert info.value.field == "url"


async def test_an_endpoint_is_created_with_a_secret_shown_once_and_audited(
    service: WebhookService, store: Store
) -> None:
    made = await service.create_endpoint(
        "https://crm.example.com/hooks",
        description="  CRM  ",
        events=["message.received", "contact.opted_out", "message.received"],
        actor="user:admin",
    )
    assert signing.secret_key(made.secret)
    assert made.secret not in repr(made)
    endpoint = made.endpoint
    assert endpoint.description == "CRM"
    assert endpoint.events == ("contact.opted_out", "message.received")
    assert endpoint.secret_hint == made.secret[:10] + "…"
    assert endpoint.kind == "standard"
    assert (await service.list_endpoints()) == [endpoint]
    audit = await store.run(
        queries.list_audit, subject=f"webhook_endpoint:{endpoint.id}"
    )
    assert [(a.actor, a.action) for a in audit] == [
        ("user:admin", "webhook.endpoint.create")
    ]
    assert made.secret not in repr(audit)


async def test_unknown_event_types_are_refused(service: WebhookService) -> None:
    with pytest.raises(InvalidInput, match="unknown event type") as info:
        await service.create_endpoint(
            "https://x.example/", events=["message.sent"], actor="t"
        )
    assert info.value.field == "events"


async def test_update_changes_what_is_given_and_clears_a_description(
    service: WebhookService, store: Store
) -> None:
    made = await service.create_endpoint(
        "https://x.example/", description="old", actor="t"
    )
    endpoint_id = made.endpoint.id
    same = await service.update_endpoint(endpoint_id, actor="t")
    assert same == made.endpoint
    changed = await service.update_endpoint(
        endpoint_id,
        url="https://y.example/in",
        description="",
        events=["message.status"],
        active=False,
        actor="user:bob",
    )
    assert (changed.url, changed.description, changed.events, changed.active) == (
        "https://y.example/in",
        None,
        ("message.status",),
        False,
    )
    audit = await store.run(
        queries.list_audit, subject=f"webhook_endpoint:{endpoint_id}"
    )
    assert audit[0].action == "webhook.endpoint.update"
    assert audit[0].detail["changed"] == ["url", "description", "events", "active"]
    with pytest.raises(NotFound):
        await service.update_endpoint(999, active=True, actor="t")


async def test_rotating_makes_a_new_secret_and_deleting_removes_deliveries(
    service: WebhookService, store: Store
) -> None:
    made = await service.create_endpoint("https://x.example/", actor="t")
    rotated = await service.rotate_secret(made.endpoint.id, actor="t")
    assert rotated.secret != made.secret
    assert rotated.endpoint.rotating_until is not None
    await store.run(
        webhook_queries.record_event,
        "message.received",
        {},
        conversation_id=1,
        now=utcnow(),
    )
    assert len(await service.list_deliveries()) == 1
    await service.delete_endpoint(made.endpoint.id, actor="t")
    assert await service.list_deliveries() == []
    assert await service.list_endpoints() == []
    with pytest.raises(NotFound):
        await service.get_endpoint(made.endpoint.id)


async def test_deliveries_are_listed_newest_first_with_filters(
    service: WebhookService, store: Store
) -> None:
    one = (await service.create_endpoint("https://one.example/", actor="t")).endpoint
    two = (
        await service.create_endpoint(
            "https://two.example/", events=["message.status"], actor="t"
        )
    ).endpoint
    for event_type in ("message.received", "message.status", "message.status"):
        await store.run(
            webhook_queries.record_event,
            event_type,
            {},
            conversation_id=1,
            now=utcnow(),
        )
    everything = await service.list_deliveries()
    assert [d.id for d in everything] == sorted(
        (d.id for d in everything), reverse=True
    )
    assert len(everything) == 5
    assert len(await service.list_deliveries(endpoint_id=two.id)) == 2
    assert len(await service.list_deliveries(event_type="message.received")) == 1
    assert len(await service.list_deliveries(endpoint_id=one.id, status="pending")) == 3
    assert await service.list_deliveries(status="delivered") == []
    page = await service.list_deliveries(limit=2)
    older = await service.list_deliveries(limit=2, before_id=page[-1].id)
    assert [d.id for d in page + older] == [d.id for d in everything[:4]]
    with pytest.raises(InvalidInput, match="one of pending, delivered, dead"):
        await service.list_deliveries(status="lost")
    with pytest.raises(InvalidInput):
        await service.list_deliveries(limit=0)


async def test_replay_is_refused_while_pending_and_unknown_ids_are_not_found(
    service: WebhookService, store: Store
) -> None:
    await service.create_endpoint("https://one.example/", actor="t")
    await store.run(
        webhook_queries.record_event,
        "message.received",
        {},
        conversation_id=1,
        now=utcnow(),
    )
    (delivery,) = await service.list_deliveries()
    assert delivery.status is WebhookStatus.PENDING
    with pytest.raises(Conflict, match="still pending"):
        await service.replay(delivery.id, actor="t")
    with pytest.raises(NotFound):
        await service.replay(999, actor="t")
    with pytest.raises(NotFound):
        await service.get_delivery(999)
    with pytest.raises(NotFound):
        await service.send_test(999, actor="t")
