"""Everything a simulated modem remembers: message stores, settings, SIM and network state."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from modem.sim.profiles import Profile

CMGS_MAX_TPDU_OCTETS = (
    164  # the longest SMS-SUBMIT TPDU (TS 23.040: 7 + 12 + 1 + 1 + 7 + 140)
)
DEFAULT_PIN_ATTEMPTS = 3
DEFAULT_PUK_ATTEMPTS = 10


class MessageStat(enum.IntEnum):
    """<stat> of a stored message (TS 27.005 3.1), PDU-mode numbers."""

    REC_UNREAD = 0
    REC_READ = 1
    STO_UNSENT = 2
    STO_SENT = 3

    @property
    def text(self) -> str:
        """The text-mode name ("REC UNREAD")."""
        return self.name.replace("_", " ")


class PinState(enum.StrEnum):
    """What AT+CPIN? reports."""

    READY = "READY"
    SIM_PIN = "SIM PIN"
    SIM_PUK = "SIM PUK"


class Registration(enum.IntEnum):
    """<stat> of +CREG/+CGREG."""

    NOT_REGISTERED = 0
    HOME = 1
    SEARCHING = 2
    DENIED = 3
    UNKNOWN = 4
    ROAMING = 5

    @property
    def registered(self) -> bool:
        return self in (Registration.HOME, Registration.ROAMING)


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """One occupied slot: the PDU as AT+CMGR shows it (SMSC field first)."""

    index: int
    stat: MessageStat
    pdu: bytes
    tpdu_length: int


class StorageFull(Exception):
    """No free slot in a message store (+CMS ERROR: 322)."""

    def __init__(self, storage: str) -> None:
        super().__init__(f"message storage {storage} is full")
        self.storage = storage


@dataclass(slots=True)
class Storage:
    """A message store (SM, ME, SR) with a fixed number of slots."""

    name: str
    capacity: int
    first_index: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)

    @property
    def used(self) -> int:
        return len(self.messages)

    @property
    def full(self) -> bool:
        return self.used >= self.capacity

    def valid_index(self, index: int) -> bool:
        """True for a slot number this store has (occupied or not)."""
        return self.first_index <= index < self.first_index + self.capacity

    def store(self, pdu: bytes, tpdu_length: int, stat: MessageStat) -> int:
        """Put a PDU in the lowest free slot; returns its index or raises StorageFull."""
        for index in range(self.first_index, self.first_index + self.capacity):
            if index not in self.messages:
                self.messages[index] = StoredMessage(index, stat, pdu, tpdu_length)
                return index
        raise StorageFull(self.name)

    def mark_read(self, index: int) -> None:
        """REC UNREAD becomes REC READ once the host has seen it."""
        msg = self.messages[index]
        if msg.stat is MessageStat.REC_UNREAD:
            self.messages[index] = StoredMessage(
                msg.index, MessageStat.REC_READ, msg.pdu, msg.tpdu_length
            )

    def listing(self) -> list[StoredMessage]:
        """The occupied slots in index order."""
        return [self.messages[i] for i in sorted(self.messages)]


class Cnmi(NamedTuple):
    """New-message indication settings (AT+CNMI=<mode>,<mt>,<bm>,<ds>,<bfr>), indexable too."""

    mode: int = 0
    mt: int = 0
    bm: int = 0
    ds: int = 0
    bfr: int = 0

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.mode, self.mt, self.bm, self.ds, self.bfr)


@dataclass(frozen=True, slots=True)
class PendingSubmit:
    """AT+CMGS/AT+CMGW is waiting for its body after the `> ` prompt."""

    command: str  # "+CMGS" or "+CMGW"
    pdu_mode: bool
    tpdu_length: int = 0  # PDU mode
    destination: str = ""  # text mode
    stat: MessageStat = MessageStat.STO_UNSENT  # AT+CMGW


@dataclass(frozen=True, slots=True)
class SubmittedPdu:
    """A message the host handed to the network with AT+CMGS."""

    reference: int  # the TP-MR the modem assigned (what +CMGS: returns)
    pdu: bytes  # as the host sent it, SMSC field first, TP-MR overwritten
    tpdu_length: int
    at: float  # `now` when it was submitted


@dataclass(slots=True)
class SimState:
    """The whole of one simulated modem, mutated only by the responder and its owner."""

    profile: Profile
    own_number: str
    storages: dict[str, Storage]
    # identity
    manufacturer: str
    model: str
    revision: str
    imei: str = "490154203237518"
    imsi: str = "001010123456789"
    iccid: str = "8901260000000000017"
    # settings the host changes (ATZ and a reboot put them back)
    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "IRA"
    csms: int = 0
    cnmi: Cnmi = field(default_factory=Cnmi)
    cpms: tuple[str, str, str] = ("SM", "SM", "SM")
    creg_n: int = 0
    cgreg_n: int = 0
    cops_format: int = 0
    cmms: int = 0
    cusd: int = 0
    csdh: int = 0
    csmp: tuple[int, int, int, int] = (17, 167, 0, 0)  # text mode fo, vp, pid, dcs
    cfun: int = 1
    huawei_curc: int = 1
    # SIM
    pin: str | None = None
    puk: str = "12345678"
    pin_state: PinState = PinState.READY
    pin_attempts: int = DEFAULT_PIN_ATTEMPTS
    puk_attempts: int = DEFAULT_PUK_ATTEMPTS
    # network
    registration: Registration = Registration.HOME
    gprs_attached: bool = True
    lac: str = "1A2B"
    cell_id: str = "00C3D4"
    act: int = 2  # UTRAN
    operator_name: str = "SimNet"
    operator_numeric: str = "00101"
    rssi: int = 20
    ber: int = 99
    battery_percent: int = 100
    csca: str = "+15550000000"
    csca_type: int = 145
    # traffic
    next_mr: int = 1
    submitted: list[SubmittedPdu] = field(default_factory=list)
    pending_submit: PendingSubmit | None = None
    awaiting_ack: int = 0  # +CMT deliveries the host has not acknowledged with +CNMA
    acked: int = 0  # +CNMA acknowledgements received in total
    storage_full: bool = False  # fault: every store reports itself full
    buffered_urcs: list[str] = field(
        default_factory=list
    )  # CNMI mode 0 keeps them here
    command_counts: Counter[str] = field(default_factory=Counter)

    @classmethod
    def for_profile(
        cls, profile: Profile, own_number: str, *, pin: str | None = None
    ) -> SimState:
        """A freshly booted modem of this family (SIM locked when a PIN is given)."""
        state = cls(
            profile=profile,
            own_number=own_number,
            storages={
                name: Storage(name, capacity, profile.first_index)
                for name, capacity in profile.storages
            },
            manufacturer=profile.manufacturer,
            model=profile.model,
            revision=profile.revision,
            pin=pin,
        )
        state.power_on()
        return state

    def reset_settings(self) -> None:
        """What ATZ restores: the profile's defaults for everything the host may change."""
        self.echo = self.profile.echo_default
        self.cmee = 0
        self.cmgf = 0
        self.cscs = "IRA"
        self.csms = 0
        self.cnmi = Cnmi(*self.profile.cnmi_default)
        self.cpms = self.profile.cpms_default
        self.creg_n = 0
        self.cgreg_n = 0
        self.cops_format = 0
        self.cmms = 0
        self.cusd = 0
        self.csdh = 0
        self.huawei_curc = 1
        self.pending_submit = None
        self.awaiting_ack = 0
        self.buffered_urcs.clear()

    def power_on(self) -> None:
        """A (re)boot: settings back to defaults, SIM locked again if it has a PIN."""
        self.reset_settings()
        self.cfun = 1
        self.pin_state = PinState.SIM_PIN if self.pin else PinState.READY
        self.pin_attempts = DEFAULT_PIN_ATTEMPTS

    @property
    def sim_ready(self) -> bool:
        return self.pin_state is PinState.READY

    def storage(self, name: str) -> Storage:
        """The named store; KeyError when this family has none."""
        return self.storages[name]

    def is_full(self, name: str) -> bool:
        """True when a new message cannot go into `name` (really full or the fault says so)."""
        return self.storage_full or self.storages[name].full

    def take_mr(self) -> int:
        """The next TP-MR (0-255, wrapping)."""
        mr = self.next_mr
        self.next_mr = (mr + 1) % 256
        return mr
