"""Reassembly: keys, any order, duplicates, expiry with the parts present, joining."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from modem.pdu import (
    Concat,
    Encoding,
    InformationElement,
    Reassembler,
    SmsDeliver,
    UserDataHeader,
    decode,
    encode_deliver,
    gsm7,
    join_parts,
    reassembly_key,
)

WHEN = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
LONG = "".join(f"{i:03d} " for i in range(100))  # 400 characters: 3 parts


def parts_of(
    text: str, sender: str = "+15555551234", ref: int = 7, ref_bits: int = 8
) -> list[SmsDeliver]:
    out = []
    for raw in encode_deliver(
        sender, text, timestamp=WHEN, concat_ref=ref, ref_bits=ref_bits
    ):
        pdu = decode(raw)
        assert isinstance(pdu, SmsDeliver)
        out.append(pdu)
    return out


def part(
    seq: int, total: int, data: bytes, encoding: Encoding, *, ref: int = 1
) -> SmsDeliver:
    """A hand-made part, for data no encoder of ours would produce."""
    text = (
        gsm7.decode(data)
        if encoding is Encoding.GSM7
        else data.decode("utf-16-be", "replace")
    )
    return SmsDeliver(
        smsc=None,
        sender=parts_of("x")[0].sender,
        timestamp=WHEN,
        pid=0,
        dcs=0,
        encoding=encoding,
        text=text,
        data=data,
        udh=UserDataHeader((InformationElement(0x00, bytes([ref, total, seq])),)),
    )


def test_key() -> None:
    assert reassembly_key("+1", Concat(ref=5, total=3, seq=2, ref_bits=16)) == (
        "+1",
        5,
        3,
        16,
    )


@pytest.mark.parametrize("seed", range(5))
def test_parts_in_any_order_make_one_message(seed: int) -> None:
    parts = parts_of(LONG)
    random.Random(seed).shuffle(parts)
    reassembler = Reassembler(expiry_s=60.0)
    results = [reassembler.add(p, now=0.0) for p in parts]
    assert results[:-1] == [None, None]
    message = results[-1]
    assert message is not None
    assert message.text == LONG
    assert [p.concat.seq for p in message.parts if p.concat] == [1, 2, 3]
    assert message.key == ("+15555551234", 7, 3, 8)
    assert message.address.number == "+15555551234"
    assert reassembler.pending == ()


def test_a_repeated_part_is_ignored() -> None:
    first, second, third = parts_of(LONG)
    reassembler = Reassembler(expiry_s=60.0)
    assert reassembler.add(first, 0.0) is None
    assert reassembler.add(first, 1.0) is None
    assert reassembler.add(second, 2.0) is None
    message = reassembler.add(third, 3.0)
    assert message is not None
    assert message.text == LONG


def test_messages_are_kept_apart_by_sender_reference_and_total() -> None:
    reassembler = Reassembler(expiry_s=60.0)
    a = parts_of(LONG, sender="+1", ref=7)
    b = parts_of(LONG, sender="+2", ref=7)
    c = parts_of(LONG[:300], sender="+1", ref=7)  # same reference, 2 parts
    d = parts_of(LONG, sender="+1", ref=7, ref_bits=16)
    for group in (a, b, c, d):
        assert reassembler.add(group[0], 0.0) is None
    assert len(reassembler.pending) == 4
    done = [reassembler.add(p, 1.0) for group in (a, b, c, d) for p in group[1:]]
    assert [m.text for m in done if m] == [LONG, LONG, LONG[:300], LONG]


def test_expiry_hands_over_the_parts_present() -> None:
    first, _, third = parts_of(LONG)
    reassembler = Reassembler(expiry_s=30.0)
    reassembler.add(third, now=100.0)
    reassembler.add(first, now=120.0)  # the wait runs from the first part seen
    assert reassembler.expire(now=129.9) == []
    (expired,) = reassembler.expire(now=130.0)
    assert expired.missing == (2,)
    assert expired.text == first.text + third.text
    assert expired.parts == (first, third)
    assert expired.first_seen == 100.0
    assert expired.address.number == "+15555551234"
    assert reassembler.pending == ()
    assert reassembler.expire(now=1000.0) == []


def test_expiry_must_be_positive() -> None:
    with pytest.raises(ValueError, match="expiry_s"):
        Reassembler(expiry_s=0)


def test_single_part_messages_come_out_at_once() -> None:
    (single,) = parts_of("hello")
    message = Reassembler(expiry_s=1.0).add(single, 0.0)
    assert message is not None
    assert (message.text, message.key, message.parts) == ("hello", None, (single,))


@pytest.mark.parametrize(("total", "seq"), [(1, 1), (0, 0), (3, 0), (3, 4), (0, 1)])
def test_degenerate_concat_is_a_single_message(total: int, seq: int) -> None:
    """TS 23.040 9.2.3.24.1: ignore the element when total or seq is 0 or seq > total."""
    lone = part(seq, total, gsm7.encode("hi"), Encoding.GSM7)
    if total == 1:
        assert lone.concat is not None
    else:
        assert lone.concat is None
    message = Reassembler(expiry_s=1.0).add(lone, 0.0)
    assert message is not None
    assert message.text == "hi"


def test_a_repeated_concat_element_counts_by_its_last_occurrence() -> None:
    udh = UserDataHeader(
        (
            InformationElement(0x00, bytes([1, 2, 1])),
            InformationElement(0x00, bytes([9, 3, 2])),
        )
    )
    assert udh.concat == Concat(ref=9, total=3, seq=2, ref_bits=8)


def test_join_orders_by_seq_and_keeps_the_first_of_a_repeated_seq() -> None:
    a = part(1, 2, gsm7.encode("Hello, "), Encoding.GSM7)
    b = part(2, 2, gsm7.encode("world"), Encoding.GSM7)
    b_again = part(2, 2, gsm7.encode("WORLD"), Encoding.GSM7)
    assert join_parts([b, a, b_again]) == "Hello, world"


def test_join_mends_an_escape_split_across_parts() -> None:
    a = part(1, 2, gsm7.encode("price ") + bytes([gsm7.ESCAPE]), Encoding.GSM7)
    b = part(2, 2, bytes([0x65]) + gsm7.encode("5"), Encoding.GSM7)
    assert a.text == "price  "  # alone, the dangling escape shows as a space
    assert join_parts([a, b]) == "price €5"


def test_join_mends_a_surrogate_pair_split_across_parts() -> None:
    a = part(1, 2, "ok ".encode("utf-16-be") + b"\xd8\x3d", Encoding.UCS2)
    b = part(2, 2, b"\xde\x00" + "!".encode("utf-16-be"), Encoding.UCS2)
    assert "\ufffd" in a.text
    assert join_parts([a, b]) == "ok 😀!"


def test_join_of_mixed_or_odd_parts_joins_their_texts() -> None:
    gsm = part(1, 2, gsm7.encode("abc"), Encoding.GSM7)
    ucs = part(2, 2, "déf".encode("utf-16-be"), Encoding.UCS2)
    assert join_parts([gsm, ucs]) == "abcdéf"
    odd = part(1, 2, b"\x00a\x00", Encoding.UCS2)
    even = part(2, 2, "b".encode("utf-16-be"), Encoding.UCS2)
    assert join_parts([odd, even]) == "a\ufffdb"
