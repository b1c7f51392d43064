"""100 concurrent sends racing a STOP: nothing reaches the phone after the STOP is
committed, but its one confirmation (real driver, simulated modem and phone)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.domain import MessageRecord, PartStatus
from gateway.errors import OptedOut
from gateway.outbox import pacing
from gateway.storage import queries
from tests.gateway.gwhelpers import CUSTOMER, eventually, rig

SENDS = 100
FAST = "[outbound]\nparts_per_minute = 600\n"


async def test_nothing_reaches_the_phone_after_the_stop_is_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "PACING_BURST_PARTS", 1000)  # the race, not the pacing
    async with rig(tmp_path, FAST) as r:
        send = r.services.outbound.send

        async def attempt(i: int) -> MessageRecord | OptedOut:
            try:
                return await send(CUSTOMER, f"update {i}")
            except OptedOut as exc:
                return exc

        waves = (range(40), range(40, 80), range(80, SENDS))
        tasks = [asyncio.create_task(attempt(i)) for i in waves[0]]
        # the customer texts STOP while the first texts are going out...
        await eventually(lambda: len(r.inbox()) >= 3, what="some texts delivered")
        r.text("STOP")
        # ... more sends race its commit, and the last ones come after it
        tasks += [asyncio.create_task(attempt(i)) for i in waves[1]]
        await eventually(
            lambda: r.store.run(queries.is_opted_out, CUSTOMER), what="STOP committed"
        )
        tasks += [asyncio.create_task(attempt(i)) for i in waves[2]]
        results = await asyncio.gather(*tasks)
        await r.settle()

        state = await r.store.run(queries.consent_state, CUSTOMER)
        assert state.opted_out
        assert state.since is not None
        stop_at = state.since
        queued = [m for m in results if isinstance(m, MessageRecord)]
        refused = [m for m in results if isinstance(m, OptedOut)]
        assert len(queued) + len(refused) == SENDS

        # Every part that may have reached the phone was claimed before the STOP commit.
        left_before: set[int] = set()
        for message in queued:
            for part in await r.store.run(queries.outbound_parts, message.id):
                if part.status in (
                    PartStatus.SENT,
                    PartStatus.DELIVERED,
                    PartStatus.UNKNOWN,
                ):
                    assert part.claimed_at is not None
                    assert part.claimed_at <= stop_at
                    left_before.add(message.id)
                else:
                    assert part.status is PartStatus.FAILED
                    assert part.error == "recipient opted out"
        # The phone got exactly those texts, then the confirmation, then nothing more.
        inbox = [m.text for m in r.inbox()]
        by_id = {m.id: m.body for m in queued}
        assert inbox[:-1] == [by_id[i] for i in sorted(left_before)]
        assert inbox[-1].startswith("You are unsubscribed")
        assert 3 <= len(left_before) < SENDS  # a real race: some went, some did not
        assert len(refused) >= len(waves[2])  # every send path refuses after the STOP
