"""What differs between modem families, as data the driver reads (ModemManager's plugin idea)."""

from __future__ import annotations

from dataclasses import dataclass, field

from modem.at.commands import CcidVariant, Command


@dataclass(frozen=True, slots=True)
class Quirks:
    """One modem family's differences from plain TS 27.005/27.007."""

    name: str
    # lower-case substrings of AT+CGMI (manufacturer) that select this profile
    manufacturers: tuple[str, ...] = ()
    # extra commands after the standard init (silencing noise, enabling URCs ...)
    init: tuple[Command, ...] = ()
    # ICCID commands to try in order; the first that answers wins
    iccid: tuple[CcidVariant, ...] = ("CCID", "CRSM")
    # stores swept by AT+CMGL, in order, when AT+CPMS=? offers them
    sweep_storages: tuple[str, ...] = ("SM", "ME", "SR")
    # lines that mean "the modem (re)booted" when they arrive after init
    boot_banners: frozenset[str] = field(
        default_factory=lambda: frozenset(
            {"RDY", "+CPIN: READY", "SMS Ready", "SMS DONE"}
        )
    )
    # the modem needs this long after opening before it answers reliably (USB re-enumeration)
    settle_s: float = 0.0
    # some firmwares drop the first command after a reboot: probe with AT this many times
    wake_attempts: int = 10
    # AT+CSMS=1 (phase 2+): +CMT/+CDS must be acknowledged with AT+CNMA
    phase2: bool = True
    # CNMI <mt>: 1 = store and announce (+CMTI), 2 = route the PDU directly (+CMT)
    cnmi_mt: int = 1
    # CNMI <ds>: preferred order, the first offered by AT+CNMI=? wins (2 = +CDSI, 1 = +CDS)
    cnmi_ds: tuple[int, ...] = (2, 1)
