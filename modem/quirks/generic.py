"""Plain TS 27.005/27.007: what every modem claims to be."""

from __future__ import annotations

from modem.quirks.base import Quirks

GENERIC = Quirks(name="generic")
