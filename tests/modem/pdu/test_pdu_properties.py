"""Properties over generated input: decoders are total, encoders round-trip, counts agree.

A round trip through one codec can pass a symmetric bug; the golden vectors in
test_pdu_vectors.py are what prove the bytes right. These tests prove the edges: every length,
fill, split point and character class, and that no input makes the decoder raise anything but
PduDecodeError.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st
from pduvectors import records

from modem.pdu import (
    PduDecodeError,
    Reassembler,
    SmsDeliver,
    SmsSubmit,
    decode,
    encode_deliver,
    encode_submit,
    gsm7,
    join_parts,
    segment_info,
)
from modem.pdu.address import decode_digits, encode_address, read_address, semi_octets
from modem.pdu.reader import Reader
from modem.pdu.timestamp import (
    MAX_RELATIVE_VALIDITY_S,
    decode_relative_validity,
    decode_scts,
    encode_relative_validity,
    encode_scts,
)

FAST = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=120, deadline=None)

REAL_PDUS = [
    (bytes.fromhex(r["pdu"]), r["has_smsc"])
    for name in ("deliver", "submit", "status_report")
    for r in records(name)
    if len(r["pdu"]) % 2 == 0
]

# Text from every class that matters: GSM-7 basic and extension, Latin, Cyrillic, CJK, emoji.
GSM_BASIC = "".join(ch for ch in gsm7.BASIC if ch != "\x1b")
GSM_EXT = "".join(gsm7.EXTENSION.values())
gsm_text = st.text(alphabet=GSM_BASIC + GSM_EXT, max_size=500)
any_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(GSM_BASIC + GSM_EXT),
        st.sampled_from("ёЖ你好™šíř’“”"),
        st.sampled_from("😀🎉👍🏽🇪🇺"),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=400,
)


def decodes_or_refuses(data: bytes, has_smsc: bool) -> None:
    """Anything but a value or a PduDecodeError fails the test (and Hypothesis shrinks it)."""
    error: PduDecodeError | None = None
    try:
        decode(data, has_smsc=has_smsc)
    except PduDecodeError as exc:
        error = exc
    if error is not None:
        assert 0 <= error.offset <= len(data)
        assert error.field
        assert error.reason


@FAST
@given(st.binary(max_size=200), st.booleans())
def test_arbitrary_bytes_decode_or_raise_pdu_decode_error(
    data: bytes, has_smsc: bool
) -> None:
    decodes_or_refuses(data, has_smsc)


@FAST
@given(
    st.sampled_from(REAL_PDUS),
    st.integers(min_value=0, max_value=200),
    st.lists(st.tuples(st.integers(0, 199), st.integers(0, 255)), max_size=4),
)
def test_damaged_real_pdus_decode_or_raise_pdu_decode_error(
    pdu: tuple[bytes, bool], cut: int, edits: list[tuple[int, int]]
) -> None:
    """Truncation and flipped octets in real PDUs reach the deep branches random bytes miss."""
    data = bytearray(pdu[0][: max(cut, 1)])
    for index, value in edits:
        if index < len(data):
            data[index] = value
    decodes_or_refuses(bytes(data), pdu[1])


def _round_trip_submit(text: str) -> None:
    parts = encode_submit("+15555551234", text, concat_ref=42)
    decoded = [decode(p.data) for p in parts]
    assert all(isinstance(p, SmsSubmit) for p in decoded)
    assert join_parts(decoded) == text  # type: ignore[arg-type]
    info = segment_info(text)
    assert info.parts == len(parts)
    assert {p.encoding for p in decoded} == {info.encoding}  # type: ignore[union-attr]
    for part, pdu in zip(parts, decoded, strict=True):
        assert isinstance(pdu, SmsSubmit)
        assert pdu.udl <= (160 if pdu.encoding.value == "gsm7" else 140)
        assert part.tpdu_length == len(part.data) - 1
        assert "\ufffd" not in pdu.text or "\ufffd" in text  # no pair or escape split
        if len(parts) > 1:
            assert pdu.concat is not None
            assert (pdu.concat.ref, pdu.concat.total, pdu.concat.seq) == (
                42,
                len(parts),
                part.seq,
            )


@SLOW
@given(gsm_text)
def test_gsm7_text_round_trips_through_submit(text: str) -> None:
    _round_trip_submit(text)


@SLOW
@given(any_text)
def test_any_text_round_trips_through_submit(text: str) -> None:
    _round_trip_submit(text)


@SLOW
@given(
    any_text,
    st.sampled_from([8, 16]),
    st.integers(0, 255),
    st.randoms(use_true_random=False),
)
def test_deliver_parts_reassemble_in_any_order(
    text: str, ref_bits: int, ref: int, rng: random.Random
) -> None:
    raws = encode_deliver(
        "+15555551234",
        text,
        timestamp=datetime(2030, 1, 1, tzinfo=UTC),
        concat_ref=ref,
        ref_bits=ref_bits,
    )
    parts = [decode(raw) for raw in raws]
    rng.shuffle(parts)
    reassembler = Reassembler(expiry_s=10.0)
    messages = [
        m for p in parts if isinstance(p, SmsDeliver) and (m := reassembler.add(p, 0.0))
    ]
    assert [m.text for m in messages] == [text]


@FAST
@given(st.lists(st.integers(0, 127), max_size=200), st.integers(0, 6))
def test_library_pack_and_our_unpack_agree(septets: list[int], fill: int) -> None:
    raw = bytes(septets)
    packed = gsm7.pack(raw, fill)
    assert len(packed) == gsm7.packed_octets(len(raw), fill)
    if packed:
        assert packed[0] & ((1 << fill) - 1) == 0  # the fill bits are zero
    assert gsm7.unpack(packed, len(raw), fill) == raw


@FAST
@given(st.text(alphabet="0123456789", max_size=20))
def test_semi_octets_round_trip(digits: str) -> None:
    raw = semi_octets(digits)
    assert len(raw) == (len(digits) + 1) // 2
    assert decode_digits(raw, len(digits), field="TP-DA", offset=0) == digits


@FAST
@given(
    st.one_of(
        st.text(alphabet="0123456789", min_size=1, max_size=20),
        st.text(alphabet="0123456789", min_size=1, max_size=20).map(lambda d: "+" + d),
        st.text(
            alphabet=GSM_BASIC.replace("+", "") + GSM_EXT, min_size=1, max_size=5
        ).filter(lambda s: not s.isdigit()),
    )
)
def test_addresses_round_trip(number: str) -> None:
    field = encode_address(number, "sender", allow_alphanumeric=True)
    reader = Reader(field)
    assert read_address(reader, "TP-OA").number == number
    assert reader.remaining == 0


@FAST
@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31, 23, 59, 59)
    ),
    st.integers(-79, 79),
)
def test_timestamps_round_trip_with_their_offset(
    moment: datetime, quarters: int
) -> None:
    aware = moment.replace(
        microsecond=0, tzinfo=timezone(timedelta(minutes=15 * quarters))
    )
    back = decode_scts(encode_scts(aware, "timestamp"), field="TP-SCTS", offset=0)
    assert back == aware
    assert back.utcoffset() == aware.utcoffset()


@FAST
@given(st.integers(1, MAX_RELATIVE_VALIDITY_S))
def test_relative_validity_is_the_smallest_that_covers(seconds: int) -> None:
    vp = encode_relative_validity(seconds)
    assert decode_relative_validity(vp) >= seconds
    assert vp == 0 or decode_relative_validity(vp - 1) < seconds
