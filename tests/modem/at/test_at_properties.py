"""Hypothesis: arbitrary bytes never break the session; any split gives the same events."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from at_transcripts import load_dir, replay, turns
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modem.at import commands, parsers
from modem.at.codec import parse_final
from modem.at.commands import Command
from modem.at.events import (
    CommandDone,
    CommandTimedOut,
    Echo,
    Event,
    Final,
    Info,
    Prompt,
    Unrecognized,
    Urc,
)
from modem.at.session import AtSession
from modem.errors import AtParseError

ROOT = Path(__file__).resolve().parents[3]
EXCHANGES = load_dir(ROOT / "tests" / "data" / "at") + load_dir(
    ROOT / "tests" / "modem" / "transcripts", "*.at"
)
EVENT_TYPES = (
    Echo,
    Info,
    Prompt,
    Final,
    Urc,
    Unrecognized,
    CommandDone,
    CommandTimedOut,
)

# Pieces that steer random input into the interesting corners: terminators, the prompt,
# final results, two-line and quoted URCs, echo, and bytes that are not UTF-8.
PIECES = [
    b"\r",
    b"\n",
    b"\r\n",
    b"> ",
    b">",
    b" ",
    b"OK",
    b"ERROR",
    b"+CME ERROR: ",
    b"+CMS ERROR: 500",
    b"+CMT: ,23",
    b"+CDS: 24",
    b'+CUSD: 1,"',
    b'"',
    b"+CMTI: ",
    b"+CSQ: ",
    b"RING",
    b"AT+CSQ",
    b"0791AB",
    b"\x1a",
    b"\xff\xfe",
    b"\xc3",
    b"\x00",
]
noisy_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    st.lists(
        st.one_of(st.sampled_from(PIECES), st.binary(max_size=4)), max_size=40
    ).map(b"".join),
)
PDU = bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
PENDING: list[Command | None] = [
    None,
    commands.csq(),
    commands.cgsn(),
    commands.cmgl(4),
    commands.cmgs(23, PDU),
    Command("ATD+4470;", call_results=True),
]
SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def run(command: Command | None, chunks: list[bytes]) -> list[Event]:
    session = AtSession()
    events: list[Event] = []
    if command is not None:
        session.send(command, 0.0)
    for chunk in chunks:
        got = session.receive_data(chunk, 1.0)
        events += got
        if any(isinstance(e, Prompt) for e in got):
            session.data_to_send()
    events += session.on_timeout(1e9)
    # Whatever happened, the session takes the next command.
    assert session.pending is None
    session.send(commands.at(), 1e9)
    return events


def cut(data: bytes, points: list[int]) -> list[bytes]:
    bounds = sorted({p % (len(data) + 1) for p in points})
    edges = [0, *bounds, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


@SETTINGS
@given(
    st.sampled_from(PENDING), noisy_bytes, st.lists(st.integers(0, 10_000), max_size=8)
)
def test_arbitrary_bytes_never_raise_and_split_the_same(
    command: Command | None, data: bytes, points: list[int]
) -> None:
    whole = run(command, [data])
    assert all(isinstance(e, EVENT_TYPES) for e in whole)
    assert run(command, cut(data, points)) == whole
    assert run(command, [data[i : i + 1] for i in range(len(data))]) == whole


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(EXCHANGES), st.data())
def test_any_split_of_a_transcript_gives_the_same_events(
    exchange: Any, data: Any
) -> None:
    exchange_turns = turns(exchange)
    expected = replay(exchange_turns)
    points = data.draw(st.lists(st.integers(0, 5_000), max_size=12))

    def split(segment: bytes) -> list[bytes]:
        return cut(segment, points)

    got = replay(exchange_turns, split)
    assert got.events == expected.events
    assert got.bodies == expected.bodies


@SETTINGS
@given(st.text(max_size=80))
def test_parse_final_takes_any_text(line: str) -> None:
    final = parse_final(line, call_results=True)
    assert final is None or final.line == line


FIELD_TEXT = st.text(alphabet='0123456789ABCDEFabcdef ,()"-+:.xX\r\n\t²', max_size=60)
RESPONSE_PARSERS: list[tuple[str, Callable[[list[str]], object]]] = [
    ("", parsers.parse_cgmi),
    ("+CGMM:", parsers.parse_cgmm),
    ("", parsers.parse_cgsn),
    ("+CIMI:", parsers.parse_cimi),
    ("+CCID:", parsers.parse_ccid),
    ("^ICCID:", parsers.parse_ccid),
    ("+CRSM:", parsers.parse_ccid),
    ("+CPIN:", parsers.parse_cpin),
    ("+CSQ:", parsers.parse_csq),
    ("+CREG:", parsers.parse_creg),
    ("+CGREG:", parsers.parse_cgreg),
    ("+CEREG:", parsers.parse_cereg),
    ("+COPS:", parsers.parse_cops),
    ("+CNUM:", parsers.parse_cnum),
    ("+CSCA:", parsers.parse_csca),
    ("+CSCS:", parsers.parse_cscs),
    ("+CSCS:", parsers.parse_cscs_support),
    ("+CPMS:", parsers.parse_cpms),
    ("+CPMS:", parsers.parse_cpms_support),
    ("+CNMI:", parsers.parse_cnmi_support),
    ("+CMGL:", parsers.parse_cmgl),
    ("+CMGL:", parsers.parse_cmgl_text),
    ("+CMGR:", parsers.parse_cmgr),
    ("+CMGR:", parsers.parse_cmgr_text),
    ("+CMGS:", parsers.parse_cmgs),
]
URC_PARSERS: list[tuple[str, Callable[[str], object]]] = [
    ("+CMTI:", parsers.parse_cmti),
    ("+CDSI:", parsers.parse_cdsi),
    ("+CREG:", parsers.parse_creg_urc),
    ("+CGREG:", parsers.parse_cgreg_urc),
    ("+CEREG:", parsers.parse_cereg_urc),
    ("+CUSD:", parsers.parse_cusd),
]


@SETTINGS
@given(st.sampled_from(RESPONSE_PARSERS), FIELD_TEXT, st.lists(FIELD_TEXT, max_size=3))
def test_response_parsers_raise_only_our_error(
    parser: tuple[str, Callable[[list[str]], object]], text: str, more: list[str]
) -> None:
    prefix, parse = parser
    with contextlib.suppress(AtParseError):
        parse([prefix + text, *more])


@SETTINGS
@given(st.sampled_from(URC_PARSERS), FIELD_TEXT)
def test_urc_parsers_raise_only_our_error(
    parser: tuple[str, Callable[[str], object]], text: str
) -> None:
    prefix, parse = parser
    with contextlib.suppress(AtParseError):
        parse(prefix + text)


@SETTINGS
@given(
    st.sampled_from(["+CMT:", "+CDS:"]), FIELD_TEXT, st.lists(FIELD_TEXT, max_size=2)
)
def test_pushed_pdu_parsers_raise_only_our_error(
    prefix: str, text: str, body: list[str]
) -> None:
    parse = parsers.parse_cmt if prefix == "+CMT:" else parsers.parse_cds
    with contextlib.suppress(AtParseError):
        parse(prefix + text, body)
