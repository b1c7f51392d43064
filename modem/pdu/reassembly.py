"""Concatenated messages back into one text; pure (time comes in as `now`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from modem.pdu import gsm7, ucs2
from modem.pdu.types import (
    Address,
    Concat,
    Encoding,
    Expired,
    Message,
    Part,
    ReassemblyKey,
)


def reassembly_key(sender: str, concat: Concat) -> ReassemblyKey:
    """Parts belong together when sender, reference, total and reference width all match."""
    return (sender, concat.ref, concat.total, concat.ref_bits)


def _seq(part: Part) -> int:
    concat = part.concat
    return concat.seq if concat else 1


def join_parts(parts: Sequence[Part]) -> str:
    """The text of `parts` in seq order, a repeated seq counted once (the first seen).

    Parts in one alphabet are joined before decoding, so an escape (GSM-7) or a surrogate pair
    (UCS-2) that a sender split across two parts still decodes whole.
    """
    unique: dict[int, Part] = {}
    for part in parts:
        unique.setdefault(_seq(part), part)
    ordered = [unique[seq] for seq in sorted(unique)]
    encodings = {part.encoding for part in ordered}
    if encodings == {Encoding.GSM7}:
        return gsm7.decode(b"".join(part.data for part in ordered))
    if encodings == {Encoding.UCS2} and all(
        len(part.data) % ucs2.UNIT_OCTETS == 0 for part in ordered
    ):
        return ucs2.decode(b"".join(part.data for part in ordered))
    return "".join(part.text for part in ordered)


@dataclass(slots=True)
class _Pending:
    address: Address
    total: int
    first_seen: float
    parts: dict[int, Part] = field(default_factory=dict)


class Reassembler:
    """In-memory reassembly for the CLI and simulated phones; the gateway persists its parts."""

    def __init__(self, expiry_s: float) -> None:
        if expiry_s <= 0:
            raise ValueError(f"expiry_s must be positive, not {expiry_s}")
        self.expiry_s = expiry_s
        self._pending: dict[ReassemblyKey, _Pending] = {}

    @property
    def pending(self) -> tuple[ReassemblyKey, ...]:
        """Keys of messages still waiting for parts."""
        return tuple(self._pending)

    def add(self, part: Part, now: float) -> Message | None:
        """Take one part; returns the whole message when it completes one, else None."""
        concat = part.concat
        if concat is None or concat.total == 1:
            return Message(
                address=part.address, text=join_parts([part]), parts=(part,), key=None
            )
        key = reassembly_key(part.address.number, concat)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending(part.address, concat.total, now)
        # A part the network delivered twice is ignored, the first copy kept.
        pending.parts.setdefault(concat.seq, part)
        if len(pending.parts) < pending.total:
            return None
        del self._pending[key]
        ordered = tuple(pending.parts[seq] for seq in sorted(pending.parts))
        return Message(
            address=pending.address, text=join_parts(ordered), parts=ordered, key=key
        )

    def expire(self, now: float) -> list[Expired]:
        """Give up on messages first seen `expiry_s` or longer ago; returns what each had."""
        due = [
            key
            for key, pending in self._pending.items()
            if now - pending.first_seen >= self.expiry_s
        ]
        expired: list[Expired] = []
        for key in due:
            pending = self._pending.pop(key)
            ordered = tuple(pending.parts[seq] for seq in sorted(pending.parts))
            expired.append(
                Expired(
                    key=key,
                    address=pending.address,
                    text=join_parts(ordered),
                    parts=ordered,
                    missing=tuple(
                        seq
                        for seq in range(1, pending.total + 1)
                        if seq not in pending.parts
                    ),
                    first_seen=pending.first_seen,
                )
            )
        return expired
