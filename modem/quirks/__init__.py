"""Per-vendor quirks: generic 27.005, SIMCom, Quectel, Huawei."""

from __future__ import annotations

from modem.quirks.base import Quirks
from modem.quirks.generic import GENERIC
from modem.quirks.huawei import HUAWEI
from modem.quirks.quectel import QUECTEL
from modem.quirks.simcom import SIMCOM

PROFILES: dict[str, Quirks] = {q.name: q for q in (GENERIC, SIMCOM, QUECTEL, HUAWEI)}
AUTO = "auto"


def by_name(name: str) -> Quirks:
    """The named profile; ValueError listing the known names otherwise."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join([AUTO, *PROFILES])
        raise ValueError(f"unknown modem profile {name!r} (known: {known})") from None


def detect(manufacturer: str) -> Quirks:
    """The profile whose manufacturer string matches AT+CGMI, else generic."""
    lowered = manufacturer.lower()
    for quirks in PROFILES.values():
        if any(m in lowered for m in quirks.manufacturers):
            return quirks
    return GENERIC


__all__ = ["AUTO", "PROFILES", "Quirks", "by_name", "detect"]
