"""Every transcript, fed whole, byte by byte and split at every point, gives the same events."""

from __future__ import annotations

from pathlib import Path

import pytest
from at_transcripts import (
    Exchange,
    Replay,
    bytewise,
    load_dir,
    replay,
    turns,
)

from modem.at import parsers
from modem.at.events import CommandDone, Prompt, Urc
from modem.errors import AtParseError

ROOT = Path(__file__).resolve().parents[3]
SHARED = ROOT / "tests" / "data" / "at"
OURS = ROOT / "tests" / "modem" / "transcripts"

SHARED_EXCHANGES = load_dir(SHARED, "*.txt")
OUR_EXCHANGES = load_dir(OURS, "*.at")
ALL_EXCHANGES = SHARED_EXCHANGES + OUR_EXCHANGES


def _ids(exchanges: list[Exchange]) -> list[str]:
    return [ex.id for ex in exchanges]


def _whole(exchange: Exchange) -> Replay:
    return replay(turns(exchange))


def test_the_corpus_is_there() -> None:
    assert len({ex.path for ex in SHARED_EXCHANGES}) == 14
    assert len(SHARED_EXCHANGES) > 150
    assert len(OUR_EXCHANGES) > 30


@pytest.mark.parametrize("exchange", ALL_EXCHANGES, ids=_ids(ALL_EXCHANGES))
def test_byte_by_byte_gives_the_same_events(exchange: Exchange) -> None:
    expected = _whole(exchange)
    got = replay(turns(exchange), bytewise)
    assert got.events == expected.events
    assert got.bodies == expected.bodies


@pytest.mark.parametrize("exchange", ALL_EXCHANGES, ids=_ids(ALL_EXCHANGES))
def test_every_split_point_gives_the_same_events(exchange: Exchange) -> None:
    exchange_turns = turns(exchange)
    expected = replay(exchange_turns)
    for i, turn in enumerate(exchange_turns):
        for j, segment in enumerate(turn.segments):
            for cut in range(1, len(segment)):

                def split(data: bytes, cut: int = cut) -> list[bytes]:
                    return [data[:cut], data[cut:]]

                got = replay(exchange_turns, split, split_at=(i, j))
                assert got.events == expected.events, (i, j, cut)
                assert got.bodies == expected.bodies, (i, j, cut)


@pytest.mark.parametrize("exchange", ALL_EXCHANGES, ids=_ids(ALL_EXCHANGES))
def test_sent_bytes_match_the_transcript(exchange: Exchange) -> None:
    """The builders write what the source wrote (modulo its line terminator), bodies too."""
    result = _whole(exchange)
    for turn in result.turns:
        if turn.sent is not None:
            assert turn.command is not None
            assert turn.sent.rstrip(b"\r\n") == turn.command.text.encode()
    shown = [
        turn.body
        for turn, events in zip(result.turns, result.events, strict=True)
        if turn.body is not None and any(isinstance(e, Prompt) for e in events)
    ]
    assert result.bodies == shown


@pytest.mark.parametrize("exchange", OUR_EXCHANGES, ids=_ids(OUR_EXCHANGES))
def test_our_transcripts_classify_as_stated(exchange: Exchange) -> None:
    (expected,) = exchange.directives("expect")
    assert _whole(exchange).summary() == expected


