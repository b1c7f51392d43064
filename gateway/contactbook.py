"""ContactBook: contacts as the REST API answers them - every change answered with the
contact and whether its number is opted out now (ContactsService does the work)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gateway.domain import ContactRecord
from gateway.inbox.records import Actor, ContactPage, ContactRow

if TYPE_CHECKING:
    from gateway.auth.records import Identity
    from gateway.inbox.contacts import ContactsService


class ContactBook:
    """A thin view over ContactsService: each call is one service call plus, after a
    change, one read of the contact's consent (a separate, later read)."""

    def __init__(self, contacts: ContactsService) -> None:
        self._contacts = contacts

    async def get(self, contact_id: int) -> ContactRow:
        """The contact and its consent; NotFound if there is none."""
        profile = await self._contacts.profile(contact_id)
        return ContactRow(profile.contact, profile.opted_out)

    async def lookup(self, number: str) -> ContactRow:
        """The contact for a number (any form the box reads); NotFound if none."""
        profile = await self._contacts.lookup(number)
        return ContactRow(profile.contact, profile.opted_out)

    async def page(
        self, *, search: str | None, cursor: str | None, limit: int
    ) -> ContactPage:
        """Contacts in the order they were added (ContactsService.page)."""
        return await self._contacts.page(search=search, cursor=cursor, limit=limit)

    async def create(
        self,
        number: str,
        *,
        name: str | None,
        attributes: Mapping[str, object] | None,
        actor: Actor | Identity,
    ) -> ContactRow:
        """A new contact (Conflict when the number has one), with its consent."""
        record = await self._contacts.create(
            number, name=name, attributes=attributes, actor=actor
        )
        return await self.get(record.id)

    async def update(
        self,
        contact_id: int,
        *,
        name: str | None,
        change_name: bool,
        attributes: Mapping[str, object] | None,
        actor: Actor | Identity,
    ) -> ContactRow:
        """Change the name (when `change_name`; None clears it) and merge attributes
        (a None value removes the key); the contact as it is now."""
        if change_name:
            await self._contacts.update(
                contact_id, name=name, attributes=attributes, actor=actor
            )
        else:
            await self._contacts.update(contact_id, attributes=attributes, actor=actor)
        return await self.get(contact_id)

    async def delete(
        self, contact_id: int, *, actor: Actor | Identity
    ) -> ContactRecord:
        """Delete a contact without conversations (Conflict otherwise)."""
        return await self._contacts.delete(contact_id, actor=actor)
