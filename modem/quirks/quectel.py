"""Quectel EC2x: RDY and +QIND: SMS DONE banners; AT+QCCID; URCs on the AT port."""

from __future__ import annotations

from modem.at import commands
from modem.quirks.base import Quirks

QUECTEL = Quirks(
    name="quectel",
    manufacturers=("quectel",),
    # route URCs to the USB AT port we use, not the (unused) UART
    init=(commands.raw('AT+QURCCFG="urcport","usbat"', free_lines=False),),
    iccid=("QCCID", "CCID", "CRSM"),
    boot_banners=frozenset(
        {"RDY", "+CPIN: READY", "+QIND: SMS DONE", "+QIND: PB DONE"}
    ),
)
