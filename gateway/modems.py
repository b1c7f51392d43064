"""The modems this box drives: their lifecycle, their events routed, their state recorded.

The driver calls `on_event` synchronously; message events go to InboundService's queues,
status events to this fleet's own queue, whose task records them in the modems table (so
`smsgw status` in another process sees them) and publishes ModemStatus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from gateway import events
from gateway.domain import utcnow
from gateway.ports import ManagedModem
from gateway.storage import queries
from modem.events import (
    Identified,
    ModemEvent,
    ModemState,
    RegistrationChanged,
    SignalChanged,
    SmsReceived,
    StateChanged,
    StatusReportReceived,
    StorageFull,
    UndecodablePdu,
)

if TYPE_CHECKING:
    from gateway.inbound import MessageEvent
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

STOP_TIMEOUT_S = 10.0  # closing one modem's port
_TROUBLE_STATES = (ModemState.DISCONNECTED, ModemState.SIM_LOCKED)

StatusEvent = (
    StateChanged | Identified | SignalChanged | RegistrationChanged | StorageFull
)


class ModemFleet:
    """Starts and stops the modems, routes their events and keeps the modems table true."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        *,
        on_message: Callable[[MessageEvent], None],
        node: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._bus = bus
        self._on_message = on_message
        self._node = node
        self._clock = clock
        self._modems: dict[str, ManagedModem] = {}
        self._own_numbers: dict[str, str | None] = {}
        self._status: asyncio.Queue[StatusEvent] = asyncio.Queue()
        self._recorder: asyncio.Task[None] | None = None
        self._ready_listeners: list[Callable[[str], None]] = []

    def add(self, modem: ManagedModem, *, own_number: str | None = None) -> None:
        """A modem to run (built with `on_event=fleet.on_event`)."""
        self._modems[modem.name] = modem
        self._own_numbers[modem.name] = own_number

    def on_ready(self, listener: Callable[[str], None]) -> None:
        """Call `listener(name)` when a modem becomes ready (the dispatcher's wake)."""
        self._ready_listeners.append(listener)

    def __iter__(self) -> Iterator[ManagedModem]:
        return iter(self._modems.values())

    def __len__(self) -> int:
        return len(self._modems)

    def get(self, name: str) -> ManagedModem | None:
        return self._modems.get(name)

    # -------------------------------------------------------------- events

    def on_event(self, event: ModemEvent) -> None:
        """The driver's callback: never blocks, never raises."""
        if isinstance(event, SmsReceived | StatusReportReceived | UndecodablePdu):
            self._on_message(event)
            return
        if isinstance(event, StateChanged):
            self._bus.publish(
                events.ModemStatus(
                    event.modem, event.state.value, event.reason, self._clock()
                )
            )
            if event.state is ModemState.READY:
                for listener in self._ready_listeners:
                    listener(event.modem)
        self._status.put_nowait(event)

    async def _record_forever(self) -> None:
        while True:
            event = await self._status.get()
            try:
                await self._record(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: the next state must still be recorded
                _LOGGER.exception("modem %s: could not record %s", event.modem, event)
            finally:
                self._status.task_done()

    async def _record(self, event: StatusEvent) -> None:
        fields: dict[str, str | int | None] = {}
        if isinstance(event, StateChanged):
            fields["state"] = event.state.value
            if event.state in _TROUBLE_STATES:
                fields["last_error"] = event.reason
        elif isinstance(event, Identified):
            info = event.info
            fields.update(
                imei=info.imei or None,
                imsi=info.imsi,
                iccid=info.iccid,
                manufacturer=info.manufacturer or None,
                model=info.model or None,
                profile=info.profile,
                own_number=info.own_number or self._own_numbers.get(event.modem),
            )
        elif isinstance(event, SignalChanged):
            fields["signal_dbm"] = event.rssi_dbm
        elif isinstance(event, RegistrationChanged):
            fields["registration"] = event.registration.value
            fields["operator"] = event.operator
        else:
            _LOGGER.warning("modem %s: storage %s is full", event.modem, event.storage)
            fields["last_error"] = f"message storage {event.storage} is full"
        await self._store.run(
            queries.upsert_modem, event.modem, now=self._clock(), **fields
        )

    async def drain(self) -> None:
        """Wait until every status event so far is recorded."""
        await self._status.join()

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Record the modems (and retire rows of modems no longer configured); start them."""
        now = self._clock()
        for record in await self._store.run(queries.list_modems):
            retired = (
                record.name not in self._modems
                and record.node in (None, self._node)
                and record.state != ModemState.STOPPED.value
            )
            if retired:
                await self._store.run(
                    queries.upsert_modem,
                    record.name,
                    now=now,
                    state=ModemState.STOPPED.value,
                    last_error="not in the configuration",
                )
        for name, modem in self._modems.items():
            await self._store.run(
                queries.upsert_modem,
                name,
                now=now,
                node=self._node,
                state=modem.state.value,
                own_number=self._own_numbers.get(name),
            )
        self._recorder = asyncio.create_task(
            self._record_forever(), name="modem-states"
        )
        for modem in self._modems.values():
            await modem.start()

    async def stop(self) -> None:
        """Close every modem's port; record the last states."""
        for modem in self._modems.values():
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await modem.stop()
            except TimeoutError:
                _LOGGER.warning(
                    "modem %s did not stop within %g s", modem.name, STOP_TIMEOUT_S
                )
        if self._recorder is not None:
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await self.drain()
            except TimeoutError:
                _LOGGER.warning("modem states not all recorded at stop")
            self._recorder.cancel()
            await asyncio.gather(self._recorder, return_exceptions=True)
