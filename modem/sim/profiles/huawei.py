"""Huawei E3372/E1752-like sticks: ^RSSI/^MODE noise, ^ICCID, COMMAND NOT SUPPORT."""

from __future__ import annotations

from modem.sim.profiles.base import Profile

PROFILE = Profile(
    name="huawei",
    description="Huawei E3372 (stick mode)",
    manufacturer="huawei",
    model="E3372",
    revision="22.328.62.00.143",
    storages=(("SM", 50), ("ME", 255), ("SR", 10)),
    mem1_choices=("SM", "ME", "SR"),
    mem2_choices=("SM", "ME"),
    mem3_choices=("SM", "ME"),
    first_index=0,
    iccid_commands=(("^ICCID", "^ICCID: {iccid}"),),
    boot_banners=("^BOOT:20151962,0,0,0,6", "^SYSSTART"),
    memfull_urc='^SMMEMFULL: "{mem}"',
    unsupported_reply="COMMAND NOT SUPPORT",
    noise_urcs=("^RSSI: 20", "^MODE: 5,4", "^DSFLOWRPT:00000001,00000000,00000000"),
    noise_every=5,
    cnmi_test="+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)",
    ok_commands=frozenset({"^CURC", "^PORTSEL", "^SYSCFG", "^DDSETEX"}),
)
