"""What the gateway needs of a modem: the seam between services and `modem.Modem`.

`modem.driver.Modem` satisfies `ModemPort` (and `ManagedModem`) as it is; tests use small
fakes. Services never reach past this protocol into the driver.
"""

from __future__ import annotations

from typing import Protocol

from modem.events import Handle, ModemState
from modem.pdu.types import EncodedPart


class ModemPort(Protocol):
    """A modem the services send through and release received messages on."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> ModemState: ...

    async def send_pdu(self, part: EncodedPart) -> int:
        """Submit one part; its TP-MR (see modem.driver.Modem.send_pdu for the errors)."""
        ...

    async def release(self, handle: Handle) -> None:
        """Delete/acknowledge a received PDU: call it only after its commit."""
        ...


class ManagedModem(ModemPort, Protocol):
    """A modem whose lifecycle the daemon owns."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
