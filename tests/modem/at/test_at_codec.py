"""Framing, whole-line final results and the URC registry."""

from __future__ import annotations

import pytest

from modem.at import codec
from modem.at.codec import (
    DEFAULT_URCS,
    MAX_LINE_BYTES,
    LineReader,
    UrcRegistry,
    UrcSpec,
    encode_body,
    encode_command,
    parse_final,
)
from modem.at.commands import Command
from modem.at.events import Final, FinalKind, Prompt


def tokens(reader: LineReader, *chunks: bytes) -> list[str | Prompt]:
    out: list[str | Prompt] = []
    for chunk in chunks:
        reader.feed(chunk)
        while (token := reader.next_token()) is not None:
            out.append(token)
    return out


@pytest.mark.parametrize(
    ("line", "kind", "code"),
    [
        ("OK", FinalKind.OK, None),
        ("  OK \t", FinalKind.OK, None),
        ("ERROR", FinalKind.ERROR, None),
        ("COMMAND NOT SUPPORT", FinalKind.ERROR, None),
        ("TOO MANY PARAMETERS", FinalKind.ERROR, None),
        ("+CME ERROR: 10", FinalKind.CME_ERROR, 10),
        ("+CME ERROR:10", FinalKind.CME_ERROR, 10),
        ("+CME ERROR: SIM not inserted", FinalKind.CME_ERROR, 10),
        ("+CME ERROR: SIM PIN REQUIRED", FinalKind.CME_ERROR, 11),
        ("+CME ERROR: who knows", FinalKind.CME_ERROR, None),
        ("+CME ERROR:", FinalKind.CME_ERROR, None),  # ModemManager's malformed case
        ("+CME ERROR", FinalKind.CME_ERROR, None),
        ("+CMS ERROR: 500", FinalKind.CMS_ERROR, 500),
        ("+CMS ERROR: memory full", FinalKind.CMS_ERROR, 322),
        ("+CMS ERROR: 1234567", FinalKind.CMS_ERROR, None),  # too long to be a code
        ("+CMS ERROR: ²", FinalKind.CMS_ERROR, None),  # a digit, but not an ASCII one
    ],
)
def test_final_results_are_whole_lines(
    line: str, kind: FinalKind, code: int | None
) -> None:
    assert parse_final(line) == Final(kind, line, code)


@pytest.mark.parametrize(
    "line",
    [
        "OK thanks",
        "ok",
        "OKAY",
        "ERROR 5",
        "+CME ERRORS: 3",
        "+CMS ERRORx",
        "NO CARRIER",
        "",
    ],
)
def test_other_lines_are_not_final(line: str) -> None:
    assert parse_final(line) is None


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("NO CARRIER", FinalKind.NO_CARRIER),
        ("BUSY", FinalKind.BUSY),
        ("NO ANSWER", FinalKind.NO_ANSWER),
        ("NO DIALTONE", FinalKind.NO_DIALTONE),
        ("NO DIAL TONE", FinalKind.NO_DIALTONE),
    ],
)
def test_call_results_end_only_call_commands(line: str, kind: FinalKind) -> None:
    assert parse_final(line) is None
    assert parse_final(line, call_results=True) == Final(kind, line)


def test_final_ok_property() -> None:
    assert Final(FinalKind.OK, "OK").ok
    assert not Final(FinalKind.ERROR, "ERROR").ok


@pytest.mark.parametrize(
    "data",
    [
        b"A\r\nB\r\n",  # CRLF
        b"A\rB\r",  # CR alone (gammu's unit tests)
        b"A\nB\n",  # LF alone (gammu's .dump files)
        b"A\r\r\nB\r\r\n",  # CR CR LF (Huawei E1752)
        b"\r\n\r\nA\r\n\r\n\r\nB\r\n",  # empty lines
        b"A\r\n   \r\n\t\r\nB\n",  # blank lines
    ],
)
def test_any_cr_or_lf_ends_a_line(data: bytes) -> None:
    assert tokens(LineReader(), data) == ["A", "B"]


def test_an_unterminated_line_waits_for_its_terminator() -> None:
    reader = LineReader()
    assert tokens(reader, b"+CSQ: 1") == []
    assert tokens(reader, b"7,99") == []
    assert tokens(reader, b"\r") == ["+CSQ: 17,99"]
    assert tokens(reader, b"\n") == []


def test_lines_keep_their_inner_and_edge_spaces() -> None:
    assert tokens(LineReader(), b"  MULTIBAND  900E  1800 \r\n") == [
        "  MULTIBAND  900E  1800 "
    ]


def test_prompt_only_when_expected() -> None:
    reader = LineReader()
    assert tokens(reader, b"\r\n> ") == []
    reader.clear()
    reader.expect_prompt = True
    assert tokens(reader, b"\r\n> ") == [codec.PROMPT]
    assert not reader.expect_prompt


@pytest.mark.parametrize(
    "chunks",
    [
        (b"> ",),
        (b">",),
        (b">", b" ", b" "),
        (b"\r\n>  \r\n",),
        (b"\r\n", b">", b" \r", b"\n"),
    ],
)
def test_prompt_needs_no_terminator_and_its_spaces_are_swallowed(
    chunks: tuple[bytes, ...],
) -> None:
    reader = LineReader()
    reader.expect_prompt = True
    assert tokens(reader, *chunks, b"+CMGS: 4\r\n") == [codec.PROMPT, "+CMGS: 4"]


