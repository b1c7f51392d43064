"""`Modem`: one GSM modem, kept connected, initialised and registered; it emits events.

The driver reports what the modem says and does what its owner asks. It never decides
policy: it does not delete or acknowledge a received message until told (`release`), does
not retry sends, and does not pick modems. It survives what real modems do: reboots,
vanishing ports, hangs, noise and storage full.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from modem import quirks as quirks_mod
from modem.at import commands, parsers
from modem.at.commands import Command
from modem.at.engine import AtEngine, CommandTiming, Response
from modem.at.events import Urc
from modem.errors import (
    AtError,
    AtTimeout,
    CmeError,
    CmsError,
    ModemError,
    PduDecodeError,
    PortClosed,
)
from modem.events import (
    DirectDelivery,
    Handle,
    Identified,
    ModemEvent,
    ModemInfo,
    ModemState,
    Registration,
    RegistrationChanged,
    SignalChanged,
    SmsReceived,
    StateChanged,
    StatusReportReceived,
    StorageFull,
    StoredLocation,
    UndecodablePdu,
)
from modem.pdu import decode
from modem.pdu.types import EncodedPart, SmsDeliver, SmsSubmit, StatusReport
from modem.quirks import Quirks
from modem.transport import PortOpener

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")
_REGISTERED = (Registration.HOME, Registration.ROAMING)

# Timing, in seconds. Tests patch these.
CONNECT_TIMEOUT_S = 5.0  # from the port opening until the transport is wired up
WAKE_TIMEOUT_S = 2.0  # one AT probe while the modem boots
BOOT_TIMEOUT_S = 60.0  # a modem that has not answered AT by then is reconnected
SIM_READY_TIMEOUT_S = 20.0  # after AT+CPIN=<pin>, until +CPIN: READY
SIM_POLL_S = 1.0
POLL_INTERVAL_S = 30.0  # signal and registration
SWEEP_INTERVAL_S = 300.0  # default for ModemOptions.sweep_interval_s
REEMIT_AFTER_S = 120.0  # a stored PDU handed over and not released is offered again
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 60.0
SIM_LOCKED_RETRY_S = 300.0
MAX_CONSECUTIVE_TIMEOUTS = 2  # then the modem is hung: reconnect


class SendUnconfirmed(ModemError):
    """The PDU was handed to the modem but no result came back: it may have been sent."""

    def __init__(self, modem: str, reason: str) -> None:
        super().__init__(
            f"{modem}: send not confirmed ({reason}); it may have been sent"
        )
        self.modem = modem
        self.reason = reason


class ModemNotReady(ModemError):
    """The modem cannot send now (not connected, SIM locked, not registered)."""

    def __init__(self, modem: str, state: ModemState) -> None:
        super().__init__(f"{modem} is {state.value}, not ready to send")
        self.modem = modem
        self.state = state

    @property
    def transient(self) -> bool:
        return True


class _Work(enum.Enum):
    SWEEP = "sweep"


@dataclass(frozen=True, slots=True)
class ModemOptions:
    """How to drive one modem (from the gateway's [modem:NAME] section)."""

    pin: str | None = None
    profile: str = quirks_mod.AUTO
    # "store": +CMTI, read and delete on release; "direct": +CMT, acknowledged on release
    delivery: str = "store"
    # the CMGL safety net over every store, for URCs a modem forgot to send
    sweep_interval_s: float = SWEEP_INTERVAL_S


@dataclass(slots=True)
class ModemStats:
    """Counters for status pages and benchmarks."""

    commands: int = 0
    reconnects: int = 0
    parts_sent: int = 0
    send_errors: int = 0
    received: int = 0
    timeouts: int = 0
    last_error: str | None = None
    errors_by_code: dict[str, int] = field(default_factory=dict)
    # message stores as the last AT+CPMS? read them: name -> (used, total)
    storage: dict[str, tuple[int, int]] = field(default_factory=dict)


class Modem:
    """One modem: `start()`, then `send_pdu()`/`release()`; events go to `on_event`."""

    def __init__(
        self,
        name: str,
        opener: PortOpener,
        *,
        on_event: Callable[[ModemEvent], None],
        options: ModemOptions | None = None,
        on_command: Callable[[str, CommandTiming], None] | None = None,
    ) -> None:
        self.name = name
        # told each AT command's round trip with this modem's name (the owner's metrics)
        self._on_command = on_command
        self.log_name = f"modem {name}"
        self._opener = opener
        self._on_event = on_event
        self.options = options or ModemOptions()
        if self.options.delivery not in ("store", "direct"):
            raise ValueError(
                f"delivery must be 'store' or 'direct', got {self.options.delivery!r}"
            )
        self._fixed_quirks = (
            None
            if self.options.profile == quirks_mod.AUTO
            else quirks_mod.by_name(self.options.profile)
        )
        self.quirks: Quirks = self._fixed_quirks or quirks_mod.PROFILES["generic"]
        self.state = ModemState.DISCONNECTED
        self.info: ModemInfo | None = None
        self.signal_dbm: int | None = None
        self.registration = Registration.UNKNOWN
        self.operator: str | None = None
        self.stats = ModemStats()
        self._engine: AtEngine | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._work: asyncio.Queue[Urc | _Work] = asyncio.Queue()
        self._read_storage: str | None = None
        self._storages: tuple[str, ...] = ()
        self._emitted: dict[StoredLocation, tuple[bytes, float]] = {}
        self._pin_rejected = False
        self._direct_acks = False
        self._reached_ready = False
        self._consecutive_timeouts = 0
        self._storage_lock = asyncio.Lock()
        self._full_storages: set[str] = set()
        self._cnmi: tuple[int, ...] = ()
        self._state_waiters: list[tuple[ModemState, asyncio.Future[None]]] = []

    # -- public API -----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the supervisor: connect, initialise, and keep it that way until `stop()`."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(
                self._supervise(), name=f"modem-{self.name}"
            )

    async def stop(self) -> None:
        """Close the port and stop reconnecting."""
        task, self._supervisor = self._supervisor, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._close_engine()
        self._set_state(ModemState.STOPPED, "stopped by its owner")

    async def wait_state(self, state: ModemState, timeout_s: float) -> None:
        """Wait until the modem reaches `state` (TimeoutError otherwise)."""
        if self.state is state:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (state, future)
        self._state_waiters.append(entry)
        try:
            async with asyncio.timeout(timeout_s):
                await future
        finally:
            if entry in self._state_waiters:
                self._state_waiters.remove(entry)

    async def send_pdu(self, part: EncodedPart) -> int:
        """Submit one part with AT+CMGS; returns the TP-MR the network assigned.

        Raises ModemNotReady, CmsError/CmeError (see `.transient`), AtTimeout or PortClosed
        when the part was certainly not sent, and SendUnconfirmed when it may have been.
        """
        engine = self._engine
        if self.state is not ModemState.READY or engine is None:
            raise ModemNotReady(self.name, self.state)
        command = commands.cmgs(part.tpdu_length, part.data)
        try:
            response = await self._command(command)
        except (AtTimeout, PortClosed) as exc:
            self.stats.send_errors += 1
            if engine.body_sent(command):
                raise SendUnconfirmed(self.name, str(exc)) from exc
            raise
        except AtError:
            self.stats.send_errors += 1
            raise
        reference = parsers.parse_cmgs(response.lines)
        self.stats.parts_sent += 1
        _LOGGER.debug(
            "%s: part %d/%d accepted, TP-MR %d",
            self.log_name,
            part.seq,
            part.total,
            reference,
        )
        return reference

    async def release(self, handle: Handle) -> None:
        """The owner committed what this handle refers to: delete it / acknowledge it."""
        if isinstance(handle, DirectDelivery):
            if handle.needs_ack:
                try:
                    await self._command(commands.cnma())
                except CmsError as exc:
                    # 340: no acknowledgement expected (too late: the ME stopped routing).
                    _LOGGER.warning(
                        "%s: +CNMA refused (%s); re-enabling message routing",
                        self.log_name,
                        exc,
                    )
                    await self._configure_indications()
            return
        async with self._storage_lock:
            await self._select_read_storage(handle.storage)
            if handle.pdu and not await self._slot_holds(handle):
                return
            try:
                await self._command(commands.cmgd(handle.index))
            except CmsError as exc:
                if (
                    exc.code != 321
                ):  # 321: invalid index - already gone, which is what we want
                    raise
        self._emitted.pop(handle, None)

    async def sweep(self) -> None:
        """Ask for a CMGL sweep of every store soon (the safety net for missed URCs)."""
        self._work.put_nowait(_Work.SWEEP)

    # -- supervision ------------------------------------------------------------------------

    async def _supervise(self) -> None:
        delay = RECONNECT_MIN_S
        while True:
            self._reached_ready = False
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except ModemError as exc:
                self._lost(str(exc), level=logging.WARNING)
            except Exception as exc:  # task boundary: keep the modem supervised
                _LOGGER.exception("%s: unexpected error; reconnecting", self.log_name)
                self._lost(f"unexpected error: {exc!r}", level=logging.ERROR)
            finally:
                self._close_engine()
            if self._reached_ready:
                delay = (
                    RECONNECT_MIN_S  # it worked for a while: a fresh fault, start low
                )
            if self.state is ModemState.SIM_LOCKED:
                wait = SIM_LOCKED_RETRY_S
            else:
                wait = delay * random.uniform(0.8, 1.2)  # jitter: modems on one hub
                delay = min(delay * 2, RECONNECT_MAX_S)
            self.stats.reconnects += 1
            _LOGGER.info("%s: reconnecting in %.1f s", self.log_name, wait)
            await asyncio.sleep(wait)

    def _lost(self, reason: str, *, level: int) -> None:
        self.stats.last_error = reason
        _LOGGER.log(level, "%s: %s", self.log_name, reason)
        if self.state is not ModemState.SIM_LOCKED:
            self._set_state(ModemState.DISCONNECTED, reason)

    async def _session(self) -> None:
        """One connection: open, initialise, then serve URCs, polls and sweeps until it breaks."""
        self._set_state(ModemState.CONNECTING, "opening the port")
        observe = self._on_command
        engine = AtEngine(
            log_name=self.log_name,
            on_urc=self._on_urc,
            on_command=None if observe is None else lambda t: observe(self.name, t),
        )
        self._transport, _ = await self._opener(lambda: engine)
        engine.closed.add_done_callback(lambda f: self._port_gone("port closed"))
        self._engine = engine
        await engine.wait_connected(CONNECT_TIMEOUT_S)
        self._read_storage = None
        self._emitted.clear()
        self._consecutive_timeouts = 0
        while not self._work.empty():  # URCs of the previous connection are stale
            self._work.get_nowait()
        await self._initialise(engine)
        if self.state is not ModemState.SIM_LOCKED:
            loops = [
                asyncio.create_task(
                    self._poll_forever(), name=f"modem-{self.name}-poll"
                ),
                asyncio.create_task(
                    self._work_forever(), name=f"modem-{self.name}-work"
                ),
            ]
            try:
                closed = await asyncio.shield(engine.closed)
            finally:
                for task in loops:
                    task.cancel()
                await asyncio.gather(*loops, return_exceptions=True)
        else:
            return  # stay away while the operator fixes the SIM; checked again later
        raise PortClosed(self.name, f"lost: {closed}" if closed else "closed")

    def _port_gone(self, reason: str) -> None:
        """Stop offering the modem for sends the moment its port goes."""
        if self.state not in (ModemState.STOPPED, ModemState.SIM_LOCKED):
            self._set_state(ModemState.DISCONNECTED, reason)

    def _close_engine(self) -> None:
        engine, self._engine = self._engine, None
        transport, self._transport = self._transport, None
        if engine is not None:
            engine.close()
        if transport is not None and not transport.is_closing():
            transport.close()  # also when connection_made never came: release the device

    # -- init -------------------------------------------------------------------------------

    async def _initialise(self, engine: AtEngine) -> None:
        await self._wake(engine)
        self._set_state(ModemState.INITIALIZING, "modem answered")
        await self._try(commands.echo(False))
        await self._command(commands.verbose_errors(1))
        await self._try(
            commands.creg_set(2)
        )  # +CREG URCs: react to losing the network at once
        manufacturer = await self._optional(commands.cgmi(), parsers.parse_cgmi) or ""
        model = await self._optional(commands.cgmm(), parsers.parse_cgmm) or ""
        revision = await self._optional(commands.cgmr(), parsers.parse_cgmr) or ""
        imei = await self._optional(commands.cgsn(), parsers.parse_cgsn) or ""
        self.quirks = self._fixed_quirks or quirks_mod.detect(manufacturer)
        for command in self.quirks.init:
            await self._try(command)
        if not await self._unlock_sim():
            return
        imsi = await self._optional(commands.cimi(), parsers.parse_cimi)
        iccid = None
        for variant in self.quirks.iccid:
            iccid = await self._optional(commands.ccid(variant), parsers.parse_ccid)
            if iccid:
                break
        numbers = await self._optional(commands.cnum(), parsers.parse_cnum)
        own = numbers[0].number if numbers else None
        self.info = ModemInfo(
            manufacturer=manufacturer,
            model=model,
            revision=revision,
            imei=imei,
            imsi=imsi,
            iccid=iccid,
            own_number=own,
            profile=self.quirks.name,
        )
        _LOGGER.info(
            "%s: %s %s (IMEI %s), profile %s",
            self.log_name,
            manufacturer,
            model,
            imei,
            self.quirks.name,
        )
        self._emit(Identified(self.name, self.info))
        await self._command(commands.cmgf(pdu=True))
        await self._configure_storage()
        await self._configure_indications()
        await self._poll_once()
        await self._sweep_all()

    async def _wake(self, engine: AtEngine) -> None:
        """Cancel a PDU half-sent by an earlier process, then probe with AT until it answers."""
        engine.write_raw(bytes([commands.ESC]) + b"\r")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BOOT_TIMEOUT_S
        probe = commands.Command("AT", timeout_s=WAKE_TIMEOUT_S)
        while True:
            try:
                await engine.command(probe)
            except (AtTimeout, AtError) as exc:
                if loop.time() >= deadline:
                    raise PortClosed(
                        self.name,
                        f"modem did not answer AT within {BOOT_TIMEOUT_S:g} s",
                    ) from exc
                continue
            return

    async def _unlock_sim(self) -> bool:
        status = await self._sim_status()
        if status == "READY":
            return True
        if status == "SIM PIN" and self.options.pin and not self._pin_rejected:
            _LOGGER.info("%s: entering the SIM PIN", self.log_name)
            try:
                await self._command(commands.cpin(self.options.pin))
            except CmeError as exc:
                # Never try the same PIN twice: three wrong tries lock the SIM (PUK).
                self._pin_rejected = True
                self._sim_locked(f"the SIM rejected the configured PIN ({exc})")
                return False
            loop = asyncio.get_running_loop()
            deadline = loop.time() + SIM_READY_TIMEOUT_S
            while (status := await self._sim_status()) != "READY":
                if loop.time() >= deadline:
                    self._sim_locked(
                        f"SIM still {status!r} {SIM_READY_TIMEOUT_S:g} s after PIN"
                    )
                    return False
                await asyncio.sleep(SIM_POLL_S)
            return True
        if status == "SIM PIN" and self._pin_rejected:
            self._sim_locked(
                "SIM needs a PIN and the configured one was rejected; fix it"
            )
        elif status == "SIM PIN":
            self._sim_locked("SIM needs a PIN: set pin in its [modem:...] section")
        else:
            self._sim_locked(f"SIM is {status!r}; the operator must unlock it")
        return False

    async def _sim_status(self) -> str:
        try:
            return parsers.parse_cpin(
                (await self._command(commands.cpin_query())).lines
            )
        except CmeError as exc:
            # 10: SIM not inserted, 13: SIM failure, 14: SIM busy (still booting)
            return {10: "NO SIM", 13: "SIM FAILURE", 14: "SIM BUSY"}.get(
                exc.code, f"+CME ERROR: {exc.code}"
            )

    def _sim_locked(self, reason: str) -> None:
        _LOGGER.error("%s: %s", self.log_name, reason)
        self.stats.last_error = reason
        self._set_state(ModemState.SIM_LOCKED, reason)

    async def _configure_storage(self) -> None:
        support = await self._optional(
            commands.cpms_support(), parsers.parse_cpms_support
        )
        offered = set(support.mem1) if support else {"SM"}
        self._storages = tuple(
            s for s in self.quirks.sweep_storages if s in offered
        ) or ("SM",)
        receive = next((s for s in self._storages if s != "SR"), "SM")
        mem3 = receive if support is None or receive in support.mem3 else None
        if mem3:
            await self._try(commands.cpms_set(receive, receive, mem3))
            self._read_storage = receive

    async def _configure_indications(self) -> None:
        direct = self.options.delivery == "direct"
        phase2 = self.quirks.phase2 and direct
        if phase2:
            await self._try(commands.csms(1))
        support = await self._optional(
            commands.cnmi_support(), parsers.parse_cnmi_support
        )
        mt = 2 if direct else self.quirks.cnmi_mt
        ds = next(
            (d for d in self.quirks.cnmi_ds if support is None or d in support.ds), 0
        )
        mode = 2 if support is None or 2 in support.mode else 1
        self._direct_acks = phase2
        await self._command(commands.cnmi_set(mode, mt, 0, ds, 0))
        self._cnmi = (mode, mt, 0, ds)

    # -- polling and sweeping ---------------------------------------------------------------

    async def _poll_forever(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self.options.sweep_interval_s
        while True:
            await asyncio.sleep(POLL_INTERVAL_S)
            try:
                await self._poll_once()
            except ModemError as exc:
                _LOGGER.warning("%s: poll failed: %s", self.log_name, exc)
            if loop.time() >= next_sweep:
                next_sweep = loop.time() + self.options.sweep_interval_s
                self._work.put_nowait(_Work.SWEEP)

    async def _poll_once(self) -> None:
        await self._check_settings()
        await self._check_storage()
        quality = await self._optional(commands.csq(), parsers.parse_csq)
        if quality is not None and quality.rssi_dbm != self.signal_dbm:
            self.signal_dbm = quality.rssi_dbm
            self._emit(SignalChanged(self.name, quality.rssi_dbm, quality.ber_class))
        reg = await self._optional(commands.creg_query(), parsers.parse_creg)
        operator = self.operator
        if reg is not None and reg.registration in _REGISTERED:
            op = await self._optional(commands.cops_query(), parsers.parse_cops)
            operator = op.name if op else None
        self._apply_registration(reg, operator)

    def _apply_registration(
        self, reg: parsers.NetworkRegistration | None, operator: str | None
    ) -> None:
        registration = reg.registration if reg else Registration.UNKNOWN
        if registration not in _REGISTERED:
            operator = None
        if registration != self.registration or operator != self.operator:
            self.registration, self.operator = registration, operator
            self._emit(
                RegistrationChanged(
                    self.name,
                    registration,
                    operator,
                    reg.lac if reg else None,
                    reg.ci if reg else None,
                )
            )
        if registration in _REGISTERED:
            self._set_state(ModemState.READY, f"registered ({registration.value})")
        else:
            self._set_state(
                ModemState.SEARCHING, f"not registered ({registration.value})"
            )

    async def _check_settings(self) -> None:
        """Notice a modem that rebooted without a word: our message routing is gone."""
        if not self._cnmi:
            return
        current = await self._optional(commands.cnmi_query(), parsers.parse_cnmi)
        if current is not None and current[:4] != self._cnmi:
            _LOGGER.warning(
                "%s: message routing reset to %s (a silent reboot?); re-initialising",
                self.log_name,
                current,
            )
            self._close_engine()

    async def _check_storage(self) -> None:
        """Report stores that filled up: the network holds new messages until there is room."""
        stores = await self._optional(commands.cpms_query(), parsers.parse_cpms)
        if stores:
            self.stats.storage = {
                s.storage: (s.used, s.total) for s in stores if s.storage
            }
        full = {
            s.storage
            for s in stores or ()
            if s.storage and s.total and s.used >= s.total
        }
        for storage in sorted(full - self._full_storages):
            _LOGGER.warning("%s: store %s is full", self.log_name, storage)
            self._emit(StorageFull(self.name, storage))
            self._work.put_nowait(
                _Work.SWEEP
            )  # hand everything over so it can be released
        self._full_storages = full

    async def _work_forever(self) -> None:
        while True:
            item = await self._work.get()
            try:
                if item is _Work.SWEEP:
                    await self._sweep_all()
                elif isinstance(item, Urc):
                    await self._handle_urc(item)
            except ModemError as exc:
                _LOGGER.warning("%s: %s while handling %s", self.log_name, exc, item)

    async def _sweep_all(self) -> None:
        """List every store and hand over what is in it (CMGL: the safety net)."""
        for storage in self._storages:
            response = await self._in_storage(storage, commands.cmgl(4))
            for entry in parsers.parse_cmgl(response.lines):
                self._hand_over(entry.pdu, StoredLocation(storage, entry.index))

    async def _slot_holds(self, handle: StoredLocation) -> bool:
        """True if the slot still holds the PDU the handle was made for (read before delete)."""
        try:
            read = parsers.parse_cmgr(
                (await self._command(commands.cmgr(handle.index))).lines
            )
        except CmsError as exc:
            if exc.code == 321:  # empty: released already
                return False
            raise
        if read.pdu != handle.pdu:
            _LOGGER.warning(
                "%s: %s %d now holds another message; not deleting it",
                self.log_name,
                handle.storage,
                handle.index,
            )
            return False
        return True

    async def _in_storage(self, storage: str, command: Command) -> Response:
        """Run a read/list/delete command against `storage` (mem1), atomically."""
        async with self._storage_lock:
            await self._select_read_storage(storage)
            return await self._command(command)

    async def _select_read_storage(self, storage: str) -> None:
        if self._read_storage == storage:
            return
        await self._command(commands.cpms_set(storage))
        self._read_storage = storage

    # -- URCs -------------------------------------------------------------------------------

    def _on_urc(self, urc: Urc) -> None:
        """Called by the engine as URCs arrive: cheap ones now, AT work on the worker."""
        line = urc.line
        if line in self.quirks.boot_banners:
            if self.state in (ModemState.READY, ModemState.SEARCHING):
                _LOGGER.warning(
                    "%s: modem rebooted (%r); re-initialising", self.log_name, line
                )
                self._close_engine()  # the session ends; the supervisor reconnects
            return
        if urc.name in ("+CMTI", "+CDSI", "+CMT", "+CDS"):
            self._work.put_nowait(urc)
        elif urc.name == "+CREG":
            if self.state in (ModemState.READY, ModemState.SEARCHING):
                try:
                    reg = parsers.parse_creg_urc(line)
                except parsers.AtParseError as exc:
                    _LOGGER.debug("%s: %s", self.log_name, exc)
                    return
                self._apply_registration(reg, self.operator)
        elif urc.name == "^SMMEMFULL":
            storage = line.partition(":")[2].strip().strip('"') or "?"
            self._emit(StorageFull(self.name, storage))
            self._work.put_nowait(_Work.SWEEP)
        else:
            _LOGGER.debug("%s: URC %s", self.log_name, line)

    async def _handle_urc(self, urc: Urc) -> None:
        if urc.name in ("+CMTI", "+CDSI"):
            where = (
                parsers.parse_cmti(urc.line)
                if urc.name == "+CMTI"
                else parsers.parse_cdsi(urc.line)
            )
            try:
                response = await self._in_storage(
                    where.storage, commands.cmgr(where.index)
                )
                read = parsers.parse_cmgr(response.lines)
            except CmsError as exc:
                if exc.code == 321:  # already gone (swept and released meanwhile)
                    return
                raise
            self._hand_over(read.pdu, where)
        else:
            pushed = (
                parsers.parse_cmt(urc.line, urc.body)
                if urc.name == "+CMT"
                else parsers.parse_cds(urc.line, urc.body)
            )
            self._hand_over(pushed.pdu, DirectDelivery(needs_ack=self._direct_acks))

    def _hand_over(self, pdu: bytes, handle: Handle) -> None:
        now = asyncio.get_running_loop().time()
        if isinstance(handle, StoredLocation):
            handle = StoredLocation(handle.storage, handle.index, pdu)
            seen = self._emitted.get(handle)
            if seen is not None and seen[0] == pdu and now - seen[1] < REEMIT_AFTER_S:
                return  # handed over moments ago; its owner has not released it yet
            self._emitted[handle] = (pdu, now)
        at = datetime.now(UTC)
        try:
            value = decode(pdu)
        except PduDecodeError as exc:
            _LOGGER.warning("%s: undecodable PDU at %s: %s", self.log_name, handle, exc)
            self._emit(UndecodablePdu(self.name, pdu, handle, str(exc), at))
            return
        self.stats.received += 1
        if isinstance(value, StatusReport):
            self._emit(StatusReportReceived(self.name, pdu, value, handle, at))
        elif isinstance(value, SmsDeliver):
            self._emit(SmsReceived(self.name, pdu, value, handle, at))
        else:
            assert isinstance(value, SmsSubmit)
            # A draft or sent copy someone stored on the SIM: not ours to act on.
            _LOGGER.debug("%s: ignoring stored SMS-SUBMIT at %s", self.log_name, handle)

    # -- plumbing ---------------------------------------------------------------------------

    async def _command(self, command: Command) -> Response:
        engine = self._engine
        if engine is None:
            raise PortClosed(self.name, "not connected")
        self.stats.commands += 1
        try:
            response = await engine.command(command)
        except AtTimeout:
            self.stats.timeouts += 1
            self._consecutive_timeouts += 1
            if self._consecutive_timeouts >= MAX_CONSECUTIVE_TIMEOUTS:
                _LOGGER.warning(
                    "%s: %d commands in a row timed out; the modem looks hung",
                    self.log_name,
                    self._consecutive_timeouts,
                )
                self._close_engine()
            raise
        except PortClosed as exc:
            self._port_gone(str(exc))
            raise
        except (CmsError, CmeError) as exc:
            key = f"{type(exc).__name__.removesuffix('Error').upper()} {exc.code}"
            self.stats.errors_by_code[key] = self.stats.errors_by_code.get(key, 0) + 1
            raise
        self._consecutive_timeouts = 0
        return response

    async def _try(self, command: Command) -> None:
        """A command whose failure is fine (features some modems lack)."""
        try:
            await self._command(command)
        except AtError as exc:
            _LOGGER.debug("%s: %s (ignored)", self.log_name, exc)

    async def _optional(
        self, command: Command, parse: Callable[[list[str]], _T]
    ) -> _T | None:
        """Run a query; None when the modem does not support it or answers garbage."""
        try:
            response = await self._command(command)
            return parse(list(response.lines))
        except (AtError, parsers.AtParseError) as exc:
            _LOGGER.debug("%s: %s (ignored)", self.log_name, exc)
            return None

    def _emit(self, event: ModemEvent) -> None:
        try:
            self._on_event(event)
        except Exception:  # the owner's bug must not kill the modem's supervisor
            _LOGGER.exception(
                "%s: event handler failed on %s", self.log_name, type(event).__name__
            )

    def _set_state(self, state: ModemState, reason: str) -> None:
        if state is self.state:
            return
        _LOGGER.info(
            "%s: %s -> %s (%s)", self.log_name, self.state.value, state.value, reason
        )
        self.state = state
        if state is ModemState.READY:
            self._reached_ready = True
        self._emit(StateChanged(self.name, state, reason))
        for want, future in list(self._state_waiters):
            if want is state and not future.done():
                future.set_result(None)
