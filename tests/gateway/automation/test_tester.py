"""AutomationService.test, the rule tester: what the stored rules would do with typed
messages, from where the conversation stands, without writing anything."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.automation import records
from gateway.automation.rules import SendText, TextPurpose
from gateway.automation.service import AutomationService
from gateway.config import Settings
from gateway.errors import InvalidInput
from tests.gateway.gwhelpers import fake_rig, settings_for
from tests.pgtest import dump_database

INI = """
[automation]
ack_text = We typically reply within 10 minutes.
"""
MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def dump(settings: Settings) -> list[str]:
    return dump_database(settings.database.path, settings.database.url)


def texts(result: records.TestResult) -> list[tuple[str, tuple[TextPurpose, ...]]]:
    return [
        (a.body, a.purposes)
        for step in result.steps
        if step.decision is not None
        for a in step.decision.actions
        if isinstance(a, SendText)
    ]


async def test_the_tester_starts_where_asked_and_writes_nothing(
    tmp_path: Path,
) -> None:
    async with fake_rig(tmp_path, INI) as rig:
        settings = settings_for(tmp_path, INI)  # as fake_rig read them
        service = AutomationService(rig.store, rig.outbound, settings=settings)
        for key, label in (("1", "billing"), ("2", "delivery")):
            await service.save_triage_option(
                None,
                key=key,
                label=label,
                keywords="",
                queue=label,
                tags="",
                assignee_id=None,
                flow_id=None,
                actor="test",
            )
        before = dump(settings)

        new = await service.test(["hello", "2"], at=MONDAY_9AM)
        assert texts(new)[0] == (
            "Thanks for your message. Reply 1 for billing, 2 for delivery.",
            (TextPurpose.PROMPT,),
        )
        assert new.steps[1].decision is not None
        assert new.steps[1].decision.state.handed_over

        still_open = await service.test(
            ["hello"], at=MONDAY_9AM, start=records.TestStart.OPEN
        )
        assert texts(still_open) == [
            ("We typically reply within 10 minutes.", (TextPurpose.ACK,))
        ]

        replied = await service.test(
            ["hello"], at=MONDAY_9AM, start=records.TestStart.AGENT_REPLIED
        )
        assert texts(replied) == []
        decision = replied.steps[0].decision
        assert decision is not None
        assert "an agent replied recently: no acknowledgement" in decision.trace

        assert dump(settings) == before


@pytest.mark.parametrize(
    ("messages", "at", "field"),
    [
        ([" ", ""], MONDAY_9AM, "text"),
        (["hi"] * 21, MONDAY_9AM, "text"),
        (["hi"], datetime(2026, 3, 2, 9, 0), "at"),  # no zone: refused
    ],
)
async def test_what_the_tester_refuses(
    tmp_path: Path, messages: list[str], at: datetime, field: str
) -> None:
    async with fake_rig(tmp_path) as rig:
        service = AutomationService(
            rig.store, rig.outbound, settings=settings_for(tmp_path)
        )
        with pytest.raises(InvalidInput) as refused:
            await service.test(messages, at=at)
        assert refused.value.field == field
