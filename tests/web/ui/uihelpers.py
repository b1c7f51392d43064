"""Helpers for the console's page tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

from gateway.domain import NumberKind, ThreadedMessage
from gateway.services import Services
from gateway.storage import queries
from gateway.storage.db import Store

CUSTOMER = "+447700900123"
# What a customer or a contact book may hold: each must show as text and run nothing.
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SVG = '"><svg onload=alert(1)>'
PAYLOADS = (SCRIPT, IMG, SVG)

_PDUS = itertools.count(1)
_THREAD_ID = re.compile(r'data-thread="(\d+)"')


def store_of(services: Services) -> Store:
    """The store, for writing what a running daemon would (inbound texts, modems)."""
    return services.outbound._store


async def inbound(
    services: Services,
    text: str,
    *,
    sender: str = CUSTOMER,
    modem: str = "usb0",
    now: datetime,
) -> ThreadedMessage:
    """A customer's text arrives (through the inbound path's own unit of work)."""
    return await store_of(services).run(_inbound_unit, sender, text, modem, now)


def _inbound_unit(sender: str, text: str, modem: str, now: datetime) -> ThreadedMessage:
    kind = (
        NumberKind.ALPHANUMERIC if any(c.isalpha() for c in sender) else NumberKind.E164
    )
    _, threaded = queries.receive_inbound_part(
        modem=modem,
        sender=sender,
        sender_kind=kind,
        pdu=f"ui-test-pdu-{next(_PDUS)}".encode(),
        text=text,
        encoding="gsm7",
        concat=None,
        network_at=now,
        received_at=now,
        reopen_window_s=0,
    )
    assert threaded is not None
    return threaded


def open_thread_id(page: str) -> int | None:
    match = _THREAD_ID.search(page)
    return None if match is None else int(match[1])


def send_parts(modem: str, now: datetime, report: int | None) -> list[int]:
    """ON THE DB THREAD: a modem takes every queued part (TP-MR 40, 41...), then the
    network reports on the first one (`report` is its TP-ST; None: no report)."""
    references = []
    while (claimed := queries.claim_next_outbound(modem, now=now)) is not None:
        reference = 40 + len(references)
        queries.mark_part_accepted(claimed.part.id, reference=reference, now=now)
        references.append(reference)
    if report is not None and references:
        queries.apply_status_report(modem, references[0], status=report, now=now)
    return references
