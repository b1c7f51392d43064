"""The durable webhook outbox: an event is recorded iff the change it reports commits,
once per subscribed active endpoint, a later event of a conversation is never due
before the earlier one, and a claimed delivery is leased to one node until its attempt
is recorded or the lease runs out."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.config import Settings
from gateway.domain import NumberKind, WebhookStatus
from gateway.storage import migrations, queries, webhook_queries
from gateway.storage.db import Store, open_database
from gateway.storage.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from gateway.webhooks import policy
from gateway.webhooks.records import AttemptResult

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def add_endpoint(events: list[str] | None = None, *, active: bool = True) -> int:
    """ON THE DB THREAD: a bare endpoint row (the service adds validation)."""
    row = WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook",
        secret="whsec_" + "A" * 44,
        events=events or [],
        active=active,
        created_at=T0,
        updated_at=T0,
    )
    return int(row.id)


def deliveries() -> list[tuple[int, str, str | None, str, datetime]]:
    return [
        (d.endpoint_id, d.event_type, d.ordering_key, d.status.value, d.next_attempt_at)
        for d in WebhookDelivery.select().order_by(WebhookDelivery.id)
    ]


def counts() -> tuple[int, int]:
    return WebhookEvent.select().count(), WebhookDelivery.select().count()


async def test_one_event_row_and_one_delivery_per_subscribed_active_endpoint(
    store: Store,
) -> None:
    every = await store.run(add_endpoint)
    statuses = await store.run(add_endpoint, ["message.status"])
    await store.run(add_endpoint, [], active=False)
    event_id = await store.run(
        webhook_queries.record_event,
        "message.received",
        {"x": 1},
        conversation_id=7,
        now=T0,
    )
    assert event_id is not None
    assert event_id.startswith("evt_")
    assert await store.run(deliveries) == [
        (every, "message.received", "conversation:7", "pending", T0)
    ]
    await store.run(
        webhook_queries.record_event, "message.status", {}, conversation_id=7, now=T0
    )
    assert [d[0] for d in (await store.run(deliveries))[1:]] == [every, statuses]
    assert await store.run(counts) == (2, 3)


async def test_nobody_subscribed_writes_nothing(store: Store) -> None:
    await store.run(add_endpoint, ["contact.opted_out"])
    assert (
        await store.run(
            webhook_queries.record_event,
            "message.received",
            {},
            conversation_id=None,
            now=T0,
        )
        is None
    )
    assert await store.run(counts) == (0, 0)


def _change_then_fail(number: str) -> None:
    """A unit that makes a change, records its event, then fails."""
    contact = queries.upsert_contact(number, NumberKind.E164, now=T0)
    webhook_queries.record_event(
        "conversation.created", {"id": contact.id}, conversation_id=1, now=T0
    )
    raise RuntimeError("the unit fails after record_event")


def _change(number: str) -> None:
    contact = queries.upsert_contact(number, NumberKind.E164, now=T0)
    webhook_queries.record_event(
        "conversation.created", {"id": contact.id}, conversation_id=1, now=T0
    )


async def test_an_event_is_recorded_iff_its_change_commits(store: Store) -> None:
    await store.run(add_endpoint)
    with pytest.raises(RuntimeError, match="after record_event"):
        await store.run(_change_then_fail, "+447700900123")
    assert await store.run(counts) == (0, 0)
    assert await store.run(queries.find_contact, "+447700900123") is None
    # The same unit, in a group commit beside a failing one, commits alone.
    await store.run(_change, "+447700900456")
    assert await store.run(counts) == (1, 1)


async def test_a_later_event_of_a_conversation_is_never_due_before_the_earlier_one(
    store: Store,
) -> None:
    endpoint = await store.run(add_endpoint)
    await store.run(
        webhook_queries.record_event, "a", {}, conversation_id=1, now=T0
    )  # the head
    later = T0 + timedelta(hours=1)

    def back_off() -> None:
        WebhookDelivery.update(next_attempt_at=later).execute()

    await store.run(back_off)
    for conversation in (1, 2, None):
        await store.run(
            webhook_queries.record_event,
            "b",
            {},
            conversation_id=conversation,
            now=T0 + timedelta(seconds=1),
        )
    rows = await store.run(deliveries)
    assert [(r[2], r[4]) for r in rows] == [
        ("conversation:1", later),
        ("conversation:1", later),  # behind its head
        ("conversation:2", T0 + timedelta(seconds=1)),
        (None, T0 + timedelta(seconds=1)),
    ]
    assert {r[0] for r in rows} == {endpoint}
    assert {r[3] for r in rows} == {WebhookStatus.PENDING.value}


LEASE_S = 40.0
RETRY = policy.RetryPolicy(
    base_s=10.0, max_s=60.0, max_age_s=3600.0, max_rejected_attempts=3
)


def leases() -> list[tuple[str | None, datetime | None]]:
    return [
        (d.claimed_by, d.claimed_until)
        for d in WebhookDelivery.select().order_by(WebhookDelivery.id)
    ]


def _ids() -> list[int]:
    return [d.id for d in WebhookDelivery.select().order_by(WebhookDelivery.id)]


async def _queue(store: Store, n: int, conversation: int | None = None) -> None:
    """`n` events for the one endpoint (added with the first)."""
    if not await store.run(lambda: WebhookEndpoint.select().count()):
        await store.run(add_endpoint)
    for _ in range(n):
        await store.run(
            webhook_queries.record_event,
            "a",
            {},
            conversation_id=conversation,
            now=T0,
        )


async def _claim(store: Store, node: str, at: datetime) -> list[int]:
    claimed = await store.run(
        webhook_queries.claim_due, now=at, limit=10, node=node, lease_s=LEASE_S
    )
    return [c.delivery_id for c in claimed]


async def _record(store: Store, delivery_id: int, status: int, at: datetime) -> Any:
    return await store.run(
        webhook_queries.record_attempt,
        delivery_id,
        AttemptResult(status, None, None, 5),
        now=at,
        retry=RETRY,
        jitter=0.5,
    )


async def test_a_claim_leases_its_deliveries_to_its_node_until_the_attempt_is_recorded(
    store: Store,
) -> None:
    await _queue(store, 2)
    first, second = await _claim(store, "a", T0)
    until = T0 + timedelta(seconds=LEASE_S)
    assert await store.run(leases) == [("a", until), ("a", until)]
    # under a live lease: no node takes them, the one holding them included
    assert await _claim(store, "b", T0 + timedelta(seconds=1)) == []
    assert await _claim(store, "a", T0 + timedelta(seconds=1)) == []

    delivered = await _record(store, first, 204, T0 + timedelta(seconds=1))
    retry = await _record(store, second, 503, T0 + timedelta(seconds=1))
    assert delivered.outcome is policy.Outcome.DELIVERED
    assert retry.outcome is policy.Outcome.RETRY
    assert await store.run(leases) == [(None, None), (None, None)]
    # the failed one is anyone's again at its retry time, long before the lease ran out
    assert retry.next_attempt_at < until
    assert await _claim(store, "b", retry.next_attempt_at) == [second]


async def test_an_expired_lease_is_claimed_again_by_another_node(
    store: Store,
) -> None:
    # the second is behind the first: it waits for it, on every node
    await _queue(store, 2, conversation=1)
    head = (await store.run(_ids))[0]
    assert await _claim(store, "a", T0) == [head]  # then node a dies mid-request
    expiry = T0 + timedelta(seconds=LEASE_S)
    assert await _claim(store, "b", expiry - timedelta(seconds=1)) == []
    (claimed,) = await store.run(
        webhook_queries.claim_due, now=expiry, limit=10, node="b", lease_s=LEASE_S
    )
    assert claimed.delivery_id == head
    assert claimed.expired_lease_of == "a"
    assert (await store.run(leases))[0] == ("b", expiry + timedelta(seconds=LEASE_S))


async def test_release_claims_frees_the_leases_of_one_node_only(store: Store) -> None:
    await _queue(store, 1)
    assert len(await _claim(store, "a", T0)) == 1
    await _queue(store, 1)
    assert len(await _claim(store, "b", T0)) == 1
    # node a starts again: what its previous run held is due at once, b's is b's
    assert await store.run(webhook_queries.release_claims, "a") == 1
    until = T0 + timedelta(seconds=LEASE_S)
    assert await store.run(leases) == [(None, None), ("b", until)]
    first = (await store.run(_ids))[0]
    assert await _claim(store, "a", T0 + timedelta(seconds=1)) == [first]
    assert await store.run(webhook_queries.release_claims, "c") == 0


async def test_a_delivery_dead_lettered_under_way_loses_its_lease(
    store: Store,
) -> None:
    endpoint = await store.run(add_endpoint)
    await store.run(webhook_queries.record_event, "a", {}, conversation_id=1, now=T0)
    (delivery,) = await _claim(store, "a", T0)

    def disable() -> None:
        WebhookEndpoint.update(active=False).where(
            WebhookEndpoint.id == endpoint
        ).execute()

    await store.run(disable)
    done = await store.run(
        webhook_queries.housekeep,
        now=T0 + timedelta(seconds=10),
        max_age_s=5.0,
        retention_s=86400.0,
    )
    assert done.dead == 1
    assert await store.run(leases) == [(None, None)]
    assert await _record(store, delivery, 204, T0 + timedelta(seconds=11)) is None


def _schema(path: str) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        ).fetchall()
    return {(name, sql) for name, sql in rows}


# The webhook tables as schema version 3 had them (placeholders nothing wrote).
_V3_WEBHOOK_SQL = (
    'CREATE TABLE "webhook_endpoints" ("id" INTEGER NOT NULL PRIMARY KEY, "url" TEXT '
    'NOT NULL, "secret" TEXT NOT NULL, "events" TEXT NOT NULL, "active" INTEGER NOT '
    'NULL, "description" TEXT, "created_at" DATETIME NOT NULL, "updated_at" DATETIME '
    "NOT NULL)",
    'CREATE TABLE "webhook_deliveries" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"endpoint_id" INTEGER NOT NULL, "event_id" TEXT NOT NULL, "event_type" TEXT NOT '
    'NULL, "payload" TEXT NOT NULL, "ordering_key" TEXT, "status" TEXT NOT NULL, '
    '"attempts" INTEGER NOT NULL, "next_attempt_at" DATETIME NOT NULL, '
    '"last_attempt_at" DATETIME, "last_status_code" INTEGER, "last_error" TEXT, '
    '"created_at" DATETIME NOT NULL, "delivered_at" DATETIME, FOREIGN KEY '
    '("endpoint_id") REFERENCES "webhook_endpoints" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "webhook_deliveries_endpoint_id" ON "webhook_deliveries" '
    '("endpoint_id")',
    'CREATE UNIQUE INDEX "webhook_deliveries_endpoint_id_event_id" ON '
    '"webhook_deliveries" ("endpoint_id", "event_id")',
    'CREATE INDEX "webhook_deliveries_status_next_attempt_at" ON "webhook_deliveries" '
    '("status", "next_attempt_at")',
    'CREATE INDEX "webhook_deliveries_endpoint_id_ordering_key_id" ON '
    '"webhook_deliveries" ("endpoint_id", "ordering_key", "id")',
    'CREATE TABLE "webhook_attempts" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"delivery_id" INTEGER NOT NULL, "at" DATETIME NOT NULL, "status_code" INTEGER, '
    '"error" TEXT, "duration_ms" INTEGER NOT NULL, FOREIGN KEY ("delivery_id") '
    'REFERENCES "webhook_deliveries" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "webhook_attempts_delivery_id" ON "webhook_attempts" ("delivery_id")',
    'CREATE INDEX "webhook_attempts_delivery_id_at" ON "webhook_attempts" '
    '("delivery_id", "at")',
)


@pytest.mark.sqlite_only
async def test_version_3_files_get_the_webhook_tables_as_new_files_have_them(
    settings: Settings, tmp_path: Any
) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)
    fresh = _schema(path)
    with sqlite3.connect(path) as raw:
        for table in (
            "webhook_attempts",
            "webhook_deliveries",
            "webhook_events",
            "webhook_endpoints",
        ):
            raw.execute(f'DROP TABLE "{table}"')
        for statement in _V3_WEBHOOK_SQL:
            raw.execute(statement)
        raw.execute("PRAGMA user_version = 3")
    store = await open_database(settings)
    await store.close()
    assert store.schema_version == len(migrations.STEPS)
    assert _schema(path) == fresh
