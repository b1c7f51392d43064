"""Two nodes on one PostgreSQL database claim from one outbound queue: every part is
claimed exactly once. Run by the PostgreSQL pass (SMSGW_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os

import pytest
from storehelpers import T0

from gateway.config import Settings
from gateway.storage import queries
from gateway.storage.db import Store, open_database
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