# What the sources assert, checked on representative exchanges (id -> summary).
SPOT_CHECKS = {
    # gammu at-model/06: echo with CR CR LF and a blank line before OK
    "at/gammu_at-misc.txt:106": "[AT+CGMM] info final:OK done",
    # gammu at-creg/empty: no +CREG line at all, trailing blank lines
    "at/gammu_at-misc.txt:45": "[AT+CREG?] final:OK done",
    # gammu at-ussd: +CUSD lines are URCs even when written as replies
    "at/gammu_at-misc.txt:137": "[-] urc:+CUSD",
    # gammu atgen smsd-incoming-cmti: +CMTI and a CR-terminated two-line +CMT
    "at/gammu_atgen-sequences.txt:104": "[-] urc:+CMTI urc:+CMT ; "
    "[AT+CPMS] info final:OK done ; [AT+CPMS] info final:OK done ; "
    "[AT+CMGR=1] info*2 final:OK done ; [AT] final:CMS_ERROR:300 done",
    # gammu atgen incoming-sms: "+CDS:25\rBAD\r" is still a whole +CDS (the parser rejects it)
    "at/gammu_atgen-sequences.txt:162": "[-] urc:+CDS ; [AT] final:ERROR done",
    # python-gsmmodem: "> " prompt then +CMGS
    "at/python-gsmmodem_flows.txt:6": "[AT+CMGS=36] prompt info final:OK done",
    # python-gsmmodem ZTE: vendor URCs around the prompt and the result
    "at/python-gsmmodem_flows.txt:15": "[AT+CMGS=<tpdu length>] urc:+ZDONR urc:+ZPASR prompt "
    "urc:+ZDONR urc:+ZPASR urc:+ZDONR urc:+ZPASR info final:OK done",
    # python-gsmmodem: a text body with a bare LF becomes two info lines
    "at/python-gsmmodem_flows.txt:46": "[AT+CMGR=4] info*3 final:OK done",
    # python-gsmmodem issue 14: +CUSD before the OK of AT+CUSD
    "at/python-gsmmodem_flows.txt:128": '[AT+CUSD=1,"*100#",15] urc:+CUSD*2 final:OK done',
    # python-gsmmodem: "Yet another random notification!" is unknown, not fatal
    "at/python-gsmmodem_flows.txt:139": '[AT+CUSD=1,"*101#",15] unrecognized final:OK done '
    "urc:+CUSD",
    # Huawei E1752: +CLAC lines end in CR CR LF; COMMAND NOT SUPPORT is an error
    "at/python-gsmmodem_huawei-e1752.txt:41": "[AT+CLAC] info*266 final:OK done",
    "at/python-gsmmodem_huawei-e1752.txt:32": "[AT+WIND?] final:ERROR done",
    # ZTE answers AT+ZPAS? with +BEARTYPE: a quirk must declare that prefix
    "at/python-gsmmodem_zte-k3565-z.txt:215": "[AT+ZPAS?] unrecognized final:OK done",
    # Wavecom: +CPIN without OK, so the command times out (a quirk for modem/quirks)
    "at/python-gsmmodem_wavecom-multiband-900e-1800.txt:57": "[AT+CPIN?] info timeout",
    # Wavecom: an unsolicited OK (call answered) is not fatal; NO CARRIER is a URC when idle
    "at/python-gsmmodem_wavecom-multiband-900e-1800.txt:68": "[-] unrecognized",
    "at/python-gsmmodem_wavecom-multiband-900e-1800.txt:71": "[-] urc:NO CARRIER urc:+WIND",
    # ModemManager: an unterminated last line waits; the timeout reports it once
    "at/modemmanager_parsers.txt:20": "[AT+CMGL=4] info unrecognized timeout",
    "at/modemmanager_parsers.txt:41": "[-] urc:+CDS",
}


@pytest.mark.parametrize("exchange_id", sorted(SPOT_CHECKS))
def test_shared_transcripts_classify_as_their_sources_say(exchange_id: str) -> None:
    (exchange,) = [ex for ex in SHARED_EXCHANGES if ex.id == exchange_id]
    assert _whole(exchange).summary() == SPOT_CHECKS[exchange_id]


def _done_lines(exchange: Exchange) -> list[tuple[str, ...]]:
    return [
        e.lines
        for events in _whole(exchange).events
        for e in events
        if isinstance(e, CommandDone)
    ]


def _urcs(exchange: Exchange) -> list[Urc]:
    return [
        e for events in _whole(exchange).events for e in events if isinstance(e, Urc)
    ]


GAMMU_PDU = [ex for ex in SHARED_EXCHANGES if ex.path.name == "gammu_at-sms-pdu.txt"]
GAMMU_FAILING = [
    ex for ex in SHARED_EXCHANGES if ex.path.name == "gammu_at-sms-pdu-failing.txt"
]


@pytest.mark.parametrize("exchange", GAMMU_PDU, ids=_ids(GAMMU_PDU))
def test_gammu_cmgr_replies_parse(exchange: Exchange) -> None:
    (lines,) = _done_lines(exchange)
    read = parsers.parse_cmgr(lines)
    assert read.pdu
    assert read.length > 0


# gammu's at-sms-failing replies that fail at the AT level. The other eight are well-formed AT
# (a header and an even run of hex digits) carrying TPDUs that are broken inside; rejecting
# those is modem.pdu's job (tests/data/pdu/invalid.jsonl), and gammu too fails them only while
# decoding the PDU.
FAILING_AT_LEVEL = {"tests/at-sms-failing/13.dump", "tests/at-sms-failing/17.dump"}


@pytest.mark.parametrize("exchange", GAMMU_FAILING, ids=_ids(GAMMU_FAILING))
def test_gammu_failing_replies(exchange: Exchange) -> None:
    (lines,) = _done_lines(exchange)
    if exchange.title.removeprefix("--- ") in FAILING_AT_LEVEL:
        with pytest.raises(AtParseError, match="not hex"):
            parsers.parse_cmgr(lines)
    else:
        assert parsers.parse_cmgr(lines).pdu


FAILING = [ex for ex in OUR_EXCHANGES if ex.path.parent.name == "failing"]


@pytest.mark.parametrize("exchange", FAILING, ids=_ids(FAILING))
def test_expected_failures_raise_our_parse_error(exchange: Exchange) -> None:
    (name,) = exchange.directives("parser")
    parse = getattr(parsers, f"parse_{name}")
    urcs = _urcs(exchange)
    args = (urcs[0].line, urcs[0].body) if urcs else _done_lines(exchange)
    with pytest.raises(AtParseError) as info:
        parse(*args)
    assert info.value.command.startswith("+")
    assert info.value.line
