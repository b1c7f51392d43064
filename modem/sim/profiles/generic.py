"""A plain TS 27.005/27.007 modem with no vendor extensions."""

from __future__ import annotations

from modem.sim.profiles.base import Profile

PROFILE = Profile(
    name="generic",
    description="plain 27.005/27.007 modem",
    manufacturer="SmsGw",
    model="SIM-27005",
    revision="1.0.0",
)
