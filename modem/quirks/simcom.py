"""SIMCom SIM800 / SIM7600: RDY, Call Ready and SMS Ready banners; AT+CCID."""

from __future__ import annotations

from modem.quirks.base import Quirks

SIMCOM = Quirks(
    name="simcom",
    manufacturers=("simcom",),
    iccid=("CCID", "CRSM"),
    boot_banners=frozenset(
        {"RDY", "+CPIN: READY", "Call Ready", "SMS Ready", "PB DONE"}
    ),
    # the SIM800 answers AT before its SMS stack is up; give it a moment after a reboot
    settle_s=0.0,
)
