"""AtEngine: the asyncio protocol that moves bytes between a transport and an AtSession.

The engine is the only AT piece that does I/O. It writes what the session returns, arms one
`loop.call_at` for the session's next deadline, resolves one future per command from
CommandDone / CommandTimedOut, and hands URCs to `on_urc` as they arrive, even mid-command.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from modem.at.codec import DEFAULT_URCS, UrcRegistry
from modem.at.commands import Command
from modem.at.events import (
    CommandDone,
    CommandTimedOut,
    Echo,
    Event,
    Final,
    Info,
    Unrecognized,
    Urc,
)
from modem.at.session import AtSession, State, error_for
from modem.errors import AtTimeout, PortClosed
from modem.trace import Tap

_LOGGER = logging.getLogger(__name__)

_Outcome = CommandDone | CommandTimedOut | PortClosed


@dataclass(frozen=True, slots=True)
class CommandTiming:
    """One command's round trip, for the owner's metrics (`on_command`)."""

    command: str  # its name: the text before "=", "?" or ";" (AT+CMGS, ATE0)
    seconds: float  # from writing it to its final result, timeout or the port closing
    outcome: str  # ok, error, cme_error, cms_error, timeout, closed (or a call result)
    code: int | None = None  # the +CME/+CMS ERROR number


@dataclass(frozen=True, slots=True)
class Response:
    """A command that ended with OK: its info lines and the final result."""

    lines: tuple[str, ...]
    final: Final


class AtEngine(asyncio.Protocol):
    """One modem port: `await command(cmd)`, URCs to `on_urc`, `closed` when the port goes.

    Create it inside the running loop (protocol factories are called there).
    """

    def __init__(
        self,
        log_name: str,
        *,
        on_urc: Callable[[Urc], None] | None = None,
        urcs: UrcRegistry = DEFAULT_URCS,
        on_command: Callable[[CommandTiming], None] | None = None,
    ) -> None:
        self.log_name = log_name
        self._on_urc = on_urc
        self._on_command = on_command
        self._session = AtSession(urcs)
        self._loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()
        self._transport: asyncio.WriteTransport | None = None
        self._inflight: asyncio.Future[_Outcome] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0
        self._tap = Tap(log_name)
        self._body_sent_for: Command | None = None
        self.closed: asyncio.Future[Exception | None] = self._loop.create_future()
        # serial transports call connection_made on a later loop turn than they return
        self._made = asyncio.Event()

    @property
    def idle(self) -> bool:
        """True when no command is queued, in flight or owed a reply, and no timer is armed."""
        return (
            self._inflight is None
            and self._session.pending is None
            and self._timer is None
            and not self._lock.locked()
        )

    async def command(self, cmd: Command) -> Response:
        """Run `cmd` after the commands queued before it; its Response, or its error.

        Raises AtTimeout, AtCommandError, CmeError, CmsError or PortClosed.
        """
        async with self._lock:
            while self._inflight is not None:
                # A cancelled caller's command still owns the modem: its reply must not be
                # taken for ours. The session's deadline bounds this wait.
                await asyncio.wait((self._inflight,))
            if self._transport is None or self.closed.done():
                raise PortClosed(self.log_name, "not connected")
            fut: asyncio.Future[_Outcome] = self._loop.create_future()
            data = self._session.send(cmd, self._loop.time())
            self._inflight = fut
            _LOGGER.debug("%s: -> %s", self.log_name, cmd.log_text)
            self._write(
                data, shown=None if cmd.redacted is None else cmd.redacted.encode()
            )
            self._arm_timer()
            sent_at = self._loop.time()
            # shield: a cancelled caller leaves the future for the engine to settle.
            outcome = await asyncio.shield(fut)
            self._observe(cmd, self._loop.time() - sent_at, outcome)
        return self._result(cmd, outcome)

    def _observe(self, cmd: Command, seconds: float, outcome: _Outcome) -> None:
        if self._on_command is None:
            return
        code = None
        if isinstance(outcome, PortClosed):
            result = "closed"
        elif isinstance(outcome, CommandTimedOut):
            result = "timeout"
        else:
            result, code = outcome.final.kind.name.lower(), outcome.final.code
        name = cmd.text.split("=", 1)[0].split("?", 1)[0].split(";", 1)[0]
        try:
            self._on_command(CommandTiming(name, seconds, result, code))
        except Exception:  # the owner's bug must not break the port
            _LOGGER.exception("%s: on_command failed", self.log_name)

    def body_sent(self, cmd: Command) -> bool:
        """True once `cmd`'s body went out: a timeout or a lost port may still mean "sent"."""
        return self._body_sent_for is cmd

    def write_raw(self, data: bytes) -> None:
        """Write bytes outside any command (ESC to abandon a body an earlier process left open).

        Only between commands: the modem's answer, if any, is classified as unsolicited.
        """
        if self._transport is None or self.closed.done():
            raise PortClosed(self.log_name, "not connected")
        self._write(data)

    async def wait_connected(self, timeout_s: float) -> None:
        """Wait for connection_made (PortClosed if the port closed first or took too long)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._made.wait()
        except TimeoutError:
            raise PortClosed(
                self.log_name, f"not connected within {timeout_s:g} s"
            ) from None
        if self.closed.done():
            raise PortClosed(self.log_name, "closed while connecting")

    def close(self) -> None:
        """Close the transport; `closed` resolves when it is gone."""
        if self._transport is not None:
            self._transport.close()

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start talking over `transport`."""
        # Serial, TCP and in-memory transports all write; BaseTransport is only the declared type.
        self._transport = cast(asyncio.WriteTransport, transport)
        self._made.set()
        _LOGGER.debug("%s: port open", self.log_name)

    def data_received(self, data: bytes) -> None:
        """Classify received bytes and act on the events."""
        self._tap.received(data)
        self._handle(self._session.receive_data(data, self._loop.time()))

    def connection_lost(self, exc: Exception | None) -> None:
        """Fail the command in flight with PortClosed and resolve `closed`."""
        self._transport = None
        self._cancel_timer()
        self._session.reset()
        reason = "closed" if exc is None else f"lost: {exc}"
        if exc is None:
            _LOGGER.info("%s: port closed", self.log_name)
        else:
            _LOGGER.warning("%s: port lost: %s", self.log_name, exc)
        self._settle(PortClosed(self.log_name, reason))
        self._made.set()  # wake wait_connected: it sees `closed`
        if not self.closed.done():
            self.closed.set_result(exc)

    # -- internals ------------------------------------------------------------------------

    def _handle(self, events: list[Event]) -> None:
        for event in events:
            self._dispatch(event)
        owed = (
            self._session.pending if self._session.state is State.BODY_READY else None
        )
        data = self._session.data_to_send()
        if data:
            self._write(data)
            if owed is not None:
                self._body_sent_for = owed
        self._arm_timer()

    def _dispatch(self, event: Event) -> None:
        name = self.log_name
        match event:
            case Urc():
                _LOGGER.debug("%s: URC %s", name, event.name)
                if self._on_urc is not None:
                    try:
                        self._on_urc(event)
                    except Exception:
                        # A handler's bug must not stop the port: this is a task boundary.
                        _LOGGER.exception(
                            "%s: URC handler failed on %s", name, event.name
                        )
            case CommandDone() | CommandTimedOut():
                self._settle(event)
            case Unrecognized():
                _LOGGER.warning("%s: unrecognized line %r", name, event.line)
            case Echo() | Info() | Final():
                _LOGGER.debug("%s: %s %r", name, type(event).__name__, event.line)
            case _:
                # Prompt: the session has the body ready; _handle writes it.
                _LOGGER.debug("%s: prompt", name)

    def _settle(self, outcome: _Outcome) -> None:
        fut, self._inflight = self._inflight, None
        if fut is not None and not fut.done():
            fut.set_result(outcome)

    def _result(self, cmd: Command, outcome: _Outcome) -> Response:
        if isinstance(outcome, PortClosed):
            raise outcome
        if isinstance(outcome, CommandTimedOut):
            _LOGGER.warning("%s: %s timed out", self.log_name, cmd.log_text)
            raise AtTimeout(cmd.log_text, cmd.timeout_s)
        error = error_for(cmd, outcome.final)
        if error is not None:
            raise error
        return Response(outcome.lines, outcome.final)

    def _write(self, data: bytes, *, shown: bytes | None = None) -> None:
        # Only command() and data from the transport write, and both need it open.
        assert self._transport is not None
        self._tap.sent(data if shown is None else shown + b"\r")
        self._transport.write(data)

    def _arm_timer(self) -> None:
        deadline = self._session.next_deadline
        if self._timer is not None and deadline == self._timer_when:
            return
        self._cancel_timer()
        if deadline is not None:
            self._timer = self._loop.call_at(deadline, self._on_timer)
            self._timer_when = deadline

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        # asyncio may run a call_at handle up to one clock resolution early.
        now = max(self._loop.time(), self._timer_when)
        self._handle(self._session.on_timeout(now))
