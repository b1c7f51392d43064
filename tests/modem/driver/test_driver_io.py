"""The driver over real I/O: the simulator served on TCP and on a PTY, opened by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from driverkit import PHONE, Rig, fast_timing, rig
from test_driver_faults import TEXTS_BOTH_WAYS, fault, works

from modem.events import ModemState, StateChanged
from modem.pdu import encode_submit
from modem.sim.server import open_pty, serve_tcp
from modem.transport import url_opener

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_timing(monkeypatch)


@pytest.fixture(params=["tcp", "pty"])
async def io_rig(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Rig]:
    """A driver that opens the simulator by URL: socket://... or a PTY's symlink."""
    async with rig(start=False) as r:
        if request.param == "tcp":
            server = await serve_tcp(r.sim, "127.0.0.1", 0)
            r.modem._opener = url_opener(server.url)
        else:
            link = tmp_path / "ttySIM0"
            pty = await open_pty(r.sim, link)
            r.modem._opener = url_opener(str(link))
        await r.modem.start()
        yield r
        await r.modem.stop()
        if request.param == "tcp":
            await server.close()
        else:
            pty.close()


@pytest.mark.parametrize("text", TEXTS_BOTH_WAYS.values(), ids=TEXTS_BOTH_WAYS.keys())
async def test_send_and_receive(io_rig: Rig, text: str) -> None:
    r = io_rig
    await r.ready()
    for part in encode_submit(PHONE, text, concat_ref=3, request_status_report=True):
        await r.modem.send_pdu(part)
    await r.wait_for(lambda: bool(r.network.inbox(PHONE)))
    assert r.network.inbox(PHONE)[0].text == text
    pdus = r.network.send_text(PHONE, r.sim.number, text)
    (message,) = await r.receive_and_release(len(pdus))
    assert message.text == text


async def test_port_vanishes_and_returns(io_rig: Rig) -> None:
    r = io_rig
    await r.ready()
    fault(r, vanish_s=0.3)
    await r.wait_for(
        lambda: any(
            isinstance(e, StateChanged) and e.state is ModemState.DISCONNECTED
            for e in r.events
        )
    )
    await works(r, "the port vanishing")


async def test_reboot(io_rig: Rig) -> None:
    r = io_rig
    await r.ready()
    before = r.modem.stats.reconnects
    fault(r, reboot=True)
    await r.wait_for(lambda: r.modem.stats.reconnects > before)
    await works(r, "a reboot")
