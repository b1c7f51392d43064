"""AtEngine against a scripted fake modem: no sleeps, deadlines patched small."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping

import pytest
from at_fakepeer import ESC_UNIT, SPLITS, FakeModem, Reply, Splitter, whole

from modem import trace
from modem.at import commands, parsers, session
from modem.at.engine import AtEngine, Response
from modem.at.events import Final, FinalKind, Urc
from modem.errors import AtCommandError, AtTimeout, CmeError, CmsError, PortClosed

PDU = bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")
BODY = PDU.hex().upper()
LIMIT_S = 5.0  # no test waits this long unless something is broken
SHORT_S = 0.05  # patched deadlines

Make = Callable[..., tuple[AtEngine, FakeModem]]


@pytest.fixture
async def make() -> AsyncIterator[Make]:
    """Build engine + fake pairs; afterwards nothing may be pending anywhere."""
    made: list[tuple[AtEngine, FakeModem]] = []

    def factory(
        replies: Mapping[str, Reply],
        *,
        echo: bool = False,
        split: Splitter = whole,
        on_urc: Callable[[Urc], None] | None = None,
        name: str = "modem1",
    ) -> tuple[AtEngine, FakeModem]:
        engine = AtEngine(name, on_urc=on_urc)
        fake = FakeModem(engine, replies, echo=echo, split=split)
        made.append((engine, fake))
        return engine, fake

    yield factory
    for engine, fake in made:
        async with asyncio.timeout(LIMIT_S):
            await fake.drained()
        assert engine.idle, "a command, future or timer was left behind"
        assert fake.idle
        assert not fake.unexpected
    current = asyncio.current_task()
    assert not [t for t in asyncio.all_tasks() if t is not current and not t.done()]


@pytest.mark.parametrize("split", SPLITS.values(), ids=SPLITS.keys())
@pytest.mark.parametrize("echo", [False, True], ids=["echo_off", "echo_on"])
async def test_a_command_returns_its_info_lines(
    make: Make, split: Splitter, echo: bool
) -> None:
    engine, fake = make(
        {"AT+CSQ": b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n"}, echo=echo, split=split
    )
    async with asyncio.timeout(LIMIT_S):
        response = await engine.command(commands.csq())
    assert response == Response(("+CSQ: 17,99",), Final(FinalKind.OK, "OK"))
    assert parsers.parse_csq(response.lines).rssi_dbm == -79
    assert fake.written == b"AT+CSQ\r"


async def test_one_command_in_flight_and_callers_queue_in_order(make: Make) -> None:
    replies: dict[str, Reply] = {
        f"AT+CMGR={i}": f"\r\n+CMGR: 1,,1\r\n00{i:02X}\r\n\r\nOK\r\n".encode()
        for i in range(5)
    }
    engine, fake = make(replies, split=SPLITS["random"])
    async with asyncio.timeout(LIMIT_S), asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(engine.command(commands.cmgr(i))) for i in range(5)]
    for i, task in enumerate(tasks):
        assert parsers.parse_cmgr(task.result().lines).pdu == bytes([0, i])
    # Each command was written only after the previous one had its whole answer.
    assert fake.log == [
        entry
        for i in range(5)
        for entry in (("write", f"AT+CMGR={i}"), ("answered", f"AT+CMGR={i}"))
    ]


async def test_timeout_raises_and_the_next_command_works(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "DEFAULT_TIMEOUT_S", SHORT_S)
    engine, fake = make({"AT+CSQ": None, "AT": b"\r\nOK\r\n"})
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(AtTimeout) as info:
            await engine.command(commands.csq())
        assert loop.time() - started >= SHORT_S
        assert info.value.command == "AT+CSQ"
        assert info.value.timeout_s == SHORT_S
        assert (await engine.command(commands.at())).final.ok
    assert fake.units == ["AT+CSQ", "AT"]


async def test_a_late_fragment_does_not_spoil_the_next_reply(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "DEFAULT_TIMEOUT_S", SHORT_S)
    engine, _fake = make({"AT+CSQ": b"\r\n+CSQ: 1", "AT": b"\r\nOK\r\n"})
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(AtTimeout):
            await engine.command(commands.csq())
        assert (await engine.command(commands.at())).final.ok


@pytest.mark.parametrize("split", SPLITS.values(), ids=SPLITS.keys())
async def test_urcs_are_delivered_as_they_arrive_even_mid_command(
    make: Make, split: Splitter
) -> None:
    seen: list[tuple[Urc, bool]] = []
    entry = f"+CMGL: 0,1,,23\r\n{BODY}\r\n"
    reply = f'\r\n{entry}\r\n+CMTI: "ME",3\r\n{entry}\r\nOK\r\n\r\n^RSSI: 9\r\n'
    holder: list[AtEngine] = []

    def on_urc(urc: Urc) -> None:
        seen.append((urc, holder[0].idle))

    engine, fake = make({"AT+CMGL=4": reply.encode()}, split=split, on_urc=on_urc)
    holder.append(engine)
    async with asyncio.timeout(LIMIT_S):
        response = await engine.command(commands.cmgl(4))
        await fake.drained()
    assert [e.index for e in parsers.parse_cmgl(response.lines)] == [0, 0]
    assert not any("+CMTI" in line for line in response.lines)
    assert seen[0] == (Urc("+CMTI", '+CMTI: "ME",3'), False)  # while the command ran
    assert seen[1][0] == Urc("^RSSI", "^RSSI: 9")


async def test_urcs_while_idle_and_two_line_urcs_across_reads(make: Make) -> None:
    got: asyncio.Queue[Urc] = asyncio.Queue()
    _engine, fake = make({}, on_urc=got.put_nowait)
    fake.inject(b"\r\n+CMT: ,23\r\n")
    fake.inject(b"07918497483252F0040B918496445078F700007121320144744004D4F29C0E\r\n")
    async with asyncio.timeout(LIMIT_S):
        urc = await got.get()
    assert parsers.parse_cmt(urc.line, urc.body).length == 23


async def test_a_lost_urc_line_is_given_up_at_its_deadline(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "URC_BODY_TIMEOUT_S", SHORT_S)
    got: asyncio.Queue[Urc] = asyncio.Queue()
    _engine, fake = make({}, on_urc=got.put_nowait)
    fake.inject(b"\r\n+CDS: 24\r\n")
    async with asyncio.timeout(LIMIT_S):
        assert await got.get() == Urc("+CDS", "+CDS: 24", ())


@pytest.mark.parametrize("split", SPLITS.values(), ids=SPLITS.keys())
async def test_cmgs_prompt_then_body(make: Make, split: Splitter) -> None:
    engine, fake = make(
        {"AT+CMGS=23": b"\r\n> ", BODY: b"\r\n+CMGS: 42\r\n\r\nOK\r\n"},
        split=split,
        echo=True,
    )
    async with asyncio.timeout(LIMIT_S):
        response = await engine.command(commands.cmgs(23, PDU))
    assert parsers.parse_cmgs(response.lines) == 42
    assert fake.written == b"AT+CMGS=23\r" + BODY.encode() + b"\x1a"


async def test_body_sent_tells_whether_a_failed_send_may_have_gone_out(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "CMGS_TIMEOUT_S", SHORT_S)
    engine, fake = make({"AT+CMGS=23": b"\r\n> ", BODY: None, "AT+CSQ": b"\r\nOK\r\n"})
    cmd = commands.cmgs(23, PDU)
    assert not engine.body_sent(cmd)
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(AtTimeout):
            await engine.command(cmd)
        assert engine.body_sent(
            cmd
        )  # the network may have the message: do not resend blindly
        assert not engine.body_sent(
            commands.cmgs(23, PDU)
        )  # another command, same text
        await engine.command(commands.csq())
    assert engine.body_sent(cmd)
    assert fake.units == ["AT+CMGS=23", BODY, "AT+CSQ"]


async def test_write_raw_goes_straight_to_the_port(make: Make) -> None:
    engine, fake = make({ESC_UNIT: None, "": None, "AT": b"\r\nOK\r\n"})
    engine.write_raw(b"\x1b\r")
    async with asyncio.timeout(LIMIT_S):
        await engine.command(commands.at())
    assert fake.units == [ESC_UNIT, "", "AT"]
    engine.close()
    async with asyncio.timeout(LIMIT_S):
        await engine.closed
    with pytest.raises(PortClosed):
        engine.write_raw(b"\x1b")


async def test_cmgs_refused_before_the_prompt_sends_no_body(make: Make) -> None:
    engine, fake = make({"AT+CMGS=23": b"\r\n+CMS ERROR: 304\r\n"})
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(CmsError) as info:
            await engine.command(commands.cmgs(23, PDU))
    assert info.value.code == 304
    assert fake.units == ["AT+CMGS=23"]


async def test_cmgs_prompt_timeout_sends_esc(
    make: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "CMGS_TIMEOUT_S", SHORT_S)
    engine, fake = make({"AT+CMGS=23": None, ESC_UNIT: None})
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(AtTimeout):
            await engine.command(commands.cmgs(23, PDU))
    assert fake.units == ["AT+CMGS=23", ESC_UNIT]


@pytest.mark.parametrize(
    ("reply", "error", "code", "transient"),
    [
        (b"\r\nERROR\r\n", AtCommandError, None, False),
        (b"\r\nCOMMAND NOT SUPPORT\r\n", AtCommandError, None, False),
        (b"\r\n+CME ERROR: 10\r\n", CmeError, 10, False),
        (b"\r\n+CME ERROR: SIM busy\r\n", CmeError, 14, False),
        (b"\r\n+CME ERROR: mystery\r\n", CmeError, 100, False),
        (b"\r\n+CMS ERROR: 500\r\n", CmsError, 500, True),
        (b"\r\n+CMS ERROR: 42\r\n", CmsError, 42, True),
        (b"\r\n+CMS ERROR: 321\r\n", CmsError, 321, False),
        (b"\r\n+CMS ERROR: memory full\r\n", CmsError, 322, False),
    ],
)
async def test_error_results_map_to_our_errors(
    make: Make, reply: bytes, error: type, code: int | None, transient: bool
) -> None:
    engine, _ = make({"AT+CMGR=1": reply})
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(error) as info:
            await engine.command(commands.cmgr(1))
    assert info.value.command == "AT+CMGR=1"
    assert info.value.result == reply.strip().decode()
    assert getattr(info.value, "code", None) == code
    assert info.value.transient is transient


async def test_errors_never_show_the_pin(make: Make) -> None:
    engine, _ = make({'AT+CPIN="1234"': b"\r\n+CME ERROR: 16\r\n"})
    async with asyncio.timeout(LIMIT_S):
        with pytest.raises(CmeError) as info:
            await engine.command(commands.cpin("1234"))
    assert "1234" not in str(info.value)
    assert info.value.code == 16


async def test_connection_lost_fails_the_pending_command(make: Make) -> None:
    engine, fake = make({"AT+CSQ": None})
    async with asyncio.timeout(LIMIT_S):
        task = asyncio.create_task(engine.command(commands.csq()))
        await fake.wrote("AT+CSQ")
        fake.lose(OSError(5, "Input/output error"))
        with pytest.raises(PortClosed) as info:
            await task
        assert info.value.port == "modem1"
        assert "Input/output error" in info.value.reason
        closed = await engine.closed
        assert isinstance(closed, OSError)
        with pytest.raises(PortClosed, match="not connected"):
            await engine.command(commands.at())


async def test_close_resolves_closed(make: Make) -> None:
    engine, _ = make({})
    engine.close()
    async with asyncio.timeout(LIMIT_S):
        assert await engine.closed is None
    engine.close()  # closing twice is harmless
    engine.connection_lost(None)  # and so is a second report from the transport
    assert await engine.closed is None


async def test_urcs_without_a_handler_are_only_logged(make: Make) -> None:
    _, fake = make({})
    fake.inject(b"\r\nRING\r\n")
    async with asyncio.timeout(LIMIT_S):
        await fake.drained()


async def test_a_command_before_the_port_is_open_fails() -> None:
    engine = AtEngine("modem1")
    with pytest.raises(PortClosed, match="not connected"):
        await engine.command(commands.at())
    assert engine.idle


async def test_a_cancelled_caller_does_not_steal_the_next_reply(make: Make) -> None:
    engine, fake = make(
        {"AT+CSQ": None, "AT+CGMM": b"\r\nEC25\r\n\r\nOK\r\n"}, split=SPLITS["one_byte"]
    )
    async with asyncio.timeout(LIMIT_S):
        first = asyncio.create_task(engine.command(commands.csq()))
        await fake.wrote("AT+CSQ")
        first.cancel()
        second = asyncio.create_task(engine.command(commands.cgmm()))
        await asyncio.wait([first])
        assert fake.units == ["AT+CSQ"]  # AT+CGMM waits: the modem still owes AT+CSQ
        fake.inject(
            b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
        )  # the late answer to the cancelled one
        response = await second
    assert first.cancelled()
    assert response.lines == ("EC25",)
    assert fake.units == ["AT+CSQ", "AT+CGMM"]


async def test_a_failing_urc_handler_is_logged_not_raised(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    def on_urc(urc: Urc) -> None:
        raise RuntimeError("handler bug")

    engine, fake = make({"AT": b"\r\nOK\r\n"}, on_urc=on_urc)
    fake.inject(b'\r\n+CMTI: "SM",1\r\n')
    async with asyncio.timeout(LIMIT_S):
        await fake.drained()
        assert (await engine.command(commands.at())).final.ok
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert record.getMessage() == "modem1: URC handler failed on +CMTI"
    assert record.exc_info is not None


async def test_unknown_lines_are_logged_with_the_modem_name(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="modem.at.engine")
    engine, _fake = make(
        {"AT+CSQ": b"\r\n\xffgarbage\r\n+CSQ: 1,99\r\n\r\nOK\r\n"}, name="sim7600"
    )
    async with asyncio.timeout(LIMIT_S):
        await engine.command(commands.csq())
    messages = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert (logging.WARNING, "sim7600: unrecognized line '\ufffdgarbage'") in messages
    assert all(m.startswith("sim7600: ") for _, m in messages)
    assert (logging.DEBUG, "sim7600: -> AT+CSQ") in messages


async def test_trace_shows_raw_bytes_both_ways_but_not_the_pin(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(trace.TRACE, logger="modem.trace")
    engine, _ = make({'AT+CPIN="1234"': b"\r\nOK\r\n"})
    async with asyncio.timeout(LIMIT_S):
        await engine.command(commands.cpin("1234"))
    messages = [r.getMessage() for r in caplog.records if r.name == "modem.trace"]
    assert messages == [
        "modem1 >>> b'AT+CPIN=\"****\"\\r'",
        "modem1 <<< b'\\r\\nOK\\r\\n'",
    ]
    assert all(
        r.levelname == "TRACE" for r in caplog.records if r.name == "modem.trace"
    )


async def test_trace_is_silent_unless_enabled(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="modem.trace")
    engine, _ = make({"AT": b"\r\nOK\r\n"})
    async with asyncio.timeout(LIMIT_S):
        await engine.command(commands.at())
    assert not [r for r in caplog.records if r.name == "modem.trace"]


async def test_wait_connected_waits_for_connection_made() -> None:
    engine = AtEngine("late")
    waiter = asyncio.ensure_future(engine.wait_connected(1.0))
    await asyncio.sleep(0)
    assert not waiter.done()  # serial transports connect on a later loop turn
    engine.connection_made(asyncio.WriteTransport())
    await waiter


async def test_wait_connected_fails_when_never_connected_or_already_lost() -> None:
    with pytest.raises(PortClosed, match="not connected within"):
        await AtEngine("never").wait_connected(0.01)
    engine = AtEngine("lost")
    engine.connection_lost(OSError("unplugged"))
    with pytest.raises(PortClosed, match="closed while connecting"):
        await engine.wait_connected(1.0)
