"""A simulated mobile network: subscriber phones, modems, and the SMS traffic between them."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from modem import pdu as pdu_codec
from modem.errors import PduError
from modem.pdu import Reassembler
from modem.pdu.types import Address, Encoding, ReassemblyKey, SmsDeliver, SmsSubmit
from modem.sim.clock import Scheduler
from modem.sim.device import SimModem
from modem.sim.profiles import Profile, get_profile
from modem.sim.state import SimState, SubmittedPdu

_LOGGER = logging.getLogger(__name__)

REPORT_DELAY_S = 0.0  # between delivery to the phone and the status report
PART_EXPIRY_S = 3600.0  # a phone gives up on a long text whose parts stopped coming


class DeliveryOutcome(enum.StrEnum):
    """What happens to a message sent to a phone."""

    DELIVERED = "delivered"
    FAILED = "failed"  # permanent: the report says so, the phone never gets it
    PENDING = "pending"  # the SC keeps trying until the outcome changes
    UNREACHABLE = "unreachable"  # the SC gives up when the validity period runs out


# TP-ST per outcome (TS 23.040 9.2.3.15)
REPORT_STATUS: dict[DeliveryOutcome, int] = {
    DeliveryOutcome.DELIVERED: 0x00,  # received by the SME
    DeliveryOutcome.PENDING: 0x20,  # congestion, SC still trying
    DeliveryOutcome.FAILED: 0x41,  # incompatible destination
    DeliveryOutcome.UNREACHABLE: 0x46,  # validity period expired
}


class UnknownNumber(KeyError):
    """No modem or phone with that number on this network."""

    def __init__(self, number: str, what: str = "number") -> None:
        super().__init__(number)
        self.number = number
        self.what = what

    def __str__(self) -> str:
        return f"no {self.what} {self.number} on this network"


@dataclass(frozen=True, slots=True)
class InboxMessage:
    """A text as a phone shows it: reassembled, with how many parts it came in."""

    sender: str
    text: str
    parts: int
    received_at: float
    references: tuple[int, ...] = ()  # TP-MR of each part as the modem numbered it
    concat_ref: int | None = None


@dataclass(slots=True)
class _Pending:
    modem: SimModem
    submit: SmsSubmit
    submitted: SubmittedPdu


@dataclass(slots=True)
class Phone:
    """A subscriber phone: texts modems, receives what they send."""

    number: str
    outcome: DeliveryOutcome = DeliveryOutcome.DELIVERED
    inbox: list[InboxMessage] = field(default_factory=list)
    sent: int = 0
    next_concat_ref: int = 1
    pending: list[_Pending] = field(default_factory=list)
    reassembler: Reassembler = field(default_factory=lambda: Reassembler(PART_EXPIRY_S))
    # TP-MRs of the parts of long texts still being reassembled
    part_references: dict[ReassemblyKey, list[int]] = field(default_factory=dict)

    def take_concat_ref(self, bits: int) -> int:
        ref = self.next_concat_ref % (1 << bits) or 1
        self.next_concat_ref = ref + 1
        return ref


class SimNetwork:
    """Phones and modems on one simulated network, with one clock and one set of timers."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        auto_phones: bool = True,
        report_delay_s: float = REPORT_DELAY_S,
    ) -> None:
        self.scheduler = Scheduler(clock)
        self.auto_phones = auto_phones
        self.report_delay_s = report_delay_s
        self.modems: dict[str, SimModem] = {}
        self.phones: dict[str, Phone] = {}

    def now(self) -> float:
        return self.scheduler.now()

    # ---------------------------------------------------------------- members

    def add_modem(
        self,
        number: str,
        profile: Profile | str = "generic",
        *,
        pin: str | None = None,
        imei: str | None = None,
    ) -> SimModem:
        """A modem with its own number and SIM joins the network."""
        if number in self.modems:
            raise ValueError(f"a modem with number {number} is already on the network")
        chosen = get_profile(profile) if isinstance(profile, str) else profile
        state = SimState.for_profile(chosen, number, pin=pin)
        if imei is not None:
            state.imei = imei
        # distinct SIM identities per modem, derived from the number
        digits = "".join(c for c in number if c.isdigit())[-9:].rjust(9, "0")
        state.imsi = "001010" + digits
        state.iccid = f"8901260{digits}017"
        modem = SimModem(state, self.scheduler, on_submit=self._on_submit)
        self.modems[number] = modem
        return modem

    def add_phone(
        self, number: str, outcome: DeliveryOutcome = DeliveryOutcome.DELIVERED
    ) -> Phone:
        """A subscriber phone (or the existing one with that number)."""
        phone = self.phones.get(number)
        if phone is None:
            phone = self.phones[number] = Phone(number, outcome)
        return phone

    def phone(self, number: str) -> Phone:
        """The phone with that number; created on first use when `auto_phones`."""
        phone = self.phones.get(number)
        if phone is not None:
            return phone
        if not self.auto_phones:
            raise UnknownNumber(number, "phone")
        return self.add_phone(number)

    def modem(self, number: str) -> SimModem:
        try:
            return self.modems[number]
        except KeyError:
            raise UnknownNumber(number, "modem") from None

    def set_outcome(self, number: str, outcome: DeliveryOutcome) -> None:
        """How the network treats messages to this phone from now on (pending ones too)."""
        phone = self.phone(number)
        phone.outcome = outcome
        if outcome is DeliveryOutcome.PENDING:
            return
        waiting, phone.pending = phone.pending, []
        for item in waiting:
            self._settle(phone, item.modem, item.submit, item.submitted)

    # ---------------------------------------------------------------- phone -> modem

    def send_text(
        self,
        sender: str,
        to: str,
        text: str,
        *,
        ref_bits: int = 8,
        encoding: Encoding | None = None,
    ) -> list[bytes]:
        """A phone texts a modem; returns the SMS-DELIVER PDUs the modem got (SMSC first)."""
        modem = self.modem(to)
        phone = self.phone(sender)
        pdus = pdu_codec.encode_deliver(
            sender,
            text,
            timestamp=self._timestamp(),
            concat_ref=phone.take_concat_ref(ref_bits),
            ref_bits=ref_bits,
            smsc=modem.state.csca,
            encoding=encoding,
        )
        phone.sent += 1
        _LOGGER.info("%s texts %s (%d parts)", _mask(sender), _mask(to), len(pdus))
        for data in pdus:
            modem.deliver(data, len(data) - 1 - data[0])
        return pdus

    def _timestamp(self) -> datetime:
        return datetime.fromtimestamp(int(self.now()), UTC)

    # ---------------------------------------------------------------- modem -> phone

    def _on_submit(self, modem: SimModem, submitted: SubmittedPdu) -> None:
        try:
            value = pdu_codec.decode(submitted.pdu, has_smsc=True)
        except PduError as exc:
            # the SC rejects it; the modem already said +CMGS, as real ones do
            _LOGGER.warning(
                "%s: submitted PDU does not decode: %s", modem.log_name, exc
            )
            return
        if not isinstance(value, SmsSubmit):
            _LOGGER.warning("%s: submitted a %s", modem.log_name, type(value).__name__)
            return
        phone = self.phone(value.destination.number)
        if phone.outcome is DeliveryOutcome.PENDING:
            phone.pending.append(_Pending(modem, value, submitted))
            self._report(
                modem, value, submitted, REPORT_STATUS[DeliveryOutcome.PENDING]
            )
            return
        self._settle(phone, modem, value, submitted)

    def _settle(
        self, phone: Phone, modem: SimModem, submit: SmsSubmit, submitted: SubmittedPdu
    ) -> None:
        if phone.outcome is DeliveryOutcome.DELIVERED:
            self._to_inbox(phone, modem, submit, submitted)
        self._report(modem, submit, submitted, REPORT_STATUS[phone.outcome])

    def _to_inbox(
        self, phone: Phone, modem: SimModem, submit: SmsSubmit, submitted: SubmittedPdu
    ) -> None:
        now = self.now()
        part = SmsDeliver(
            smsc=None,
            sender=Address(
                modem.number, ton=1 if modem.number.startswith("+") else 0, npi=1
            ),
            timestamp=self._timestamp(),
            pid=submit.pid,
            dcs=submit.dcs,
            encoding=submit.encoding,
            text=submit.text,
            data=submit.data,
            udh=submit.udh,
        )
        phone.reassembler.expire(now)
        concat = part.concat
        key = None if concat is None else pdu_codec.reassembly_key(modem.number, concat)
        references = phone.part_references.setdefault(key, []) if key else []
        references.append(submitted.reference)
        message = phone.reassembler.add(part, now)
        if message is None:
            return
        if key is not None:
            phone.part_references.pop(key, None)
        phone.inbox.append(
            InboxMessage(
                sender=modem.number,
                text=message.text,
                parts=len(message.parts),
                received_at=now,
                references=tuple(references),
                concat_ref=None if concat is None else concat.ref,
            )
        )
        _LOGGER.info(
            "%s got a %d-part text from %s",
            _mask(phone.number),
            len(message.parts),
            _mask(modem.number),
        )

    def _report(
        self, modem: SimModem, submit: SmsSubmit, submitted: SubmittedPdu, status: int
    ) -> None:
        if not submit.status_report_request:
            return
        pdu = pdu_codec.encode_status_report(
            reference=submitted.reference,
            recipient=submit.destination.number,
            sc_timestamp=datetime.fromtimestamp(int(submitted.at), UTC),
            discharge_time=self._timestamp(),
            status=status,
            smsc=modem.state.csca,
        )

        def deliver() -> None:
            modem.deliver_report(pdu, len(pdu) - 1 - pdu[0])

        if self.report_delay_s > 0:
            self.scheduler.call_later(self.report_delay_s, deliver)
        else:
            deliver()

    # ---------------------------------------------------------------- views

    def inbox(self, number: str) -> list[InboxMessage]:
        """What the phone received, oldest first."""
        return list(self.phone(number).inbox)

    async def run(self) -> None:
        """Run the network's timers (CNMA timeouts, delayed reports) until cancelled."""
        await self.scheduler.run()


def _mask(number: str) -> str:
    """+4479…1234: numbers at INFO level without giving them away."""
    if len(number) <= 7:
        return number[:2] + "…"
    return f"{number[:5]}…{number[-4:]}"
