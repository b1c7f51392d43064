"""Frozen values of the overview: what the Modems page, /healthz and the plain inbox list show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain import ConversationStatus, Priority


@dataclass(frozen=True, slots=True)
class ModemView:
    """One modem as the Modems page shows it: the daemon's last record plus its queue."""

    name: str
    node: str | None  # the box it hangs on, when boxes share a database
    state: str  # modem.events.ModemState values
    signal_dbm: int | None
    operator: str | None
    registration: str | None
    own_number: str | None
    model: str | None
    queue_depth: int  # outbound parts queued for it
    last_error: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NodeView:
    """A box on this database as the Modems page shows it."""

    name: str
    this_box: bool  # the box serving the page
    alive: bool  # beat within [gateway] node_timeout_s; else taken as gone
    heartbeat_at: datetime
    started_at: datetime
    modems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Health:
    """/healthz: the store answers; each modem's state."""

    store_ok: bool
    modems: tuple[tuple[str, str], ...]  # (name, state)
    unassigned_queue: int  # queued parts no modem has taken yet

    @property
    def ok(self) -> bool:
        return self.store_ok

    @property
    def ready_modems(self) -> int:
        return sum(state == "ready" for _, state in self.modems)


@dataclass(frozen=True, slots=True)
class ConversationRow:
    """A line of the plain conversation list."""

    id: int
    number: str
    contact_name: str | None
    status: ConversationStatus
    priority: Priority
    assignee_id: int | None
    modem: str | None
    updated_at: datetime
    last_inbound_at: datetime | None
