"""ContactsService: the contact book agents edit - create, update, delete, look up, list
and search, CSV import and export - on top of gateway.contacts.ContactService.

Every change and its audit entry commit in one unit. Consent is shown (opted-out state
and history) but never changed here: ComplianceService.set_consent does that, audited.

CSV import is per row: the rows that pass are applied (one unit per batch of
IMPORT_BATCH_ROWS), each bad row is reported with its row number and field and changes
nothing. `dry_run=True` checks the whole file and reports what would happen without
writing, so a console can offer "all or nothing" by importing only a clean dry run.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from gateway import events
from gateway.contacts import (
    MAX_NUMBER_INPUT_CHARS,
    ContactService,
    normalize_number,
)
from gateway.domain import ContactRecord, JsonObject, JsonValue, utcnow
from gateway.errors import InvalidInput, NotFound
from gateway.inbox import csvio, policy
from gateway.inbox.records import (
    SYSTEM,
    Actor,
    ContactInput,
    ContactPage,
    ContactProfile,
    ImportReport,
    SearchTerms,
)
from gateway.storage import inbox_queries, queries

if TYPE_CHECKING:
    from gateway.auth.records import Identity
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

IMPORT_BATCH_ROWS = 1000  # rows per unit of work: other work is not held up for long
EXPORT_BATCH_ROWS = 1000
DEFAULT_PAGE = 50
# update(name=...) leaves the name alone unless given; CLEAR removes it
_KEEP = object()


class ContactsService(ContactService):
    """Contacts for agents and the API; numbers are normalised on the way in."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        *,
        default_region: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(store, default_region=default_region, clock=clock)
        self._bus = bus

    # -------------------------------------------------------------- reads

    async def profile(self, contact_id: int) -> ContactProfile:
        """The contact with their consent state and history and latest conversations."""
        cid = policy.check_id(contact_id, "contact_id")
        return await self._store.read(inbox_queries.contact_profile, cid)

    async def lookup(self, number: str) -> ContactProfile:
        """The profile of the contact with this number (any form); NotFound if none."""
        # A sender name ("AMAZON") or a short code is looked up exactly as stored.
        if not number.strip():
            raise InvalidInput("number", "a phone number is required")
        try:
            key = self.normalize(number)
        except InvalidInput:
            key = number.strip()
            if len(key) > MAX_NUMBER_INPUT_CHARS or not key.isprintable():
                raise
        return await self._store.read(self._lookup_unit, key)

    @staticmethod
    def _lookup_unit(key: str) -> ContactProfile:
        """ON THE DB THREAD: the profile of the contact stored under `key`."""
        contact = inbox_queries.contact_by_number(key)
        if contact is None:
            raise NotFound("contact", key)
        return inbox_queries.contact_profile(contact.id)

    async def page(
        self,
        *,
        search: str | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_PAGE,
    ) -> ContactPage:
        """Contacts in the order they were added, `limit` at a time, matching `search`."""
        # `search`: 3+ character pieces of name, number or attribute values, or a number
        # however it is written.
        terms = self._search_terms(search)
        after = None if cursor is None else policy.decode_id_cursor(cursor)
        size = policy.check_limit(limit, maximum=policy.MAX_PAGE)
        rows, more = await self._store.read(
            inbox_queries.list_contacts, search=terms, after_id=after, limit=size
        )
        next_cursor = policy.encode_id_cursor(rows[-1].contact.id) if more else None
        return ContactPage(tuple(rows), next_cursor)

    def _search_terms(self, text: str | None) -> SearchTerms | None:
        number = None
        if text is not None and policy.looks_like_number(text):
            try:
                number = normalize_number(text, self._region, field="search")
            except InvalidInput:
                number = None
        return policy.search_terms(text, number=number)

    # -------------------------------------------------------------- changes

    async def create(
        self,
        number: str,
        *,
        name: str | None = None,
        attributes: Mapping[str, object] | None = None,
        actor: Actor | Identity,
    ) -> ContactRecord:
        """A new contact; Conflict when the number already has one."""
        e164 = self.normalize(number)
        clean_name = policy.contact_name(name)
        patch = policy.attribute_patch(attributes)
        values = {k: v for k, v in patch.items() if v is not None}
        who = Actor.of(actor)
        now = self._clock()
        record = await self._store.run(
            self._create_unit, e164, clean_name, values, who, now
        )
        self._bus.publish(events.ContactChanged(record.id, "created", now))
        return record

    @staticmethod
    def _create_unit(
        number: str,
        name: str | None,
        attributes: JsonObject,
        who: Actor,
        now: datetime,
    ) -> ContactRecord:
        """ON THE DB THREAD: the contact and its audit entry."""
        record = inbox_queries.create_contact(
            number, name=name, attributes=attributes, now=now
        )
        queries.record_audit(
            who.name,
            "contact.create",
            f"contact:{record.id}",
            now=now,
            detail={"fields": _fields(name, attributes)},
        )
        return record

    async def update(
        self,
        contact_id: int,
        *,
        name: str | object | None = _KEEP,
        attributes: Mapping[str, object] | None = None,
        actor: Actor | Identity,
    ) -> ContactRecord:
        """Change the name and merge attributes; the contact as it is now."""
        # name None or "" removes it, left out keeps it; an attribute set to None is removed.
        cid = policy.check_id(contact_id, "contact_id")
        clear = name is None or (isinstance(name, str) and not name.strip())
        new_name = None
        if name is not _KEEP and not clear:
            if not isinstance(name, str):
                raise InvalidInput("name", "text is required")
            new_name = policy.contact_name(name)
        patch = policy.attribute_patch(attributes)
        who = Actor.of(actor)
        now = self._clock()
        before, after = await self._store.run(
            self._update_unit,
            cid,
            new_name,
            clear and name is not _KEEP,
            patch,
            who,
            now,
        )
        if after != before:
            self._bus.publish(events.ContactChanged(cid, "updated", now))
        return after

    @staticmethod
    def _update_unit(
        cid: int,
        name: str | None,
        clear_name: bool,
        patch: JsonObject,
        who: Actor,
        now: datetime,
    ) -> tuple[ContactRecord, ContactRecord]:
        """ON THE DB THREAD: the change and, when something changed, its audit entry."""
        before, after = inbox_queries.update_contact(
            cid, name=name, clear_name=clear_name, attributes=patch, now=now
        )
        if after != before:
            changed: list[JsonValue] = ["name"] if after.name != before.name else []
            keys = set(before.attributes) | set(after.attributes)
            changed += sorted(
                f"attributes.{k}"
                for k in keys
                if before.attributes.get(k) != after.attributes.get(k)
            )
            queries.record_audit(
                who.name,
                "contact.update",
                f"contact:{cid}",
                now=now,
                detail={"fields": changed},
            )
        return before, after

    async def delete(
        self, contact_id: int, *, actor: Actor | Identity
    ) -> ContactRecord:
        """Delete a contact without conversations (Conflict otherwise)."""
        # Their consent history stays with the number.
        cid = policy.check_id(contact_id, "contact_id")
        who = Actor.of(actor)
        now = self._clock()
        record = await self._store.run(self._delete_unit, cid, who, now)
        self._bus.publish(events.ContactChanged(cid, "deleted", now))
        return record

    @staticmethod
    def _delete_unit(cid: int, who: Actor, now: datetime) -> ContactRecord:
        """ON THE DB THREAD: the deletion and its audit entry."""
        record = inbox_queries.delete_contact(cid)
        queries.record_audit(who.name, "contact.delete", f"contact:{cid}", now=now)
        return record

    # -------------------------------------------------------------- CSV

    async def import_csv(
        self,
        data: bytes | str,
        *,
        actor: Actor | Identity = SYSTEM,
        dry_run: bool = False,
    ) -> ImportReport:
        """Create or update contacts from a CSV file (see gateway.inbox.csvio)."""
        rows, problems, count = csvio.parse_import(data)
        inputs: list[ContactInput] = []
        for row in rows:
            try:
                number = normalize_number(row.number, self._region, field="number")
                inputs.append(ContactInput(number, row.name, row.attributes, row.row))
            except InvalidInput as exc:
                # Not a phone number: it may still be a sender stored as it came
                # ("AMAZON"), which the export writes as it is.
                inputs.append(
                    ContactInput(
                        row.number, row.name, row.attributes, row.row, exact=exc.reason
                    )
                )
        who = Actor.of(actor)
        created = updated = unchanged = 0
        # A dry run writes nothing, so it checks the file in one unit: a number that
        # comes twice then counts as created once, as the real import will.
        size = max(len(inputs), 1) if dry_run else IMPORT_BATCH_ROWS
        for start in range(0, len(inputs), size):
            batch = inputs[start : start + size]
            outcome = await self._store.run(
                inbox_queries.import_contacts, batch, now=self._clock(), dry_run=dry_run
            )
            created += outcome.created
            updated += outcome.updated
            unchanged += outcome.unchanged
            problems.extend(outcome.problems)
        report = ImportReport(
            rows=count,
            created=created,
            updated=updated,
            unchanged=unchanged,
            problems=tuple(sorted(problems, key=lambda p: p.row)),
            dry_run=dry_run,
        )
        if not dry_run:
            await self._store.run(
                queries.record_audit,
                who.name,
                "contact.import",
                "contacts",
                now=self._clock(),
                detail={
                    "rows": count,
                    "created": created,
                    "updated": updated,
                    "unchanged": unchanged,
                    "problems": len(report.problems),
                },
            )
        _LOGGER.info(
            "contact import%s by %s: %d rows, %d created, %d updated, %d unchanged, "
            "%d refused",
            " (dry run)" if dry_run else "",
            who.name,
            count,
            created,
            updated,
            unchanged,
            len(report.problems),
        )
        return report

    async def export_csv(self) -> AsyncIterator[str]:
        """The contact book as CSV text, a chunk per batch (stream it as it comes)."""
        keys = await self._store.read(inbox_queries.attribute_keys)
        yield csvio.export_lines([csvio.export_header(keys)])
        after: int | None = None
        while True:
            rows = await self._store.read(
                inbox_queries.export_contacts, after_id=after, limit=EXPORT_BATCH_ROWS
            )
            if not rows:
                return
            yield csvio.export_lines(csvio.export_row(row, keys) for row in rows)
            if len(rows) < EXPORT_BATCH_ROWS:
                return
            after = rows[-1].contact.id


def _fields(name: str | None, attributes: Mapping[str, JsonValue]) -> list[JsonValue]:
    fields: list[JsonValue] = ["name"] if name else []
    fields += [f"attributes.{k}" for k in sorted(attributes)]
    return fields
