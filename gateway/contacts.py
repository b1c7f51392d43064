"""Who is texting: every number normalised to E.164, so one customer is one contact.

A national-format sender from a modem ("07700 900123") and an international number from
the API ("+44 7700 900123") are the same customer. Senders that are names ("AMAZON") are
kept as they are and flagged: there is no number to reply to.

The functions at the top are pure; `ContactService` is the async facade over the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from gateway.domain import ContactRecord, JsonObject, NumberKind, utcnow
from gateway.errors import InvalidInput
from gateway.storage import queries

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

# Longest thing we accept as a number from outside (E.164 allows 15 digits; people type
# spaces, dashes, dots and brackets around them).
MAX_NUMBER_INPUT_CHARS = 40


@dataclass(frozen=True, slots=True)
class SenderNumber:
    """A sender as the gateway files it: `value` is E.164, the name, or the raw digits."""

    value: str
    kind: NumberKind

    @property
    def repliable(self) -> bool:
        return self.kind is not NumberKind.ALPHANUMERIC


def _e164(number: phonenumbers.PhoneNumber) -> str | None:
    # "Possible" (right length for the country) rather than "valid" (in an allocated
    # range): phonenumbers' range data lags behind operators, and a gateway that refuses a
    # real customer's number is worse than one that tries it.
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def _parse(text: str, region: str | None) -> str | None:
    if len(text) > MAX_NUMBER_INPUT_CHARS or any(c.isalpha() for c in text):
        return None
    try:
        return _e164(phonenumbers.parse(text, region))
    except NumberParseException:
        return None


def parse_international(text: str) -> str:
    """E.164 of a number written in international form (+44 7700 900123); else ValueError."""
    text = text.strip()
    if not text.startswith("+"):
        raise ValueError(text)
    number = _parse(text, None)
    if number is None:
        raise ValueError(text)
    return number


def normalize_number(text: str, region: str, *, field: str = "number") -> str:
    """E.164 of a number from outside (API, forms, CLI), read in `region` when national.

    Raises InvalidInput naming `field` for anything that is not a phone number.
    """
    cleaned = text.strip()
    number = _parse(cleaned, region) if cleaned else None
    if number is None:
        raise InvalidInput(
            field,
            f"{cleaned[:MAX_NUMBER_INPUT_CHARS]!r} is not a phone number (write it "
            f"in international form, e.g. +447700900123, or in {region} national form)",
        )
    return number


def classify_sender(
    text: str, region: str, *, alphanumeric: bool = False
) -> SenderNumber:
    """File a sender address from a modem; never fails (an SMS is never dropped for it).

    `alphanumeric` is the PDU's own flag (TON 5); a sender with letters is one anyway.
    """
    raw = text.strip()
    if alphanumeric or any(c.isalpha() for c in raw):
        return SenderNumber(raw, NumberKind.ALPHANUMERIC)
    number = _parse(raw, region)
    if number is None and raw.isdigit():
        # Some networks give international numbers without the "+" (TON unknown).
        number = _parse("+" + raw, None)
    if number is None:
        return SenderNumber(raw, NumberKind.SHORT)
    return SenderNumber(number, NumberKind.E164)


class ContactService:
    """Contacts for services and the web layer; every number is normalised on the way in."""

    def __init__(
        self,
        store: Store,
        *,
        default_region: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._region = default_region
        self._clock = clock

    def normalize(self, text: str, *, field: str = "number") -> str:
        """E.164 of `text` read in the default region; InvalidInput naming `field` if none."""
        return normalize_number(text, self._region, field=field)

    async def upsert(
        self,
        number: str,
        *,
        name: str | None = None,
        attributes: JsonObject | None = None,
    ) -> ContactRecord:
        """Create the contact for `number`, or update the fields given."""
        e164 = self.normalize(number)
        return await self._store.run(
            queries.upsert_contact,
            e164,
            NumberKind.E164,
            now=self._clock(),
            name=name,
            attributes=attributes,
        )

    async def for_sender(
        self, text: str, *, alphanumeric: bool = False
    ) -> ContactRecord:
        """The contact a modem's sender address belongs to (created on first contact)."""
        sender = classify_sender(text, self._region, alphanumeric=alphanumeric)
        return await self._store.run(
            queries.upsert_contact, sender.value, sender.kind, now=self._clock()
        )

    async def get(self, contact_id: int) -> ContactRecord:
        """The contact; NotFound if there is none."""
        return await self._store.read(queries.get_contact, contact_id)

    async def find(self, number: str) -> ContactRecord | None:
        """The contact with this number, if any (None is an answer, not a failure)."""
        e164 = self.normalize(number)
        return await self._store.read(queries.find_contact, e164)

    async def list(
        self, *, limit: int = 50, after_id: int | None = None
    ) -> list[ContactRecord]:
        """Contacts by id, `limit` at a time after `after_id` (keyset pagination)."""
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit", f"{limit} is not between 1 and 1000")
        return await self._store.read(
            queries.list_contacts, limit=limit, after_id=after_id
        )
