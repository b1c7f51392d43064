"""SIMCom SIM800/SIM7600: boot banners up to "SMS Ready", AT+CCID with a bare ICCID line."""

from __future__ import annotations

from modem.sim.profiles.base import Profile

PROFILE = Profile(
    name="simcom",
    description="SIMCom SIM800/SIM7600",
    manufacturer="SIMCOM_Ltd",
    model="SIMCOM_SIM800L",
    revision="Revision:1418B05SIM800L24",
    storages=(("SM", 30), ("ME", 50), ("SR", 20)),
    # SIM800 prints the ICCID without a prefix; SIM7600 answers AT+CICCID with +ICCID:
    iccid_commands=(("+CCID", "{iccid}"), ("+CICCID", "+ICCID: {iccid}")),
    boot_banners=("RDY", "+CFUN: 1", "+CPIN: {cpin}", "Call Ready", "SMS Ready"),
    cnmi_test="+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)",
    ok_commands=frozenset({"+CSCLK", "+CLTS", "+CSDT", "+CIURC"}),
)
