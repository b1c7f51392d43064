"""SimProtocol over its transports: in memory, TCP and a PTY."""

from __future__ import annotations

import asyncio
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simhelpers import FakeClock, Host, connect, wait_until

from modem.errors import PortClosed
from modem.sim.network import SimNetwork
from modem.sim.server import (
    Delayed,
    Lossy,
    Manipulator,
    OneByte,
    RandomSplit,
    SimProtocol,
    Whole,
    loopback_opener,
    open_pty,
    serve_tcp,
)
from modem.transport import open_port

NUMBER = "+15550100001"
SUBMIT_HEX = "07915155000000F011000D91945111325476F80000FF0CC8329BFD06CDD3EE33BB0C"


@pytest.fixture
def network() -> SimNetwork:
    return SimNetwork()


async def test_echo_then_reply_as_one_write(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    _, host = await loopback_opener(modem)(Host)
    assert isinstance(host, Host)
    assert await host.command("AT") == b"AT\r\r\nOK\r\n"
    assert await host.command("ATE0") == b"ATE0\r\r\nOK\r\n"
    assert await host.command("AT+CSQ") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"


@pytest.mark.parametrize(
    "manipulator",
    [Whole(), OneByte(), RandomSplit(seed=7), Delayed(0.001, chunk_size=5)],
    ids=["whole", "one-byte", "random-split", "delayed"],
)
async def test_manipulators_keep_every_byte_in_order(
    network: SimNetwork, manipulator: Manipulator
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem, manipulator)
    out = await host.command("AT+CSQ;+CBC")
    assert out == b"\r\n+CSQ: 20,99\r\n\r\n+CBC: 0,100\r\n\r\nOK\r\n"


async def test_one_byte_reads_arrive_one_byte_at_a_time(network: SimNetwork) -> None:
    host = await connect(network.add_modem(NUMBER), OneByte())
    host.reads.clear()
    await host.command("AT")
    assert {len(r) for r in host.reads} == {1}


async def test_lossy_loses_bytes(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    opener = loopback_opener(modem, Lossy(rate=1.0))
    _, host = await opener(Host)
    assert isinstance(host, Host)
    host.send("AT\r")
    assert await host.idle() == b""
    assert modem.state.command_counts["AT"] == 1


async def test_host_lines_may_come_in_pieces_and_with_lf(network: SimNetwork) -> None:
    host = await connect(network.add_modem(NUMBER))
    for piece in ("A", "T+C", "SQ\r", "\n"):
        host.send(piece)
    assert await host.wait_for(b"OK\r\n") == b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    # ESC throws away a half-typed line (gammu opens with ESC CR)
    host.send("AT+CS\x1b\r")
    assert await host.idle() == b""
    host.send("AT+CBCX\x08\r")
    assert await host.wait_for(b"OK\r\n") == b"\r\n+CBC: 0,100\r\n\r\nOK\r\n"


async def test_cmgs_body_in_pieces_and_urcs_wait_for_it(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem, OneByte())
    host.send("AT+CMGS=26\r")
    assert await host.wait_for(b"> ") == b"\r\n> "
    modem.emit_urc("RING")
    for i in range(0, len(SUBMIT_HEX), 7):
        host.send(SUBMIT_HEX[i : i + 7])
    assert await host.idle() == b""
    host.send("\x1a")
    out = await host.wait_for(b"RING\r\n")
    assert out == b"\r\n+CMGS: 1\r\n\r\nOK\r\n\r\nRING\r\n"
    assert len(modem.state.submitted) == 1


async def test_echo_covers_the_body_like_real_modems(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    _, host = await loopback_opener(modem)(Host)
    assert isinstance(host, Host)
    assert await host.command("AT+CMGS=26", b"> ") == b"AT+CMGS=26\r\r\n> "
    host.send(SUBMIT_HEX + "\x1a")
    assert (
        await host.wait_for(b"OK\r\n")
        == SUBMIT_HEX.encode() + b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    )


async def test_urcs_reach_every_host(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    first = await connect(modem)
    second = await connect(modem)
    modem.emit_urc('+CMTI: "SM",1')
    assert await first.wait_for(b"\r\n") == b'\r\n+CMTI: "SM",1\r\n'
    assert await second.wait_for(b"\r\n") == b'\r\n+CMTI: "SM",1\r\n'
    assert modem.hosts == 2


async def test_loopback_port_vanishes_and_returns(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    opener = loopback_opener(modem)
    _, host = await opener(Host)
    assert isinstance(host, Host)
    modem.vanish(0.2)
    exc = await asyncio.wait_for(host.lost, 5)
    assert isinstance(exc, ConnectionResetError)
    with pytest.raises(PortClosed):
        await opener(Host)

    async def reopen() -> Host:
        while True:
            try:
                _, back = await opener(Host)
            except PortClosed:
                await asyncio.sleep(0.02)
                continue
            assert isinstance(back, Host)
            return back

    back = await asyncio.wait_for(reopen(), 5)
    assert await back.command("AT") == b"AT\r\r\nOK\r\n"


async def test_closing_the_host_side_detaches_it(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    assert host.transport is not None
    host.transport.close()
    await asyncio.wait_for(host.lost, 5)
    await wait_until(lambda: modem.hosts == 0, 5)


@pytest.mark.integration
async def test_tcp_serves_hosts_and_vanishes(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    tcp = await serve_tcp(modem, "127.0.0.1", 0)
    try:
        _, host = await open_port(tcp.url, Host)
        assert isinstance(host, Host)
        assert await host.command("AT") == b"AT\r\r\nOK\r\n"
        modem.vanish(0.3)
        await asyncio.wait_for(host.lost, 5)
        with pytest.raises(PortClosed):
            await open_port(tcp.url, Host)

        async def reconnect() -> Host:
            while True:
                try:
                    _, back = await open_port(tcp.url, Host)
                except PortClosed:
                    await asyncio.sleep(0.05)
                    continue
                assert isinstance(back, Host)
                return back

        back = await asyncio.wait_for(reconnect(), 5)
        assert await back.command("AT") == b"AT\r\r\nOK\r\n"
        assert back.transport is not None
        back.transport.close()
    finally:
        await tcp.close()


@pytest.mark.integration
async def test_pty_with_a_symlink_survives_reopen_and_vanishes(
    network: SimNetwork, tmp_path: Path
) -> None:
    modem = network.add_modem(NUMBER)
    link = tmp_path / "modem"
    pty = await open_pty(modem, link)
    try:
        assert link.is_symlink()
        assert os.readlink(link) == pty.slave_path
        for _ in range(2):  # a client may close and open it again
            transport, host = await open_port(str(link), Host)
            assert isinstance(host, Host)
            assert await host.command("AT") == b"AT\r\r\nOK\r\n"
            transport.close()
            await asyncio.wait_for(host.lost, 5)
        first_slave = pty.slave_path
        modem.vanish(0.3)
        assert not link.exists()
        await wait_until(link.exists, 5)
        assert pty.slave_path
        assert os.readlink(link) == pty.slave_path
        transport, host = await open_port(str(link), Host)
        assert isinstance(host, Host)
        assert await host.command("AT") == b"AT\r\r\nOK\r\n"
        transport.close()
        await asyncio.wait_for(host.lost, 5)
        assert first_slave  # the old PTY is gone; the link points at its successor
    finally:
        pty.close()
    assert not link.exists()


class _Recorder(asyncio.WriteTransport):
    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.out += data

    def is_closing(self) -> bool:
        return False


HOST_BYTES = (
    b"\x1b\rATE1\rAT+CSQ\r\nAT+CMGS=26\r"
    + SUBMIT_HEX.encode()
    + b"\x1aAT+CMEE=1;+CREG=2\rAT+CMGS=26\r00\x1bAT+CREG?\r"
)


def _replies(chunks: list[bytes]) -> bytes:
    modem = SimNetwork(clock=FakeClock()).add_modem(NUMBER)
    protocol = SimProtocol(modem)
    transport = _Recorder()
    protocol.connection_made(transport)
    for chunk in chunks:
        protocol.data_received(chunk)
    return bytes(transport.out)


def test_the_whole_host_stream_gets_the_expected_replies() -> None:
    replies = _replies([HOST_BYTES])
    assert replies == (
        b"ATE1\r\r\nOK\r\n"
        b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
        b"AT+CMGS=26\r\r\n> " + SUBMIT_HEX.encode() + b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
        b"AT+CMEE=1;+CREG=2\r\r\nOK\r\n"
        b"AT+CMGS=26\r\r\n> 00\r\nOK\r\n"
        b'AT+CREG?\r\r\n+CREG: 2,1,"1A2B","00C3D4"\r\n\r\nOK\r\n'
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, len(HOST_BYTES) - 1), unique=True))
def test_any_split_of_the_host_stream_gives_the_same_replies(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(HOST_BYTES)]
    chunks = [HOST_BYTES[a:b] for a, b in itertools.pairwise(bounds)]
    assert _replies(chunks) == _replies([HOST_BYTES])
