"""CSAT through the real daemon (real driver over a simulated modem, simulated phones as
customers): a survey goes out after an agent resolves a conversation ([csat] delay_s 0s),
one per conversation, never to an opted-out number; a rating is recorded, thanked and
leaves the conversation resolved; an answer that is no rating reaches the inbox as a
normal message and reopens the conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.domain import ConversationStatus, Direction, MessageRecord
from gateway.inbox.records import Actor
from gateway.metrics import service as metrics_service
from gateway.metrics.records import SurveyRecord, SurveyStatus
from gateway.storage import metrics_queries
from tests.gateway.gwhelpers import CUSTOMER, OTHER, Rig, eventually, rig

pytestmark = pytest.mark.integration

SURVEY = "How did we do? Reply 1-5."
THANKS = "Thanks for the rating!"
THIRD = "+447700900789"
INI = f"""
[automation]
enabled = no
[csat]
delay_s = 0s
survey_text = {SURVEY}
thanks_text = {THANKS}
"""


@pytest.fixture
async def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    # the metrics task looks for due surveys every TICK_S; the test need not wait 10 s
    monkeypatch.setattr(metrics_service, "TICK_S", 0.05)
    async with rig(tmp_path, INI) as r:
        yield r


async def agent(r: Rig) -> Actor:
    user = await r.services.auth.add_user(
        "alice", "correct horse battery staple", role="agent", actor="test"
    )
    return Actor("user:alice", user.id)


async def inbound(r: Rig, number: str, n: int) -> list[MessageRecord]:
    """Wait until `number` has n messages in; them."""

    async def found() -> list[MessageRecord] | None:
        mine = [m for m in await r.messages(number) if m.direction is Direction.INBOUND]
        return mine if len(mine) >= n else None

    result: list[MessageRecord] = await eventually(found, what=f"{n} in from {number}")
    return result


async def phone_gets(r: Rig, number: str, n: int) -> list[str]:
    await eventually(lambda: len(r.inbox(number)) >= n, what=f"{n} texts on {number}")
    return [m.text for m in r.inbox(number)]


async def survey_of(r: Rig, cid: int) -> SurveyRecord | None:
    found: SurveyRecord | None = await r.store.run(metrics_queries.get_survey, cid)
    return found


async def survey_is(r: Rig, cid: int, status: SurveyStatus) -> SurveyRecord:
    async def check() -> SurveyRecord | None:
        survey = await survey_of(r, cid)
        return survey if survey is not None and survey.status is status else None

    result: SurveyRecord = await eventually(check, what=f"survey {status}")
    return result


async def test_a_rating_is_recorded_and_thanked_once_per_conversation(
    box: Rig,
) -> None:
    r, alice = box, await agent(box)
    r.text("My order is late")
    (first,) = await inbound(r, CUSTOMER, 1)
    cid = first.conversation_id
    await r.services.inbox.reply(cid, "Sorry! It ships today.", actor=alice)
    await phone_gets(r, CUSTOMER, 1)
    await r.services.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=alice)
    assert await phone_gets(r, CUSTOMER, 2) == ["Sorry! It ships today.", SURVEY]
    sent = await survey_is(r, cid, SurveyStatus.SENT)
    assert sent.message_id is not None

    r.text("I'd give it a 4, thanks")
    answered = await survey_is(r, cid, SurveyStatus.ANSWERED)
    assert answered.rating == 4
    assert (await phone_gets(r, CUSTOMER, 3))[2] == THANKS
    await r.settle()
    thread = await r.services.inbox.thread(cid)
    assert thread.conversation.status is ConversationStatus.RESOLVED  # not reopened
    assert thread.rating == 4  # the inbox shows it beside the status

    # one survey per conversation: the customer writes again, it is answered and
    # resolved again, and no second survey goes out
    r.text("One more thing: can I change the address?")
    await inbound(r, CUSTOMER, 3)
    await r.services.inbox.reply(cid, "Yes, done.", actor=alice)
    await r.services.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=alice)
    await phone_gets(r, CUSTOMER, 4)
    await r.settle()
    for _ in range(3):  # a few of the metrics task's passes
        await r.services.metrics.send_due_surveys()
    await r.settle()
    assert [m.text for m in r.inbox(CUSTOMER)] == [
        "Sorry! It ships today.",
        SURVEY,
        THANKS,
        "Yes, done.",
    ]
    assert (await survey_of(r, cid)) == answered


async def test_an_answer_that_is_no_rating_reaches_the_inbox(box: Rig) -> None:
    r, alice = box, await agent(box)
    r.text("Refund status?", sender=OTHER)
    (first,) = await inbound(r, OTHER, 1)
    cid = first.conversation_id
    await r.services.inbox.reply(cid, "On its way.", actor=alice)
    await r.services.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=alice)
    assert await phone_gets(r, OTHER, 2) == ["On its way.", SURVEY]
    await survey_is(r, cid, SurveyStatus.SENT)

    r.text("Where is my refund though?", sender=OTHER)
    declined = await survey_is(r, cid, SurveyStatus.DECLINED)
    assert declined.rating is None
    await r.settle()
    thread = await r.services.inbox.thread(cid)
    assert thread.conversation.status is ConversationStatus.OPEN  # reopened
    assert thread.rating is None
    assert [m.body for m in thread.messages if m.direction is Direction.INBOUND] == [
        "Refund status?",
        "Where is my refund though?",
    ]
    assert len(r.inbox(OTHER)) == 2  # no thanks for no rating


async def test_never_to_an_opted_out_number(box: Rig) -> None:
    r, alice = box, await agent(box)
    r.text("Hello?", sender=THIRD)
    (first,) = await inbound(r, THIRD, 1)
    cid = first.conversation_id
    await r.services.inbox.reply(cid, "Hi, how can we help?", actor=alice)
    await phone_gets(r, THIRD, 1)
    r.text("STOP", sender=THIRD)
    texts = await phone_gets(r, THIRD, 2)  # the one opt-out confirmation
    await r.services.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=alice)
    for _ in range(3):  # a few of the metrics task's passes
        await r.services.metrics.send_due_surveys()
    await r.settle()
    assert await survey_of(r, cid) is None  # never even scheduled
    assert [m.text for m in r.inbox(THIRD)] == texts
    assert SURVEY not in texts
