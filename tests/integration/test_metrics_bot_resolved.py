"""A notification's confirming reply option resolves the conversation by the
automation, through the real daemon: the customer's "1" is recorded, then the
resolution by the automation (a deflection: nobody had to act), no reopening is left
running and no CSAT survey follows. A second notification answered in words is the
control: it waits for a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.domain import ConversationStatus
from gateway.metrics.definitions import MetricKind
from gateway.storage import metrics_queries, queries
from tests.gateway.gwhelpers import CUSTOMER
from tests.integration.daemonbox import (
    api_client,
    box,
    fast_daemon,  # noqa: F401 (the fixture the tests use)
    post_json,
)
from tests.integration.test_support_scenarios import APPOINTMENT, NOTICE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_daemon")]

CONFIRMED = "Thanks, see you then."


async def test_a_confirming_option_is_resolved_by_the_automation(
    tmp_path: Path,
) -> None:
    ini = "[automation]\nenabled = no\n[csat]\ndelay_s = 0s\n"
    async with box(tmp_path, ini, web=True) as b:
        async with api_client(b) as api:
            await post_json(
                api,
                "/api/v1/notifications",
                {
                    "to": CUSTOMER,
                    "body": NOTICE,
                    "context": APPOINTMENT,
                    "reply_options": {
                        "1": {"value": "confirm", "reply": CONFIRMED},
                        "2": {"value": "reschedule", "action": "handover"},
                    },
                    "quiet_hours": False,
                },
            )
        assert await b.phone_gets(1) == [NOTICE]
        b.text("1")
        assert (await b.phone_gets(2))[1] == CONFIRMED
        (reply,) = await b.inbound(1)
        cid = reply.conversation_id
        await b.settle()
        conversation = await b.store.run(queries.get_conversation, cid)
        assert conversation.status is ConversationStatus.RESOLVED
        kinds = [e.kind for e in await b.store.run(metrics_queries.events_of, cid)]
        assert kinds == [MetricKind.BOT_RESOLVED]  # no reopening, no FRT left open

        report = await b.services.metrics.report(b.services.metrics.build_query())
        totals = report.total
        assert (totals.resolutions, totals.bot_resolutions) == (1, 1)
        assert (totals.deflection_base, totals.deflected) == (1, 1)
        assert totals.deflection_rate == 1.0
        assert totals.first_response.wall.count == 0
        assert totals.surveys == 0
        await b.services.metrics.send_due_surveys()
        await b.settle()
        assert len(b.phone()) == 2  # no survey after the automation's resolution

        # the control: an answer in words to the next one waits for a person
        async with api_client(b, "crm2") as api:
            await post_json(
                api,
                "/api/v1/notifications",
                {
                    "to": CUSTOMER,
                    "body": NOTICE,
                    "context": APPOINTMENT,
                    "reply_options": {"1": {"value": "confirm", "reply": CONFIRMED}},
                    "quiet_hours": False,
                },
            )
        await b.phone_gets(3)
        b.text("Can you come earlier?")
        (_, words) = await b.inbound(2)
        await b.settle()
        conversation = await b.store.run(
            queries.get_conversation, words.conversation_id
        )
        assert conversation.status is ConversationStatus.OPEN
        summary = await b.services.inbox.get(words.conversation_id)
        assert summary.awaiting_reply
        report = await b.services.metrics.report(b.services.metrics.build_query())
        assert report.total.bot_resolutions == 1
        assert report.total.resolutions == 1
