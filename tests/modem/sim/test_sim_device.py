"""How a simulated modem routes what the network hands it (CNMI, CSMS/CNMA, stores)."""

from __future__ import annotations

import pytest
from simhelpers import FakeClock, connect

from modem.sim import device
from modem.sim.network import SimNetwork

NUMBER = "+15550100001"
DELIVER_HEX = "07915155000000F0040A9194710000100000621172714401000B49B7F85D7793416F7719"
DELIVER = bytes.fromhex(DELIVER_HEX)
# routing does not look inside reports; any octets do for these tests
REPORT = bytes.fromhex("0006050D91945111325476F8621172713411006211727134210000")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def network(clock: FakeClock) -> SimNetwork:
    return SimNetwork(clock=clock)


async def test_mt1_stores_and_indicates(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    assert modem.deliver(DELIVER, 28) == "stored"
    assert await host.wait_for(b"\r\n") == b'\r\n+CMTI: "SM",1\r\n'
    await host.command('AT+CPMS="SM","SM","ME"')
    assert modem.deliver(DELIVER, 28) == "stored"
    assert await host.wait_for(b"\r\n") == b'\r\n+CMTI: "ME",1\r\n'


async def test_mt0_stores_silently(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CNMI=2,0,0,0,0")
    assert modem.deliver(DELIVER, 28) == "stored"
    assert await host.idle() == b""
    assert modem.state.storage("SM").used == 1


async def test_mode0_buffers_indications_until_the_host_asks(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CNMI=0,1,0,0,0")
    modem.deliver(DELIVER, 28)
    assert await host.idle() == b""
    host.send("AT+CNMI=2,1,0,0,0\r")
    assert await host.wait_for(b"+CMTI") == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


async def test_mt2_routes_to_the_host_without_ack_in_phase_2(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CNMI=2,2,0,0,0")
    assert modem.deliver(DELIVER, 28) == "direct"
    assert (
        await host.wait_for(b"F7719\r\n")
        == f"\r\n+CMT: ,28\r\n{DELIVER_HEX}\r\n".encode()
    )
    assert modem.state.storage("SM").used == 0
    assert modem.state.awaiting_ack == 0


async def test_mt2_with_csms1_wants_cnma(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CSMS=1;+CNMI=2,2,0,0,0")
    modem.deliver(DELIVER, 28)
    await host.wait_for(b"F7719\r\n")
    assert modem.state.awaiting_ack == 1
    assert await host.command("AT+CNMA") == b"\r\nOK\r\n"
    assert modem.state.awaiting_ack == 0
    network.scheduler.clock.move(device.CNMA_TIMEOUT_S + 1)  # type: ignore[attr-defined]
    network.scheduler.advance()
    assert modem.state.storage("SM").used == 0


async def test_missing_cnma_makes_the_network_store_it(
    network: SimNetwork, clock: FakeClock
) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CSMS=1;+CNMI=2,2,0,0,0")
    modem.deliver(DELIVER, 28)
    await host.wait_for(b"F7719\r\n")
    clock.move(device.CNMA_TIMEOUT_S - 1)
    assert network.scheduler.advance() == 0
    clock.move(2)
    assert network.scheduler.advance() == 1
    assert await host.wait_for(b"\r\n") == b'\r\n+CMTI: "SM",1\r\n'
    assert modem.state.awaiting_ack == 0
    assert modem.state.storage("SM").used == 1


async def test_a_refused_cmt_is_stored(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CSMS=1;+CNMI=2,2,0,0,0")
    modem.deliver(DELIVER, 28)
    await host.wait_for(b"F7719\r\n")
    host.send("AT+CNMA=2\r")
    assert await host.wait_for(b"+CMTI") == b'\r\nOK\r\n\r\n+CMTI: "SM",1\r\n'


def test_mt2_with_no_host_connected_stores(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    modem.state.cnmi = modem.state.cnmi.__class__(2, 2, 0, 0, 0)
    assert modem.deliver(DELIVER, 28) == "stored"


async def test_reports_per_cnmi_ds(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,1,0")
    assert modem.deliver_report(REPORT, 26) == "direct"
    assert (
        await host.wait_for(b"0000\r\n")
        == f"\r\n+CDS: 26\r\n{REPORT.hex().upper()}\r\n".encode()
    )
    await host.command("AT+CNMI=2,1,0,2,0")
    assert modem.deliver_report(REPORT, 26) == "stored"
    assert await host.wait_for(b"\r\n") == b'\r\n+CDSI: "SR",1\r\n'
    await host.command("AT+CNMI=2,1,0,0,0")
    assert modem.deliver_report(REPORT, 26) == "stored"
    assert await host.idle() == b""
    assert modem.state.storage("SM").used == 1
    assert modem.reports_delivered == 3
    assert modem.reports_dropped == 0


async def test_a_report_for_a_full_store_is_dropped_and_counted(
    network: SimNetwork,
) -> None:
    # what a modem does when nobody empties its report store; the crash harness counts
    # these to tell a report the box lost from one the modem never kept
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,2,0")
    capacity = modem.state.storage("SR").capacity
    for _ in range(capacity):
        assert modem.deliver_report(REPORT, 26) == "stored"
    assert modem.deliver_report(REPORT, 26) == "dropped"
    assert (modem.reports_delivered, modem.reports_dropped) == (capacity + 1, 1)
    assert modem.state.storage("SR").used == capacity


async def test_reboot_stores_what_was_not_acknowledged(network: SimNetwork) -> None:
    modem = network.add_modem(NUMBER)
    host = await connect(modem)
    await host.command("AT+CSMS=1;+CNMI=2,2,0,0,0")
    modem.deliver(DELIVER, 28)
    await host.wait_for(b"F7719\r\n")
    modem.reboot()
    assert modem.state.storage("SM").used == 1
    assert modem.state.awaiting_ack == 0
