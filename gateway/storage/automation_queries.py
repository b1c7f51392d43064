"""Units of work (and pieces of units) for support automation: its state per conversation,
its rules, queues and their members, agents' availability.

Every function runs ON THE DB THREAD, inside `store.run`; records out, never rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from gateway.storage.models import DB

_LOGGER = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def in_savepoint(
    what: str, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> tuple[R | None, bool]:
    """Run `fn` in a savepoint of the current unit: (its value, True), or (None, False)
    with what it did rolled back and logged when it raised.

    Automation must never fail the unit that commits a customer's message: the part would
    stay on the SIM and be read again and again.
    """
    try:
        with DB.atomic():
            return fn(*args, **kwargs), True
    except Exception:
        _LOGGER.exception("%s failed; rolled back, the message is kept", what)
        return None, False
