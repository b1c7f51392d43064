"""What a `Modem` tells its owner. The driver emits these; policy is the gateway's."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from modem.pdu.types import SmsDeliver, StatusReport


class ModemState(enum.StrEnum):
    DISCONNECTED = (
        "disconnected"  # port not open (yet, or lost: reconnecting with backoff)
    )
    CONNECTING = (
        "connecting"  # port open, waiting for the modem to answer / boot banners
    )
    INITIALIZING = "initializing"  # running the init sequence
    SIM_LOCKED = "sim_locked"  # SIM needs a PIN/PUK we don't have (operator must act)
    SEARCHING = "searching"  # initialised, not registered on a network
    READY = "ready"  # registered, can send
    STOPPED = "stopped"  # closed by its owner


class Registration(enum.StrEnum):
    """+CREG <stat>, named."""

    NOT_REGISTERED = "not_registered"
    HOME = "home"
    SEARCHING = "searching"
    DENIED = "denied"
    UNKNOWN = "unknown"
    ROAMING = "roaming"


@dataclass(frozen=True, slots=True)
class ModemInfo:
    manufacturer: str
    model: str
    revision: str
    imei: str
    imsi: str | None
    iccid: str | None
    own_number: str | None  # from AT+CNUM when the SIM knows it
    profile: str  # the quirk profile in use (generic, simcom, quectel, huawei)


@dataclass(frozen=True, slots=True)
class StoredLocation:
    """Where a received PDU sits in modem storage: delete it with `Modem.release`.

    `pdu` is what the driver read there; release checks the slot still holds it, so a
    late release never deletes a newer message the modem stored in the same slot.
    """

    storage: str  # "SM", "ME", "SR", "MT"
    index: int
    pdu: bytes = field(default=b"", compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DirectDelivery:
    """A PDU routed straight to us (+CMT / +CDS): acknowledge it with `Modem.release` (+CNMA)."""

    needs_ack: bool


Handle = StoredLocation | DirectDelivery


@dataclass(frozen=True, slots=True)
class SmsReceived:
    """One received part (not reassembled). Commit it, then `await modem.release(handle)`."""

    modem: str
    pdu: bytes  # the raw PDU as the modem gave it, SMSC field included
    deliver: SmsDeliver
    handle: Handle
    received_at: datetime


@dataclass(frozen=True, slots=True)
class StatusReportReceived:
    """A status report for a part we sent (match it by `report.reference`)."""

    modem: str
    pdu: bytes
    report: StatusReport
    handle: Handle
    received_at: datetime


@dataclass(frozen=True, slots=True)
class UndecodablePdu:
    """Bytes the modem stored or pushed that are not a valid PDU; kept for the operator."""

    modem: str
    pdu: bytes
    handle: Handle
    error: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class StateChanged:
    modem: str
    state: ModemState
    reason: (
        str  # human-readable: why (e.g. "port vanished: [Errno 5] Input/output error")
    )


@dataclass(frozen=True, slots=True)
class Identified:
    modem: str
    info: ModemInfo


@dataclass(frozen=True, slots=True)
class SignalChanged:
    modem: str
    rssi_dbm: int | None  # None when unknown (+CSQ: 99)
    ber: int | None


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    modem: str
    registration: Registration
    operator: str | None
    lac: str | None = None
    cell_id: str | None = None


@dataclass(frozen=True, slots=True)
class StorageFull:
    """The modem says its message storage is full (^SMMEMFULL, +CMS ERROR 322, CPMS used==total)."""

    modem: str
    storage: str


ModemEvent = (
    SmsReceived
    | StatusReportReceived
    | UndecodablePdu
    | StateChanged
    | Identified
    | SignalChanged
    | RegistrationChanged
    | StorageFull
)
