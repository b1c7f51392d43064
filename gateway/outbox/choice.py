"""PURE modem choice: replies leave from the modem the customer last texted; other texts
from the least busy healthy modem."""

from __future__ import annotations

from collections.abc import Collection, Mapping


def least_busy(
    healthy: Collection[str], depths: Mapping[str | None, int]
) -> str | None:
    """The healthy modem with the fewest queued parts (ties: by name), or None."""
    if not healthy:
        return None
    return min(healthy, key=lambda name: (depths.get(name, 0), name))


def choose_modem(
    sticky: str | None,
    healthy: Collection[str],
    depths: Mapping[str | None, int],
) -> str | None:
    """The modem a new message is queued for; None lets the first free modem take it.

    The customer's modem when it is healthy (they see the number they texted); else the
    least busy healthy one; with none healthy, the customer's modem still (it is the likely
    one to come back; the dispatcher moves the message if it stays down).
    """
    if sticky is not None and sticky in healthy:
        return sticky
    return least_busy(healthy, depths) or sticky


def failover_target(
    current: str, healthy: Collection[str], depths: Mapping[str | None, int]
) -> str | None:
    """Another healthy modem for a message `current` keeps failing, or None."""
    return least_busy([name for name in healthy if name != current], depths)
