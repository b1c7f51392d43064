"""A TRACE-level (5) tap on the raw bytes crossing a modem port, both directions.

Enable with `logging.getLogger("modem.trace").setLevel(modem.trace.TRACE)`. Lines carry the
modem's log name and the bytes as a Python bytes literal, so CR, LF, Ctrl-Z and non-UTF-8 bytes
are visible. Message bodies appear here; TRACE is for debugging a modem, never for production.
"""

from __future__ import annotations

import logging

TRACE = 5
logging.addLevelName(TRACE, "TRACE")

_LOGGER = logging.getLogger(__name__)


class Tap:
    """Logs the bytes read from and written to one port."""

    __slots__ = ("log_name",)

    def __init__(self, log_name: str) -> None:
        self.log_name = log_name

    def received(self, data: bytes) -> None:
        """Log bytes read from the modem."""
        if _LOGGER.isEnabledFor(TRACE):
            _LOGGER.log(TRACE, "%s <<< %r", self.log_name, data)

    def sent(self, data: bytes) -> None:
        """Log bytes written to the modem (callers pass a redacted copy for secrets)."""
        if _LOGGER.isEnabledFor(TRACE):
            _LOGGER.log(TRACE, "%s >>> %r", self.log_name, data)
