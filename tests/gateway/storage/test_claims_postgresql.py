"""Two nodes on one PostgreSQL database claim from one outbound queue and one webhook
outbox: every part and every delivery is claimed exactly once. Run by the PostgreSQL pass
(SMSGW_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os

import pytest
from storehelpers import T0

from gateway.config import Settings
from gateway.storage import queries, webhook_queries
from gateway.storage.db import Store, open_database
from gateway.storage.models import WebhookEndpoint
from gateway.webhooks import policy
from gateway.webhooks.records import AttemptResult
from tests.pgtest import TEST_DATABASE_URL_ENV

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_URL_ENV),
    reason=f"PostgreSQL only: set {TEST_DATABASE_URL_ENV}",
)

MESSAGES = 30
PARTS = 2


async def _claim_all(store: Store, modem: str) -> list[int]:
    """Claim and accept parts for `modem` until the queue is empty; the part ids."""
    taken = []
    while (
        claimed := await store.run(queries.claim_next_outbound, modem, now=T0)
    ) is not None:
        await store.run(
            queries.mark_part_accepted, claimed.part.id, reference=0, now=T0
        )
        taken.append(claimed.part.id)
    return taken


async def test_two_nodes_never_claim_the_same_part(settings: Settings) -> None:
    first, second = await open_database(settings), await open_database(settings)
    try:
        for i in range(MESSAGES):
            await first.run(
                queries.enqueue_outbound,
                number=f"+4477009{i:05d}",
                body="Your order shipped",
                encoding="gsm7",
                parts_count=PARTS,
                now=T0,
            )
        # each node with two modems of its own, all claiming at once
        runs = await asyncio.gather(
            _claim_all(first, "a1"),
            _claim_all(first, "a2"),
            _claim_all(second, "b1"),
            _claim_all(second, "b2"),
        )
        claimed = [part for run in runs for part in run]
        assert len(claimed) == MESSAGES * PARTS
        assert len(set(claimed)) == len(claimed)  # none twice
        assert sum(1 for run in runs if run) >= 2  # both nodes really took part
    finally:
        await first.close()
        await second.close()


UNORDERED = 30
CONVERSATIONS = 3
PER_CONVERSATION = 5
RETRY = policy.RetryPolicy(
    base_s=10.0, max_s=60.0, max_age_s=3600.0, max_rejected_attempts=3
)


def _outbox() -> None:
    """ON THE DB THREAD: an endpoint and its deliveries, unordered and per conversation."""
    WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook",
        secret="whsec_" + "A" * 44,
        events=[],
        active=True,
        created_at=T0,
        updated_at=T0,
    )
    for _ in range(UNORDERED):
        webhook_queries.record_event("a", {}, conversation_id=None, now=T0)
    for _ in range(PER_CONVERSATION):
        for conversation in range(1, CONVERSATIONS + 1):
            webhook_queries.record_event("a", {}, conversation_id=conversation, now=T0)


async def _send_all(store: Store, node: str) -> list[int]:
    """Claim deliveries as `node` and record each delivered until none is left for it;
    the delivery ids."""
    sent = []
    while claimed := await store.run(
        webhook_queries.claim_due, now=T0, limit=3, node=node, lease_s=40.0
    ):
        for delivery in claimed:
            await store.run(
                webhook_queries.record_attempt,
                delivery.delivery_id,
                AttemptResult(204, None, None, 1),
                now=T0,
                retry=RETRY,
                jitter=0.5,
            )
            sent.append(delivery.delivery_id)
    return sent


async def test_two_nodes_never_claim_the_same_webhook_delivery(
    settings: Settings,
) -> None:
    first, second = await open_database(settings), await open_database(settings)
    try:
        await first.run(_outbox)
        # each node with two claimers, all four at once
        runs = await asyncio.gather(
            _send_all(first, "a"),
            _send_all(first, "a"),
            _send_all(second, "b"),
            _send_all(second, "b"),
        )
        sent = [delivery for run in runs for delivery in run]
        assert len(sent) == UNORDERED + CONVERSATIONS * PER_CONVERSATION
        assert len(set(sent)) == len(sent)  # none twice
        assert runs[0] + runs[1]  # both nodes really took part
        assert runs[2] + runs[3]
    finally:
        await first.close()
        await second.close()
