"""The crash harness's checks catch each broken invariant: doctored evidence, no processes.

A check that passes everything would make the crash test worthless, so each case below
breaks one promise (a part sent twice, a text lost, a state that lies) and expects the
problem named."""

from __future__ import annotations

import dataclasses

import pytest

from bench.crashkit import (
    Evidence,
    InboundRow,
    InboundText,
    OutboundRow,
    OutboundText,
    RoundResult,
    check,
    make_text,
)
from modem import pdu

PHONE = "+447700900201"
OTHER = "+447700900202"
MODEM = "+447700900001"
SHORT_IN = make_text("#in0001r1", "short")
LONG_IN = make_text("#in0002r1", "emoji-long")
SHORT_OUT = make_text("#out0001r1", "extension")
LONG_OUT = make_text("#out0002r1", "long")
LONG_REF = 7


def pdus(number: str, body: str, concat_ref: int = 0) -> list[tuple[str, str]]:
    return [
        (MODEM, part.hex)
        for part in pdu.encode_submit(number, body, concat_ref=concat_ref)
    ]


def clean() -> Evidence:
    """Two texts in, two out (one multipart each way), everything as promised."""
    long_parts = len(pdu.encode_submit(OTHER, LONG_OUT, concat_ref=LONG_REF))
    assert long_parts > 1
    return Evidence(
        inbound_sent=[
            InboundText(PHONE, MODEM, "m1", SHORT_IN, 1),
            InboundText(OTHER, MODEM, "m1", LONG_IN, 2),
        ],
        outbound_queued=[
            OutboundText("k1", PHONE, SHORT_OUT),
            OutboundText("k2", OTHER, LONG_OUT),
        ],
        inbound_rows=[
            InboundRow(SHORT_IN, "received", 1, "m1", PHONE),
            InboundRow(LONG_IN, "received", 2, "m1", OTHER),
        ],
        loose_parts=0,
        outbound_rows=[
            OutboundRow(
                1, PHONE, SHORT_OUT, "delivered", 1, None, "k1", ("delivered",)
            ),
            OutboundRow(
                2,
                OTHER,
                LONG_OUT,
                "delivered",
                long_parts,
                LONG_REF,
                "k2",
                ("delivered",) * long_parts,
            ),
        ],
        submitted=pdus(PHONE, SHORT_OUT) + pdus(OTHER, LONG_OUT, LONG_REF),
        inboxes={PHONE: [SHORT_OUT], OTHER: [LONG_OUT]},
        leftovers=[],
        reports_dropped=0,
        kills=1,
        modems=1,
    )


def problems_of(evidence: Evidence) -> list[str]:
    return check(evidence, RoundResult(round=1, seed=1))


def long_row(evidence: Evidence, **changes: object) -> None:
    evidence.outbound_rows[1] = dataclasses.replace(
        evidence.outbound_rows[1],
        **changes,  # type: ignore[arg-type]
    )


def test_a_clean_round_has_no_problems_and_is_counted() -> None:
    result = RoundResult(round=1, seed=1)
    assert check(clean(), result) == []
    assert (result.inbound, result.inbound_parts, result.outbound) == (2, 3, 2)
    assert result.submitted_parts == result.outbound_parts
    assert result.states == {"delivered": 2}


def test_a_part_sent_twice_is_caught() -> None:
    evidence = clean()
    evidence.submitted.append(evidence.submitted[-1])  # the last part, resent
    assert any("a part reached the network 2 times" in p for p in problems_of(evidence))


def test_a_text_a_phone_got_twice_is_caught() -> None:
    evidence = clean()
    evidence.inboxes[PHONE].append(SHORT_OUT)
    assert any(f"{PHONE} got" in p for p in problems_of(evidence))


@pytest.mark.parametrize("copies", [0, 2])
def test_an_inbound_text_lost_or_stored_twice_is_caught(copies: int) -> None:
    evidence = clean()
    evidence.inbound_rows = [evidence.inbound_rows[1]] + [
        evidence.inbound_rows[0]
    ] * copies
    assert any(f"in the database {copies} times" in p for p in problems_of(evidence))


