"""The real AtEngine drives the simulator through loopback_opener, however the bytes are cut."""

from __future__ import annotations

import asyncio

import pytest

from modem import pdu
from modem.at import commands
from modem.at.engine import AtEngine
from modem.at.events import Urc
from modem.errors import CmsError
from modem.sim.faults import FaultSpec
from modem.sim.network import SimNetwork
from modem.sim.server import (
    Delayed,
    Manipulator,
    OneByte,
    RandomSplit,
    Whole,
    loopback_opener,
)
from modem.transport import PortOpener

MODEM = "+15550100001"
PHONE = "+4915112345678"


@pytest.mark.parametrize(
    "manipulator",
    [Whole(), OneByte(), RandomSplit(seed=11), Delayed(0.001, chunk_size=7)],
    ids=["whole", "one-byte", "random-split", "delayed"],
)
async def test_engine_sends_receives_and_hears_urcs(manipulator: Manipulator) -> None:
    network = SimNetwork()
    modem = network.add_modem(MODEM)
    opener: PortOpener = loopback_opener(modem, manipulator)
    urcs: asyncio.Queue[Urc] = asyncio.Queue()
    _, protocol = await opener(lambda: AtEngine("sim", on_urc=urcs.put_nowait))
    assert isinstance(protocol, AtEngine)
    engine = protocol

    await engine.command(commands.echo(False))
    response = await engine.command(commands.csq())
    assert response.lines == ("+CSQ: 20,99",)

    part = pdu.encode_submit(PHONE, "from the engine")[0]
    sent = await engine.command(commands.cmgs(part.tpdu_length, part.data))
    assert sent.lines == ("+CMGS: 1",)
    assert [m.text for m in network.inbox(PHONE)] == ["from the engine"]

    network.send_text(PHONE, MODEM, "to the engine")
    urc = await asyncio.wait_for(urcs.get(), 5)
    assert urc.line == '+CMTI: "SM",1'

    modem.apply_faults(
        FaultSpec.from_dict(
            {"cms_error": 42, "cms_error_count": 1, "cms_error_command": "AT+CMGS"}
        )
    )
    with pytest.raises(CmsError) as info:
        await engine.command(commands.cmgs(part.tpdu_length, part.data))
    assert info.value.code == 42
    assert engine.idle
    engine.close()
    await asyncio.wait_for(engine.closed, 5)
