"""AtSession: the state machine, classification by context, deadlines."""

from __future__ import annotations

import pytest

from modem.at import commands, session
from modem.at.codec import DEFAULT_URCS, UrcSpec
from modem.at.commands import Command
from modem.at.events import (
    CommandDone,
    CommandTimedOut,
    Echo,
    Event,
    Final,
    FinalKind,
    Info,
    Prompt,
    Unrecognized,
    Urc,
)
from modem.at.session import TRANSITIONS, AtSession, Busy, State, Trigger, error_for
from modem.errors import AtCommandError, CmeError, CmsError

PDU = bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
OK = Final(FinalKind.OK, "OK")


def feed(s: AtSession, *chunks: bytes, now: float = 0.0) -> list[Event]:
    events: list[Event] = []
    for chunk in chunks:
        events += s.receive_data(chunk, now)
    return events


def done(command: Command, *lines: str, final: Final = OK) -> CommandDone:
    return CommandDone(command, lines, final)


def test_a_command_round_trip() -> None:
    s = AtSession()
    cmd = commands.csq()
    assert s.state is State.IDLE
    assert s.send(cmd, 0.0) == b"AT+CSQ\r"
    assert s.state is State.AWAIT_FINAL
    assert s.pending is cmd
    events = feed(s, b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n")
    assert events == [Info("+CSQ: 17,99"), OK, done(cmd, "+CSQ: 17,99")]
    assert s.state is State.IDLE
    assert s.pending is None
    assert s.next_deadline is None


def test_busy_while_a_command_is_pending() -> None:
    s = AtSession()
    s.send(commands.cpin("1234"), 0.0)
    with pytest.raises(Busy) as info:
        s.send(commands.csq(), 0.0)
    assert "1234" not in str(info.value)
    assert info.value.refused == commands.csq()


def test_final_and_urc_in_one_read() -> None:
    s = AtSession()
    cmd = commands.cnmi_set(2, 1, 0, 2, 0)
    s.send(cmd, 0.0)
    events = feed(s, b'\r\nOK\r\n\r\n+CMTI: "ME",1\r\n')
    assert events == [OK, done(cmd), Urc("+CMTI", '+CMTI: "ME",1')]


def test_urc_between_info_lines_is_not_an_info_line() -> None:
    s = AtSession()
    cmd = commands.cmgl(4)
    s.send(cmd, 0.0)
    events = feed(
        s, b"+CMGL: 0,1,,3\r\n00AB\r\n^RSSI: 9\r\n+CMGL: 1,1,,3\r\n00CD\r\nOK\r\n"
    )
    assert Urc("^RSSI", "^RSSI: 9") in events
    assert events[-1] == done(cmd, "+CMGL: 0,1,,3", "00AB", "+CMGL: 1,1,,3", "00CD")


def test_text_body_that_starts_with_ok_is_not_a_final_result() -> None:
    s = AtSession()
    cmd = commands.cmgr(2)
    s.send(cmd, 0.0)
    events = feed(
        s, b'+CMGR: "REC READ","+4470",,"24/03/01,10:15:00+00"\r\nOK thanks\r\nOK\r\n'
    )
    assert events[1] == Info("OK thanks")
    last = events[-1]
    assert isinstance(last, CommandDone)
    assert last.lines[-1] == "OK thanks"


@pytest.mark.parametrize("prompt", [b"> ", b">", b"\r\n> ", b"\r\n>", b"\r\n>  \r\n"])
def test_prompt_with_or_without_crlf(prompt: bytes) -> None:
    s = AtSession()
    cmd = commands.cmgs(23, PDU)
    s.send(cmd, 0.0)
    assert s.state is State.AWAIT_PROMPT
    assert feed(s, prompt) == [Prompt()]
    assert s.state is State.BODY_READY
    assert s.data_to_send() == PDU.hex().upper().encode() + b"\x1a"
    assert s.state is State.AWAIT_FINAL
    assert s.data_to_send() == b""
    events = feed(s, b"\r\n+CMGS: 42\r\n\r\nOK\r\n")
    assert events[-1] == done(cmd, "+CMGS: 42")


def test_echo_arriving_with_the_prompt_and_the_body_echo() -> None:
    s = AtSession()
    cmd = commands.cmgs(23, PDU)
    s.send(cmd, 0.0)
    assert feed(s, b"AT+CMGS=23\r\r\n> ") == [Echo("AT+CMGS=23"), Prompt()]
    body = s.data_to_send()
    events = feed(s, body + b"\r\n+CMGS: 5\r\n\r\nOK\r\n")
    assert events[0] == Echo(body.decode())
    assert events[-1] == done(cmd, "+CMGS: 5")


def test_error_instead_of_the_prompt_ends_the_command_without_a_body() -> None:
    s = AtSession()
    cmd = commands.cmgs(23, PDU)
    s.send(cmd, 0.0)
    events = feed(s, b"\r\n+CMS ERROR: 304\r\n")
    assert events[-1] == done(
        cmd, final=Final(FinalKind.CMS_ERROR, "+CMS ERROR: 304", 304)
    )
    assert s.data_to_send() == b""
    assert s.state is State.IDLE


def test_error_right_after_the_prompt_in_the_same_read_cancels_the_body() -> None:
    s = AtSession()
    s.send(commands.cmgs(23, PDU), 0.0)
    events = feed(s, b"\r\n> \r\n+CMS ERROR: 38\r\n")
    assert isinstance(events[-1], CommandDone)
    assert s.data_to_send() == b""


def test_prompt_is_not_expected_by_commands_without_a_body() -> None:
    s = AtSession()
    cmd = commands.csq()
    s.send(cmd, 0.0)
    assert feed(s, b"> ") == []
    assert feed(s, b"\r\nOK\r\n") == [Unrecognized("> "), OK, done(cmd)]


def test_cmt_whose_pdu_arrives_in_a_later_read() -> None:
    s = AtSession()
    assert feed(s, b"\r\n+CMT: ,23\r\n") == []
    assert s.next_deadline == session.URC_BODY_TIMEOUT_S
    assert feed(s, b"0791AB") == []
    assert feed(s, b"CD\r\n") == [Urc("+CMT", "+CMT: ,23", ("0791ABCD",))]
    assert s.next_deadline is None


def test_cmt_body_is_taken_even_when_it_looks_like_a_final_result() -> None:
    s = AtSession()
    cmd = commands.csq()
    s.send(cmd, 0.0)
    events = feed(
        s, b'+CMT: "+44",,"24/03/01,10:15:00+00"\r\nOK\r\n+CSQ: 3,99\r\nOK\r\n'
    )
    assert events[0] == Urc("+CMT", '+CMT: "+44",,"24/03/01,10:15:00+00"', ("OK",))
    assert events[-1] == done(cmd, "+CSQ: 3,99")


def test_urc_body_deadline_emits_what_arrived() -> None:
    s = AtSession()
    feed(s, b"+CMT: ,23\r\n", now=10.0)
    assert s.on_timeout(10.0) == []
    assert s.on_timeout(10.0 + session.URC_BODY_TIMEOUT_S) == [
        Urc("+CMT", "+CMT: ,23", ())
    ]
    assert s.next_deadline is None


def test_next_deadline_is_the_earlier_of_command_and_urc() -> None:
    s = AtSession()
    s.send(commands.cmgs(23, PDU), 100.0)
    assert s.next_deadline == 100.0 + commands.CMGS_TIMEOUT_S
    feed(s, b"+CDS: 25\r\n", now=101.0)
    assert s.next_deadline == 101.0 + session.URC_BODY_TIMEOUT_S


def test_timeout_frees_the_session_for_the_next_command() -> None:
    s = AtSession()
    cmd = commands.csq()
    s.send(cmd, 0.0)
    assert s.on_timeout(commands.DEFAULT_TIMEOUT_S - 0.001) == []
    assert s.on_timeout(commands.DEFAULT_TIMEOUT_S) == [CommandTimedOut(cmd)]
    assert s.state is State.IDLE
    assert s.data_to_send() == b""
    nxt = commands.at()
    assert s.send(nxt, 10.0) == b"AT\r"
    assert feed(s, b"OK\r\n") == [OK, done(nxt)]


def test_timeout_reports_and_drops_an_unterminated_fragment() -> None:
    s = AtSession()
    cmd = commands.csq()
    s.send(cmd, 0.0)
    feed(s, b"+CSQ: 1")
    assert s.on_timeout(99.0) == [Unrecognized("+CSQ: 1"), CommandTimedOut(cmd)]
    s.send(commands.at(), 100.0)
    assert feed(s, b"OK\r\n")[0] == OK


@pytest.mark.parametrize("prompt", [b"", b"> "])
def test_timeout_while_the_modem_may_wait_for_a_body_sends_esc(prompt: bytes) -> None:
    s = AtSession()
    cmd = commands.cmgs(23, PDU)
    s.send(cmd, 0.0)
    feed(s, prompt)
    assert s.on_timeout(commands.CMGS_TIMEOUT_S)[-1] == CommandTimedOut(cmd)
    assert s.data_to_send() == b"\x1b"


def test_esc_goes_out_before_the_next_command_if_nobody_took_it() -> None:
    s = AtSession()
    s.send(commands.cmgs(23, PDU), 0.0)
    s.on_timeout(1e9)
    assert s.send(commands.at(), 1e9) == b"\x1bAT\r"


def test_timeout_after_the_body_went_out_sends_nothing() -> None:
    s = AtSession()
    s.send(commands.cmgs(23, PDU), 0.0)
    feed(s, b"> ")
    s.data_to_send()
    s.on_timeout(1e9)
    assert s.data_to_send() == b""


def test_echo_on_and_off() -> None:
    s = AtSession()
    cmd = commands.cgsn()
    s.send(cmd, 0.0)
    assert feed(s, b"AT+CGSN\r\r\n867962041234567\r\n\r\nOK\r\n") == [
        Echo("AT+CGSN"),
        Info("867962041234567"),
        OK,
        done(cmd, "867962041234567"),
    ]
    s.send(cmd, 0.0)
    assert feed(s, b"\r\n867962041234567\r\n\r\nOK\r\n")[0] == Info("867962041234567")


def test_lines_with_no_command_pending() -> None:
    s = AtSession()
    assert feed(s, b"OK\r\n+CSQ: 1,2\r\nRING\r\n") == [
        Unrecognized("OK"),
        Unrecognized("+CSQ: 1,2"),
        Urc("RING", "RING"),
    ]


def test_free_lines_and_prefixed_lines() -> None:
    s = AtSession()
    cmd = commands.csq()
    s.send(cmd, 0.0)
    events = feed(s, b"noise\r\n+CSQ: 5,99\r\nOK\r\n")
    assert events[0] == Unrecognized("noise")
    assert events[-1] == done(cmd, "+CSQ: 5,99")
    cmd = commands.ati()
    s.send(cmd, 0.0)
    events = feed(s, b"Quectel\r\nEC25\r\nRevision: EC25EFAR06A01M4G\r\n\r\nOK\r\n")
    assert events[-1] == done(cmd, "Quectel", "EC25", "Revision: EC25EFAR06A01M4G")


def test_call_results_end_call_commands_and_are_urcs_otherwise() -> None:
    s = AtSession()
    call = Command("ATD+4470;", call_results=True)
    s.send(call, 0.0)
    final = Final(FinalKind.NO_CARRIER, "NO CARRIER")
    assert feed(s, b"NO CARRIER\r\n") == [final, done(call, final=final)]
    cmd = commands.csq()
    s.send(cmd, 0.0)
    assert feed(s, b"NO CARRIER\r\n") == [Urc("NO CARRIER", "NO CARRIER")]


def test_quoted_urc_text_runs_across_lines() -> None:
    s = AtSession()
    events = feed(s, b'+CUSD: 1,"Bal\r\n1. Top up\n2. More",15\r\n')
    assert events == [Urc("+CUSD", '+CUSD: 1,"Bal\n1. Top up\n2. More",15')]


def test_quoted_urc_text_stops_at_another_urc_and_at_the_cap() -> None:
    s = AtSession()
    events = feed(s, b'+CUSD: 1,"Bal\r\nline\r\n+CMTI: "SM",1\r\n')
    assert events == [
        Urc("+CUSD", '+CUSD: 1,"Bal\nline'),
        Urc("+CMTI", '+CMTI: "SM",1'),
    ]
    many = b"".join(b"x\r\n" for _ in range(session.URC_CONTINUATION_MAX_LINES))
    events = feed(s, b'+CUSD: 1,"Bal\r\n' + many + b"after\r\n")
    assert events[0] == Urc(
        "+CUSD", '+CUSD: 1,"Bal' + "\nx" * session.URC_CONTINUATION_MAX_LINES
    )
    assert events[1] == Unrecognized("after")


def test_quoted_urc_text_stops_at_the_pending_commands_prefix() -> None:
    s = AtSession()
    cmd = commands.csq()
    s.send(cmd, 0.0)
    events = feed(s, b'+CUSD: 0,"Bal\r\n+CSQ: 2,99\r\nOK\r\n')
    assert events[0] == Urc("+CUSD", '+CUSD: 0,"Bal')
    assert events[-1] == done(cmd, "+CSQ: 2,99")


def test_quoted_urc_text_can_be_flushed_by_its_deadline() -> None:
    s = AtSession()
    feed(s, b'+CUSD: 0,"Bal\r\n')
    assert s.on_timeout(1e9) == [Urc("+CUSD", '+CUSD: 0,"Bal')]


def test_a_custom_registry() -> None:
    s = AtSession(DEFAULT_URCS.extended(UrcSpec("+BEARTYPE:")))
    assert s.urcs.match("+BEARTYPE: 1") is not None
    assert feed(s, b'+BEARTYPE: "UMTS"\r\n') == [Urc("+BEARTYPE", '+BEARTYPE: "UMTS"')]


def test_reset_forgets_everything() -> None:
    s = AtSession()
    s.send(commands.cmgs(23, PDU), 0.0)
    feed(s, b"+CMT: ,23\r\nhalf")
    s.on_timeout(1e9)  # queues ESC
    s.send(commands.csq(), 1e9)
    s.reset()
    assert s.state is State.IDLE
    assert s.pending is None
    assert s.next_deadline is None
    assert s.data_to_send() == b""
    assert feed(s, b'\r\n+CMTI: "SM",1\r\n') == [Urc("+CMTI", '+CMTI: "SM",1')]


def test_transition_table_covers_every_state() -> None:
    sources = {state for state, _ in TRANSITIONS}
    targets = set(TRANSITIONS.values())
    assert sources == targets == set(State)
    assert (State.AWAIT_FINAL, Trigger.SEND) not in TRANSITIONS  # that is Busy


@pytest.mark.parametrize(
    ("final", "error", "code"),
    [
        (Final(FinalKind.ERROR, "ERROR"), AtCommandError, None),
        (Final(FinalKind.ERROR, "COMMAND NOT SUPPORT"), AtCommandError, None),
        (Final(FinalKind.NO_CARRIER, "NO CARRIER"), AtCommandError, None),
        (Final(FinalKind.CME_ERROR, "+CME ERROR: 10", 10), CmeError, 10),
        (
            Final(FinalKind.CME_ERROR, "+CME ERROR: odd", None),
            CmeError,
            session.CME_UNKNOWN,
        ),
        (Final(FinalKind.CMS_ERROR, "+CMS ERROR: 38", 38), CmsError, 38),
        (
            Final(FinalKind.CMS_ERROR, "+CMS ERROR: odd", None),
            CmsError,
            session.CMS_UNKNOWN,
        ),
    ],
)
def test_error_for_maps_finals_to_our_errors(
    final: Final, error: type, code: int | None
) -> None:
    got = error_for(commands.cpin("1234"), final)
    assert isinstance(got, error)
    assert got.command == 'AT+CPIN="****"'
    assert got.result == final.line
    assert getattr(got, "code", None) == code


def test_error_for_ok_is_none() -> None:
    assert error_for(commands.at(), OK) is None


def test_urcs_with_several_trailing_lines() -> None:
    s = AtSession(DEFAULT_URCS.extended(UrcSpec("+TWO:", trailing_lines=2)))
    assert feed(s, b"+TWO: x\r\n", b"a\r\n") == []
    assert feed(s, b"b\r\n") == [Urc("+TWO", "+TWO: x", ("a", "b"))]
