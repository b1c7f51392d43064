"""Huawei sticks (E1752, E3372 ...): ^RSSI/^MODE/^BOOT noise, ^ICCID?, ME storage."""

from __future__ import annotations

from modem.at import commands
from modem.quirks.base import Quirks

HUAWEI = Quirks(
    name="huawei",
    manufacturers=("huawei",),
    # ^CURC=0 stops the periodic ^RSSI/^BOOT/^MODE reports; we poll the signal ourselves
    init=(commands.raw("AT^CURC=0", free_lines=False),),
    iccid=("HUAWEI", "CRSM"),
    sweep_storages=("ME", "SM", "SR"),
    boot_banners=frozenset({"^SYSSTART", "+CPIN: READY"}),
)
