"""The guarantees as a property over what the box really commits: random sequences of a
customer's replies (digits, letters, keywords, gibberish, STOP/START/HELP, "agent",
capitals, "!!!", timing gaps, an agent's reply now and then) go through the real inbound
unit (InboundService, compliance, the runner, the engine, OutboundService) on a real
database. Counted from the messages table afterwards: at most max_questions automated
questions before a human is in the loop, none after, each re-asked at most max_prompts
times in a row, and no automated text queued while the number was opted out."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.automation.engine import AutomationEngine
from gateway.automation.rules import FieldKind, FieldSpec
from gateway.automation.runner import AutomationRunner
from gateway.automation.service import AutomationService
from gateway.compliance import ComplianceService
from gateway.domain import Direction, MessageOrigin, MessageRecord
from gateway.events import EventBus
from gateway.inbound import InboundService
from gateway.inbox.records import Actor
from gateway.inbox.service import InboxService
from gateway.outbox.service import OutboundService
from gateway.storage import queries
from gateway.storage.db import open_database
from modem import pdu
from modem.events import SmsReceived, StoredLocation
from modem.pdu import SmsDeliver, encode_deliver
from tests.gateway.gwhelpers import (
    CUSTOMER,
    FakeModem,
    messages_of_contact,
    settings_for,
)
from tests.pgtest import fresh_database

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AGENT_REPLIES = "<an agent replies>"
REPLIES = st.one_of(
    st.sampled_from(
        [
            "1", "2", "3", "a", "z", "billing", "delivery", "deliverry", "my parcel",
            "4839201", "12", "yes", "no", "STOP", "START", "HELP", "agent",
            "talk to a human please", "WHERE IS MY ORDER THEN", "hello!!!", "???",
            "ridiculous", AGENT_REPLIES,
        ]
    ),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
            min_size=1, max_size=20).filter(str.strip),
)  # fmt: skip
CONVERSATIONS = st.lists(
    st.tuples(REPLIES, st.sampled_from([1, 30, 200, 3600])),  # seconds since the last
    min_size=1,
    max_size=12,
)
QUESTION_ORIGINS = (MessageOrigin.AUTOMATION,)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


async def _play(
    root: Path, said: list[tuple[str, int]], max_prompts: int, max_questions: int
) -> tuple[list[MessageRecord], list[tuple[datetime, bool]], set[str]]:
    """Run a conversation; every message with the customer, when they opted out or in,
    and the texts that were questions."""
    cfg = settings_for(
        root,
        f"[automation]\nmax_prompts = {max_prompts}\nmax_questions = {max_questions}\n",
    )
    clock = Clock()
    store = await open_database(cfg)
    bus = EventBus()
    outbound = OutboundService(store, bus, settings=cfg, clock=clock)
    compliance = ComplianceService(
        store, bus, outbound, settings=cfg.compliance, clock=clock
    )
    engine = AutomationEngine(cfg.automation, default_tz=cfg.gateway.timezone, bus=bus)
    inbound = InboundService(
        store,
        bus,
        compliance,
        outbound,
        settings=cfg,
        clock=clock,
        pipeline=AutomationRunner(outbound, engine),
    )
    inbound.attach(FakeModem("usb0"))
    automation = AutomationService(store, outbound, settings=cfg, clock=clock)
    inbox = InboxService(store, bus, outbound, settings=cfg, clock=clock)
    questions: set[str] = set()
    try:
        flow = await automation.save_flow(
            None,
            name="Order",
            fields=[
                FieldSpec(
                    "order_number",
                    "order number",
                    "Your order number?",
                    FieldKind.PATTERN,
                    r"\d{6,10}",
                ),
                FieldSpec(
                    "address_ok",
                    "address",
                    "Is the address right? YES or NO",
                    FieldKind.YES_NO,
                ),
            ],
            done_text="",
            actor="test",
        )
        for key, label, flow_id in (("1", "billing", None), ("2", "delivery", flow.id)):
            await automation.save_triage_option(
                None, key=key, label=label, keywords="", queue=label, tags="",
                assignee_id=None, flow_id=flow_id, actor="test",
            )  # fmt: skip
        view = await automation.view()
        assert view.rules.triage is not None
        questions |= {view.rules.triage.menu()}
        consent: list[tuple[datetime, bool]] = []
        for index, (text, gap) in enumerate(said):
            clock.now += timedelta(seconds=gap)
            if text == AGENT_REPLIES:
                found = await store.run(queries.find_contact, CUSTOMER)
                if found is None or await store.run(queries.is_opted_out, CUSTOMER):
                    continue
                (conversation,) = {m.conversation_id for m in await _messages(store)}
                await inbox.reply(conversation, "An agent here.", actor=Actor("user:x"))
                continue
            (data,) = encode_deliver(CUSTOMER, text, timestamp=clock.now)
            value = pdu.decode(data)
            assert isinstance(value, SmsDeliver)
            await inbound.handle(
                SmsReceived("usb0", data, value, StoredLocation("SM", index), clock.now)
            )
            state = await store.run(queries.consent_state, CUSTOMER)
            if not consent or consent[-1][1] != state.opted_out:
                consent.append((clock.now, state.opted_out))
        return await _messages(store), consent, questions
    finally:
        await inbound.stop()
        await store.close()


async def _messages(store: object) -> list[MessageRecord]:
    run: Callable[..., object] = store.run  # type: ignore[attr-defined]
    contact = await run(queries.find_contact, CUSTOMER)  # type: ignore[misc]
    return [] if contact is None else await run(messages_of_contact, contact.id)  # type: ignore[misc]


def _opted_out_at(consent: list[tuple[datetime, bool]], at: datetime) -> bool:
    opted = False
    for when, value in consent:
        if when <= at:
            opted = value
    return opted


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(CONVERSATIONS, st.integers(0, 2), st.integers(1, 5))
def test_the_box_never_loops_and_never_texts_an_opted_out_number(
    said: list[tuple[str, int]], max_prompts: int, max_questions: int
) -> None:
    with tempfile.TemporaryDirectory() as root, fresh_database():
        messages, consent, _ = asyncio.run(
            _play(Path(root), said, max_prompts, max_questions)
        )
    automated = [m for m in messages if m.origin is MessageOrigin.AUTOMATION]
    # never a text of ours to an opted-out number (compliance's own confirmation is
    # origin system and consent-exempt)
    for message in automated:
        assert not _opted_out_at(consent, message.created_at), message.body
    # questions: a text that asks (the menu, a detail, asked again) is counted by the
    # state the runner kept; the messages table must agree with it
    inbound = [m for m in messages if m.direction is Direction.INBOUND]
    if not inbound:
        return
    asked = [m for m in automated if _is_question(m.body)]
    assert len(asked) <= max_questions
    # once a human is in the loop (the automation handed over, or an agent replied, or
    # HELP asked for one) the automation asks nothing more in this conversation
    human_at = next(
        (
            m.id
            for m in messages
            if m.origin is MessageOrigin.AGENT
            or (m.origin is MessageOrigin.AUTOMATION and m.body.startswith("Thanks -"))
            or (m.direction is Direction.INBOUND and m.body.strip().upper() == "HELP")
        ),
        None,
    )
    if human_at is not None:
        late = [m.body for m in asked if m.id > human_at]
        assert not late, late
    again = 0
    for message in automated:
        again = again + 1 if message.body.startswith("Sorry") else 0
        assert again <= max_prompts


def _is_question(body: str) -> bool:
    return body.startswith(("Thanks for your message. Reply", "Sorry", "Your order",
                            "Is the address"))  # fmt: skip


async def test_the_state_counts_what_was_asked(tmp_path: Path) -> None:
    said = [("hi", 1), ("nope", 1), ("2", 1), ("abc", 1), ("4839201", 1), ("maybe", 1)]
    messages, _, _ = await _play(tmp_path, said, max_prompts=1, max_questions=5)
    bodies = [m.body for m in messages if m.origin is MessageOrigin.AUTOMATION]
    assert bodies == [
        "Thanks for your message. Reply 1 for billing, 2 for delivery.",
        "Sorry, I didn't catch that. Reply 1 for billing, 2 for delivery.",
        "Your order number?",
        "Sorry, I couldn't find the order number in that. Please try again.",
        "Is the address right? YES or NO",
        "Thanks - one moment while I connect you to an agent.",
    ]
