"""Vendor profiles: how a simulated modem of a given family looks and misbehaves."""

from __future__ import annotations

from modem.sim.profiles import generic, huawei, quectel, simcom
from modem.sim.profiles.base import Profile

__all__ = ["PROFILES", "Profile", "UnknownProfile", "get_profile"]

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (generic.PROFILE, simcom.PROFILE, quectel.PROFILE, huawei.PROFILE)
}


class UnknownProfile(ValueError):
    """A profile name that no simulated modem family answers to."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"unknown profile {name!r} (known: {', '.join(sorted(PROFILES))})"
        )
        self.name = name


def get_profile(name: str) -> Profile:
    """The profile called `name`; raises UnknownProfile."""
    try:
        return PROFILES[name.lower()]
    except KeyError:
        raise UnknownProfile(name) from None
