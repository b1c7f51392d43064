"""systemd's notify protocol, in a few lines: READY=1, WATCHDOG=1, STOPPING=1, STATUS=...

No dependency for it: a datagram to $NOTIFY_SOCKET is the whole protocol (sd_notify(3)).
Outside systemd every call is a no-op.
"""

from __future__ import annotations

import logging
import os
import socket

_LOGGER = logging.getLogger(__name__)


def under_systemd() -> bool:
    """True when systemd started this process (journald then timestamps our lines)."""
    return bool(os.environ.get("INVOCATION_ID"))


def notify(message: str) -> bool:
    """Send one notification (e.g. "READY=1"); False when there is nobody to tell."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            # never wait on systemd from the event loop: a full queue drops the ping
            sock.setblocking(False)
            sock.sendto(message.encode("utf-8"), address)
    except OSError as exc:
        _LOGGER.warning("systemd notify %r failed: %s", message.split("=")[0], exc)
        return False
    return True


def watchdog_interval_s() -> float | None:
    """How often to send WATCHDOG=1 (half of WatchdogSec), or None when not asked to."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid.isdigit() and int(pid) != os.getpid():
        return None  # meant for another process (we were started by a wrapper)
    return int(usec) / 1_000_000 / 2
