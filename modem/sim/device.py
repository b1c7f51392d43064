"""One simulated modem: state, faults, the hosts attached to it, and its URC output."""

from __future__ import annotations

import dataclasses
import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from modem.sim import responder
from modem.sim.clock import Scheduler, Timer
from modem.sim.faults import Faults, FaultSpec
from modem.sim.state import (
    MessageStat,
    Registration,
    SimState,
    SubmittedPdu,
)

_LOGGER = logging.getLogger(__name__)

CNMA_TIMEOUT_S = 15.0  # how long the network waits for +CNMA before storing the message


class HostLink(Protocol):
    """A connection from a host (TCP client, PTY user, in-memory engine) to the modem."""

    def write_reply(self, data: bytes) -> None: ...

    def write_urc(self, data: bytes) -> None: ...

    def reset_input(self) -> None: ...


class PortListener(Protocol):
    """A server of the modem's port that can make the port vanish for a while."""

    def vanish(self, seconds: float) -> None: ...


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A message the network could not hand over yet (no network, storage full)."""

    pdu: bytes
    tpdu_length: int
    report: bool = False


@dataclass(slots=True)
class _Unacked:
    pdu: bytes
    tpdu_length: int
    report: bool
    timer: Timer | None


class SimModem:
    """A simulated modem: feed it host lines, it answers and prints URCs to its hosts."""

    def __init__(
        self,
        state: SimState,
        scheduler: Scheduler,
        *,
        on_submit: Callable[[SimModem, SubmittedPdu], None] | None = None,
    ) -> None:
        self.state = state
        self.scheduler = scheduler
        self.faults = Faults()
        self.rng = random.Random(0)
        self.on_submit = on_submit
        self.log_name = f"sim {state.own_number}"
        self.held: deque[HeldMessage] = deque()
        self.reports_delivered = 0
        self.reports_dropped = 0  # routed to a full store (of reports_delivered)
        self._links: list[HostLink] = []
        self._ports: list[PortListener] = []
        self._unacked: deque[_Unacked] = deque()
        self._deferred_urcs: list[str] = []
        self._commands_seen = 0
        self._noise_at = 0

    # ---------------------------------------------------------------- wiring

    @property
    def number(self) -> str:
        return self.state.own_number

    @property
    def hosts(self) -> int:
        """How many hosts are connected right now."""
        return len(self._links)

    def attach(self, link: HostLink) -> None:
        self._links.append(link)

    def detach(self, link: HostLink) -> None:
        if link in self._links:
            self._links.remove(link)

    def add_port(self, port: PortListener) -> None:
        self._ports.append(port)

    def remove_port(self, port: PortListener) -> None:
        if port in self._ports:
            self._ports.remove(port)

    # ---------------------------------------------------------------- host input

    def process_line(self, link: HostLink, line: str) -> None:
        """One command line from a host (without its CR)."""
        state = self.state
        echo = (line + "\r").encode("utf-8", "replace") if state.echo else b""
        if self.faults.hanging:
            if self.faults.hang_commands > 0:
                self.faults.hang_commands -= 1
            _LOGGER.debug("%s: hanging, swallowed %r", self.log_name, line)
            return
        injected = self._injected_error(line)
        if injected is not None:
            link.write_reply(echo + responder.frame(injected))
            return
        reply = responder.handle(line, state, self.scheduler.now())
        if reply.ignored:
            return
        _LOGGER.debug("%s: %r -> %r", self.log_name, line, reply.lines)
        link.write_reply(echo + responder.frame(reply))
        self._after(reply)

    def process_body(self, link: HostLink, body: str, *, cancel: bool) -> None:
        """The text a host typed after the `> ` prompt (Ctrl-Z sends, ESC cancels)."""
        state = self.state
        echo = body.encode("utf-8", "replace") if state.echo else b""
        if self.faults.hanging:
            state.pending_submit = None
            return
        reply = responder.handle_body(body, state, self.scheduler.now(), cancel=cancel)
        if reply.ignored:
            return
        _LOGGER.debug("%s: body -> %r", self.log_name, reply.lines)
        link.write_reply(echo + responder.frame(reply))
        self._after(reply)

    def _injected_error(self, line: str) -> responder.Reply | None:
        faults = self.faults
        if faults.cms_error_count <= 0 or not responder.is_command_line(line):
            return None
        try:
            first = responder.parse_line(line)[0].counter_key
        except responder.Failure:
            first = "AT?"
        if faults.cms_error_command and faults.cms_error_command.upper() != first:
            return None
        faults.cms_error_count -= 1
        self.state.command_counts[first] += 1
        # a fault of the network or SIM shows as +CMS ERROR even with AT+CMEE=0
        final = responder.Failure.cms(faults.cms_error).render(max(self.state.cmee, 1))
        return responder.Reply(lines=(final,))

    def _after(self, reply: responder.Reply) -> None:
        for urc in reply.urcs_after:
            self.emit_urc(urc)
        if self.state.pending_submit is None and self._deferred_urcs:
            deferred, self._deferred_urcs = self._deferred_urcs, []
            for urc in deferred:
                self.emit_urc(urc)
        for _ in range(reply.acks):
            self._acked()
        for _ in range(reply.nacks):
            self._nacked()
        for submitted in reply.submitted:
            if self.on_submit is not None:
                self.on_submit(self, submitted)
        if reply.storage_changed:
            self.retry_held()
        if reply.reboot:
            self.reboot()
        self._noise()

    def _noise(self) -> None:
        profile = self.state.profile
        if not profile.noise_every or not profile.noise_urcs:
            return
        self._commands_seen += 1
        if self._commands_seen % profile.noise_every == 0 and self.state.huawei_curc:
            self.emit_urc(profile.noise_urcs[self._noise_at % len(profile.noise_urcs)])
            self._noise_at += 1

    # ---------------------------------------------------------------- URC output

    def emit_urc(self, urc: str) -> None:
        """Print an unsolicited line to every host (held back while a body is being typed)."""
        if self.state.pending_submit is not None:
            self._deferred_urcs.append(urc)
            return
        data = responder.frame_urc(urc)
        for link in list(self._links):
            link.write_urc(data)

    def _emit_sms_urc(self, urc: str) -> None:
        # CNMI mode 0 keeps new-message indications in the modem until the host asks again
        if self.state.cnmi.mode == 0:
            self.state.buffered_urcs.append(urc)
        else:
            self.emit_urc(urc)

    # ---------------------------------------------------------------- network input

    def deliver(self, pdu: bytes, tpdu_length: int) -> str:
        """An SMS-DELIVER from the network; returns "direct", "stored" or "held"."""
        state = self.state
        if not self._reachable():
            self.held.append(HeldMessage(pdu, tpdu_length))
            return "held"
        if state.cnmi.mt == 2 and self._links:
            self._emit_sms_urc(responder.cmt(pdu, tpdu_length, state))
            self._expect_ack(pdu, tpdu_length, report=False)
            return "direct"
        return self._store_incoming(pdu, tpdu_length)

    def _store_incoming(self, pdu: bytes, tpdu_length: int) -> str:
        state = self.state
        mem = state.cpms[2]
        index: int | None = None
        if not state.is_full(mem):
            index = state.storage(mem).store(pdu, tpdu_length, MessageStat.REC_UNREAD)
        if index is None:
            self.held.append(HeldMessage(pdu, tpdu_length))
            memfull = state.profile.memfull_urc
            if memfull:
                self.emit_urc(memfull.format(mem=mem))
            _LOGGER.info(
                "%s: %s is full, message held by the network", self.log_name, mem
            )
            return "held"
        if state.cnmi.mt in (1, 2, 3):
            self._emit_sms_urc(responder.cmti(mem, index))
        return "stored"

    def deliver_report(self, pdu: bytes, tpdu_length: int) -> str:
        """An SMS-STATUS-REPORT; routed per CNMI ds. Returns "direct", "stored" or "dropped"."""
        state = self.state
        if not self._reachable():
            self.held.append(HeldMessage(pdu, tpdu_length, report=True))
            return "held"
        self.reports_delivered += 1
        ds = state.cnmi.ds
        if ds == 1 and self._links:
            self._emit_sms_urc(responder.cds(pdu, tpdu_length, state))
            self._expect_ack(pdu, tpdu_length, report=True)
            return "direct"
        mem = "SR" if ds == 2 and "SR" in state.storages else state.profile.ds0_storage
        if state.is_full(mem):
            _LOGGER.info("%s: %s is full, status report dropped", self.log_name, mem)
            self.reports_dropped += 1
            return "dropped"
        index = state.storage(mem).store(pdu, tpdu_length, MessageStat.REC_UNREAD)
        if ds == 2:
            self._emit_sms_urc(responder.cdsi(mem, index))
        return "stored"

    def _reachable(self) -> bool:
        state = self.state
        return state.registration.registered and state.cfun == 1 and state.sim_ready

    def _expect_ack(self, pdu: bytes, tpdu_length: int, *, report: bool) -> None:
        if self.state.csms != 1:
            return
        self.state.awaiting_ack += 1
        entry = _Unacked(pdu, tpdu_length, report, None)
        entry.timer = self.scheduler.call_later(
            CNMA_TIMEOUT_S, lambda: self._ack_timed_out(entry)
        )
        self._unacked.append(entry)

    def _acked(self) -> None:
        if self._unacked:
            entry = self._unacked.popleft()
            if entry.timer is not None:
                entry.timer.cancel()

    def _nacked(self) -> None:
        if self._unacked:
            entry = self._unacked.popleft()
            if entry.timer is not None:
                entry.timer.cancel()
            self._redeliver(entry)

    def _ack_timed_out(self, entry: _Unacked) -> None:
        if entry not in self._unacked:
            return
        self._unacked.remove(entry)
        self.state.awaiting_ack = max(self.state.awaiting_ack - 1, 0)
        _LOGGER.warning("%s: no +CNMA in time, the network stores it", self.log_name)
        self._redeliver(entry)

    def _redeliver(self, entry: _Unacked) -> None:
        # the network tries again; the modem takes it into storage this time
        if entry.report:
            mem = self.state.profile.ds0_storage
            if not self.state.is_full(mem):
                self.state.storage(mem).store(
                    entry.pdu, entry.tpdu_length, MessageStat.REC_UNREAD
                )
            return
        self._store_incoming(entry.pdu, entry.tpdu_length)

    def retry_held(self) -> None:
        """Hand over what the network held back, in order, until something holds again."""
        while self.held and self._reachable():
            message = self.held.popleft()
            if message.report:
                outcome = self.deliver_report(message.pdu, message.tpdu_length)
            else:
                outcome = self.deliver(message.pdu, message.tpdu_length)
            if outcome == "held":
                # deliver() put it back at the end of the queue; it belongs at the front
                self.held.appendleft(self.held.pop())
                return

    # ---------------------------------------------------------------- faults

    def apply_faults(self, spec: FaultSpec) -> None:
        """Change the standing faults and run the spec's one-shot actions."""
        before_network = self.faults.no_network
        before_full = self.faults.storage_full
        spec.apply_to(self.faults)
        if "seed" in spec.knobs:
            self.rng = random.Random(self.faults.seed)
        _LOGGER.info("%s: faults now %s", self.log_name, self.faults.as_dict())
        if self.faults.storage_full != before_full:
            self.state.storage_full = self.faults.storage_full
            if not self.faults.storage_full:
                self.retry_held()
        if self.faults.no_network != before_network:
            self.set_registration(
                Registration.NOT_REGISTERED
                if self.faults.no_network
                else Registration.HOME
            )
        if spec.inject_urc:
            self.emit_urc(spec.inject_urc)
        if spec.vanish_s > 0:
            self.vanish(spec.vanish_s)
        if spec.reboot:
            self.reboot()

    def clear_faults(self) -> None:
        """Back to a well-behaved modem."""
        self.apply_faults(FaultSpec(knobs=dataclasses.asdict(Faults())))

    def set_registration(self, registration: Registration) -> None:
        """Registration changes, with +CREG/+CGREG URCs when the host asked for them."""
        state = self.state
        state.registration = registration
        state.rssi = 20 if registration.registered else 99
        for name in ("+CREG", "+CGREG"):
            urc = responder.creg_urc(state, name)
            if urc is not None:
                self.emit_urc(urc)
        if registration.registered:
            self.retry_held()

    def reboot(self) -> None:
        """Power-cycle: settings back to defaults, boot banners, unacked messages stored."""
        _LOGGER.warning("%s: rebooting", self.log_name)
        unacked = list(self._unacked)
        self._unacked.clear()
        for entry in unacked:
            if entry.timer is not None:
                entry.timer.cancel()
        self._deferred_urcs.clear()
        self.state.power_on()
        for link in list(self._links):
            link.reset_input()
        for entry in unacked:
            self._redeliver(entry)
        for banner in responder.boot_banners(self.state):
            self.emit_urc(banner)
        self.retry_held()

    def vanish(self, seconds: float) -> None:
        """Every port of this modem disappears for `seconds`, then comes back."""
        _LOGGER.warning("%s: port vanishes for %.1f s", self.log_name, seconds)
        for port in list(self._ports):
            port.vanish(seconds)
