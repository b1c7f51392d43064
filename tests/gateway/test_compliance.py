"""Compliance through the real driver and a simulated phone: STOP lands, opts out at once
and gets ONE confirmation; every later send is refused; START opts back in; HELP gets the
help text; free-text opt-out wording is flagged for an agent, never applied."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import events
from gateway.compliance import OPT_OUT_FLAG_TAG, ComplianceService
from gateway.config import parse_settings
from gateway.domain import ConsentSource, MessageOrigin, MessageStatus, Priority
from gateway.errors import ConfigError, OptedOut
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage import queries
from gateway.storage.db import open_database
from tests.gateway.gwhelpers import CUSTOMER, eventually, rig

OPT_OUT_REPLY = (
    "You are unsubscribed and will get no more texts from us. Reply START to "
    "subscribe again."
)
OPT_IN_REPLY = "You are subscribed again. Reply STOP to unsubscribe."


def texts(r: object, number: str = CUSTOMER) -> list[str]:
    return [m.text for m in r.inbox(number)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("word", ["STOP", " stop ", "Stop!", "opt out", "UNSUBSCRIBE"])
async def test_stop_opts_out_at_once_with_one_confirmation(
    tmp_path: Path, word: str
) -> None:
    async with rig(tmp_path) as r:
        r.text(word)
        (stop,) = await eventually(lambda: _inbound(r), what="the STOP committed")
        assert stop.body == word  # it still lands in the conversation
        state = await r.store.run(queries.consent_state, CUSTOMER)
        assert state.opted_out
        assert state.source is ConsentSource.KEYWORD
        await eventually(lambda: texts(r) == [OPT_OUT_REPLY], what="one confirmation")
        await r.settle()
        audit = await r.store.run(queries.list_audit, subject=f"number:{CUSTOMER}")
        assert [a.action for a in audit] == ["consent.opt_out"]
        (changed,) = r.recorder.of(events.ConsentChanged)
        assert changed.opted_out
        with pytest.raises(OptedOut, match="opted out"):
            await r.services.outbound.send(CUSTOMER, "Your order shipped")
        with pytest.raises(OptedOut):
            await r.services.outbound.send(
                "07700 900123", "an agent's reply", origin=MessageOrigin.AGENT
            )
        # a second STOP lands too, and gets no second confirmation (worded apart from
        # the first: the same bytes within the same second are the same PDU)
        r.text("Stop.")
        await eventually(lambda: _inbound(r, 2))
        await r.settle()
        assert texts(r) == [OPT_OUT_REPLY]
        reply = next(m for m in await r.messages() if m.origin is MessageOrigin.SYSTEM)
        assert reply.consent_exempt
        assert reply.conversation_id == stop.conversation_id


async def _inbound(r: object, n: int = 1) -> list[object] | None:
    found = [m for m in await r.messages() if m.direction.value == "inbound"]  # type: ignore[attr-defined]
    return found if len(found) >= n else None


async def test_a_message_queued_before_the_stop_is_not_sent_after_it(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        (modem,) = r.services.modems
        await modem.stop()  # nothing is sent while the customer opts out
        queued = await r.services.outbound.send(CUSTOMER, "Your order shipped")
        await r.services.compliance.set_consent(
            CUSTOMER, opted_out=True, source=ConsentSource.AGENT, actor="user:alice"
        )
        await modem.start()
        message = await eventually(
            lambda: _status_is(r, queued.id, MessageStatus.FAILED)
        )
        assert message.error == "recipient opted out"
        assert texts(r) == []


async def _status_is(r: object, message_id: int, status: MessageStatus) -> object:
    message = await r.store.run(queries.get_message, message_id)  # type: ignore[attr-defined]
    return message if message.status is status else None


async def test_start_opts_back_in_with_a_confirmation(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.text("STOP")
        await eventually(lambda: texts(r) == [OPT_OUT_REPLY])
        r.text("start")
        await eventually(lambda: texts(r) == [OPT_OUT_REPLY, OPT_IN_REPLY])
        assert not (await r.store.run(queries.consent_state, CUSTOMER)).opted_out
        await r.services.outbound.send(CUSTOMER, "Welcome back")
        await eventually(lambda: texts(r)[-1:] == ["Welcome back"])
        audit = await r.store.run(queries.list_audit, subject=f"number:{CUSTOMER}")
        assert [a.action for a in audit] == ["consent.opt_in", "consent.opt_out"]


async def test_yes_from_a_subscribed_customer_is_just_a_message(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.text("YES")
        await eventually(lambda: _inbound(r))
        await r.settle()
        assert texts(r) == []
        assert r.recorder.of(events.ConsentChanged) == []


async def test_help_gets_the_help_text_and_still_reaches_an_agent(
    tmp_path: Path,
) -> None:
    ini = "[compliance]\nhelp_reply = Call us on 0800 000 000 or reply here.\n"
    async with rig(tmp_path, ini) as r:
        r.text("help")
        await eventually(lambda: texts(r) == ["Call us on 0800 000 000 or reply here."])
        (question,) = await _inbound(r)  # type: ignore[misc]
        assert question.body == "help"
        assert not (await r.store.run(queries.consent_state, CUSTOMER)).opted_out


async def test_help_from_an_opted_out_number_gets_no_reply(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.text("STOP")
        await eventually(lambda: texts(r) == [OPT_OUT_REPLY])
        r.text("INFO")
        await eventually(lambda: _inbound(r, 2))
        await r.settle()
        assert texts(r) == [OPT_OUT_REPLY]


async def test_free_text_opt_out_is_flagged_not_applied(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.text("Please stop texting me about this")
        (message,) = await eventually(lambda: _inbound(r))
        await r.settle()
        assert not (await r.store.run(queries.consent_state, CUSTOMER)).opted_out
        assert texts(r) == []
        conversation = await r.store.run(
            queries.get_conversation, message.conversation_id
        )
        assert conversation.priority is Priority.HIGH
        tags = await r.store.run(queries.conversation_tags, conversation.id)
        assert tags == [OPT_OUT_FLAG_TAG]
        (flagged,) = r.recorder.of(events.ConversationFlagged)
        assert flagged.message_id == message.id


async def test_a_reply_text_too_long_to_send_stops_the_start(tmp_path: Path) -> None:
    settings = parse_settings(
        "[gateway]\ndefault_region = GB\n[outbound]\nmax_parts = 1\n"
        f"[compliance]\nhelp_reply = {'x' * 200}\n",
        base_dir=tmp_path,
    )
    store = await open_database(settings)
    try:
        bus = EventBus()
        outbound = OutboundService(store, bus, settings=settings)
        with pytest.raises(ConfigError) as info:
            ComplianceService(store, bus, outbound, settings=settings.compliance)
        (problem,) = info.value.problems
        assert (problem.section, problem.key) == ("compliance", "help_reply")
        assert "at most 1" in problem.expected
    finally:
        await store.close()