def test_an_inbound_text_incomplete_or_in_the_wrong_conversation_is_caught() -> None:
    evidence = clean()
    evidence.inbound_rows[1] = InboundRow(LONG_IN, "incomplete", 2, "m1", OTHER)
    evidence.inbound_rows[0] = InboundRow(SHORT_IN, "received", 1, "m1", OTHER)
    evidence.loose_parts = 1
    found = problems_of(evidence)
    assert any("incomplete" in p for p in found)
    assert any(f"conversation with {OTHER}" in p for p in found)
    assert any("never joined" in p for p in found)


def test_delivered_but_not_on_the_phone_is_caught() -> None:
    evidence = clean()
    evidence.inboxes[OTHER] = []
    evidence.submitted = evidence.submitted[:-1]  # the last part never left
    assert any("holds it 0 times" in p for p in problems_of(evidence))


def test_sent_is_a_lie_when_a_part_is_missing() -> None:
    """What the crash harness found: an interrupted part rolled its message up to sent."""
    evidence = clean()
    long_row(evidence, status="sent", part_states=("sent", "unknown", "sent"))
    evidence.submitted = [s for i, s in enumerate(evidence.submitted) if i != 2]
    evidence.inboxes[OTHER] = []
    assert any("holds it 0 times" in p for p in problems_of(evidence))


@pytest.mark.parametrize("on_phone", [True, False])
def test_unknown_may_or_may_not_have_arrived(on_phone: bool) -> None:
    evidence = clean()
    states = ("sent",) * (evidence.outbound_rows[1].parts_count - 1) + ("unknown",)
    long_row(evidence, status="unknown", part_states=states)
    if not on_phone:
        evidence.submitted = evidence.submitted[:-1]
        evidence.inboxes[OTHER] = []
    result = RoundResult(round=1, seed=1)
    assert check(evidence, result) == []
    assert (result.unknown_messages, result.unknown_parts) == (1, 1)
    assert result.unknown_on_phone == int(on_phone)


def test_more_unknown_parts_than_deaths_allow_is_caught() -> None:
    evidence = clean()
    evidence.kills = 0  # one modem, one clean stop: one part at most
    long_row(evidence, status="unknown", part_states=("unknown",) * 3)
    assert any("unknown parts after 0 kills" in p for p in problems_of(evidence))


def test_failed_while_a_part_reached_the_phone_is_caught() -> None:
    evidence = clean()
    long_row(evidence, status="failed", part_states=("sent", "failed", "failed"))
    evidence.inboxes[OTHER] = []
    assert any("part(s) reached the network" in p for p in problems_of(evidence))


def test_a_message_left_queued_is_caught() -> None:
    evidence = clean()
    evidence.outbound_rows[0] = dataclasses.replace(
        evidence.outbound_rows[0], status="queued", part_states=("queued",)
    )
    evidence.submitted = evidence.submitted[1:]
    evidence.inboxes[PHONE] = []
    assert any("never settled" in p for p in problems_of(evidence))


def test_a_text_queued_twice_is_caught() -> None:
    evidence = clean()
    evidence.outbound_rows.append(
        dataclasses.replace(evidence.outbound_rows[0], id=3, idempotency_key="k1")
    )
    found = problems_of(evidence)
    assert any("k1 is queued 2 times" in p for p in found)


def test_a_missing_status_report_must_be_one_the_modem_dropped() -> None:
    evidence = clean()
    evidence.outbound_rows[0] = dataclasses.replace(
        evidence.outbound_rows[0], status="sent", part_states=("sent",)
    )
    assert any("the box lost some" in p for p in problems_of(evidence))
    evidence.reports_dropped = 1
    result = RoundResult(round=1, seed=1)
    assert check(evidence, result) == []
    assert result.unreported == 1


def test_anything_left_on_a_sim_is_caught() -> None:
    evidence = clean()
    evidence.leftovers = [f"{MODEM} SM: 1 stored"]
    assert problems_of(evidence) == [f"left on a SIM: {MODEM} SM: 1 stored"]
