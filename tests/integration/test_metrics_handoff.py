"""The automation's hand-off restarts the first-response clock, through the real daemon:
the seed's "My delivery is late" flow (triage, the order number asked and given, handed
over to the delivery queue), then the agent's reply. The FRT runs from the hand-off -
the customer was waiting for a person from then - not from the first text, and the
automation's questions and its "connecting you" text never stopped it. Once the agent
replied, the automation standing down changes no clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.domain import Direction
from gateway.metrics.definitions import MetricKind
from gateway.storage import metrics_queries
from tests.integration.daemonbox import box, fast_daemon  # noqa: F401 (fixture)
from tests.integration.test_automation_scenarios import (
    CONNECTING,
    triage_with_order_flow,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_daemon")]


async def test_the_first_response_runs_from_the_hand_off(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        bob = await b.agent("bob")
        await triage_with_order_flow(b.services, (bob.user_id or 0,))
        b.text("My delivery is late")
        await b.phone_gets(1)  # the order number asked
        b.text("4839201")
        assert (await b.phone_gets(2))[1].startswith(CONNECTING)
        first, _ = await b.inbound(2)
        cid = first.conversation_id
        await b.settle()
        events = await b.store.run(metrics_queries.events_of, cid)
        (handoff,) = events
        assert handoff.kind is MetricKind.BOT_HANDOFF
        # the automation had it from the first text to the hand-off
        assert handoff.started_at == first.created_at

        await b.services.inbox.reply(cid, "Hi Jamie, checking now.", actor=bob)
        b.text("Thanks")
        await b.inbound(3)
        await b.settle()
        events = await b.store.run(metrics_queries.events_of, cid)
        kinds = [e.kind for e in events]
        assert kinds == [
            MetricKind.BOT_HANDOFF,
            MetricKind.REPLY,
            MetricKind.FIRST_RESPONSE,
        ]
        frt = events[2]
        assert frt.started_at == handoff.at  # from the hand-off, not the first text
        assert frt.user_id == bob.user_id
        automated = [
            m
            for m in await b.messages()
            if m.direction is Direction.OUTBOUND and m.created_at < frt.at
        ]
        assert len(automated) == 2  # the question and "connecting you": no FRT
