"""Quectel EC2x/EG9x: RDY and +QIND banners, AT+QCCID, 0-based message indices."""

from __future__ import annotations

from modem.sim.profiles.base import Profile

PROFILE = Profile(
    name="quectel",
    description="Quectel EC25/EG25",
    manufacturer="Quectel",
    model="EC25",
    revision="EC25EFAR06A08M4G",
    storages=(("SM", 50), ("ME", 255), ("SR", 20)),
    first_index=0,
    iccid_commands=(("+QCCID", "+QCCID: {iccid}"), ("+CCID", "+CCID: {iccid}")),
    boot_banners=("RDY", "+CFUN: 1", "+CPIN: {cpin}", "+QUSIM: 1", "+QIND: SMS DONE"),
    memfull_urc='+QIND: "smsfull","{mem}"',
    cnmi_test="+CNMI: (0-2),(0-3),(0-2),(0-2),(0,1)",
    ok_commands=frozenset({"+QURCCFG", "+QSCLK", "+QCFG", "+QINDCFG"}),
)