def test_prompt_must_start_a_line() -> None:
    reader = LineReader()
    reader.expect_prompt = True
    assert tokens(reader, b"x> \r\n") == ["x> "]
    assert reader.expect_prompt


def test_spaces_after_the_prompt_are_swallowed_only_up_to_the_next_text() -> None:
    reader = LineReader()
    reader.expect_prompt = True
    assert tokens(reader, b"> ", b"ab\r\n  cd\r\n") == [codec.PROMPT, "ab", "  cd"]


def test_overlong_lines_are_cut_the_same_however_they_arrive() -> None:
    data = (
        b"x" * (2 * MAX_LINE_BYTES + 10)
        + b"\r\n"
        + b"y" * MAX_LINE_BYTES
        + b"\r\nOK\r\n"
    )
    whole = tokens(LineReader(), data)
    assert [len(t) for t in whole if isinstance(t, str)] == [
        MAX_LINE_BYTES,
        MAX_LINE_BYTES,
        10,
        MAX_LINE_BYTES,
        2,
    ]
    step = 997
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    assert tokens(LineReader(), *chunks) == whole


def test_bytes_that_are_not_utf8_are_replaced_not_raised() -> None:
    assert tokens(LineReader(), b"caf\xe9 \xff\x00\r\n") == ["caf\ufffd \ufffd\x00"]


def test_a_character_split_across_reads_survives() -> None:
    assert tokens(LineReader(), b"caf\xc3", b"\xa9\r\n") == ["café"]


def test_take_partial_returns_the_unterminated_rest_once() -> None:
    reader = LineReader()
    assert tokens(reader, b"OK\r\nhalf a li") == ["OK"]
    assert reader.take_partial() == "half a li"
    assert reader.take_partial() is None
    assert tokens(reader, b"ne\r\n") == ["ne"]


def test_take_partial_ignores_blanks() -> None:
    reader = LineReader()
    reader.feed(b"  ")
    assert reader.take_partial() is None


def test_clear_forgets_everything() -> None:
    reader = LineReader()
    reader.expect_prompt = True
    reader.feed(b"abc")
    reader.clear()
    assert not reader.expect_prompt
    assert tokens(reader, b"\r\n") == []


def test_encode_command_and_body() -> None:
    assert encode_command(Command("AT+CSQ")) == b"AT+CSQ\r"
    assert encode_body(b"0011") == b"0011\x1a"


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ('+CMTI: "SM",3', "+CMTI"),
        ('+CMTI:"SM",3', "+CMTI"),
        ("  +CMT: ,23", "+CMT"),
        ("+CDS:25", "+CDS"),
        ("^RSSI:17", "^RSSI"),
        ("RING", "RING"),
        ("SMS Ready", "SMS Ready"),
        ("SMS READY", "SMS Ready"),
        ("+QIND: SMS DONE", "+QIND"),
        ("+CPIN: NOT READY", "+CPIN"),
        ('^SMMEMFULL: "SM"', "^SMMEMFULL"),
    ],
)
def test_default_registry_matches(line: str, name: str) -> None:
    spec = DEFAULT_URCS.match(line)
    assert spec is not None
    assert spec.name == name


@pytest.mark.parametrize(
    "line",
    ["+CSQ: 17,99", "+CMGS: 4", "OK", "RINGING", "+CMTIX: 1", "+CMT", ":", "0791AB"],
)
def test_default_registry_ignores(line: str) -> None:
    assert DEFAULT_URCS.match(line) is None


def test_two_line_urcs_declare_their_trailing_line() -> None:
    trailing = {spec.name: spec.trailing_lines for spec in DEFAULT_URCS}
    assert trailing["+CMT"] == trailing["+CDS"] == trailing["+CBM"] == 1
    assert trailing["+CMTI"] == trailing["+CDSI"] == trailing["+CREG"] == 0
    quoted = [spec.name for spec in DEFAULT_URCS if spec.quoted]
    assert quoted == ["+CUSD"]


def test_registry_is_immutable_and_derivable() -> None:
    extra = UrcSpec("+ZEND")
    registry = DEFAULT_URCS.extended(extra, UrcSpec("+CMT:", trailing_lines=2))
    assert "+ZEND" in registry
    assert "+ZEND" not in DEFAULT_URCS
    assert registry.match("+CMT: ,23") == UrcSpec("+CMT:", trailing_lines=2)
    assert len(registry) == len(DEFAULT_URCS) + 1
    smaller = registry.without("+zend", "RING")
    assert "+ZEND" not in smaller
    assert "ring" not in smaller
    assert "RING" in registry
    assert 42 not in registry
    assert UrcRegistry().match("RING") is None


@pytest.mark.parametrize("pattern", ["", " RING", "RING ", "  "])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="bad URC pattern"):
        UrcSpec(pattern)


def test_negative_trailing_lines_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        UrcSpec("+X:", trailing_lines=-1)


def test_spec_names() -> None:
    assert UrcSpec("+CMTI:").is_prefix
    assert not UrcSpec("RING").is_prefix
    assert UrcSpec("Call Ready").name == "Call Ready"
