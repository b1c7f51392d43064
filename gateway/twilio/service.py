"""TwilioService: accounts of the Twilio-compatible API, and its Messages resource over
the gateway's own messages.

A send goes through `OutboundService` like every other (consent, idempotent queueing,
modem choice, the dispatcher), in ONE unit with the row that remembers the account, the
StatusCallback and the modems the message may leave from. Errors are Twilio's
(`TwilioApiError` with Twilio's codes), so its clients branch on them unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.config import Settings
from gateway.contacts import normalize_number
from gateway.domain import Enqueued, MessageOrigin, utcnow
from gateway.errors import InvalidInput, NotFound, OptedOut
from gateway.outbox.service import Draft, OutboundService
from gateway.storage import twilio_queries
from gateway.twilio import errors, paging, sids
from gateway.twilio.errors import TwilioApiError
from gateway.twilio.records import (
    AccountToken,
    MessageFilter,
    MessagePage,
    PageRequest,
    TwilioAccount,
    TwilioMessage,
)
from gateway.webhooks.records import DeliveryRecord
from gateway.webhooks.service import check_url

if TYPE_CHECKING:
    from gateway.storage.db import Store

MAX_NAME_CHARS = 100
DELIVERIES_PAGE = 50


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("name", "a name is required")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput("name", f"at most {MAX_NAME_CHARS} characters")
    return name


def check_inbound_url(url: str | None) -> str | None:
    """An inbound URL as the Webhooks pages take one; None or "" for none."""
    if url is None or not url.strip():
        return None
    try:
        return check_url(url)
    except InvalidInput as exc:
        raise InvalidInput("inbound_url", exc.reason) from None


class TwilioService:
    """Twilio accounts, and sending, fetching and listing messages as Twilio does."""

    def __init__(
        self,
        store: Store,
        outbound: OutboundService,
        *,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._outbound = outbound
        self._region = settings.gateway.default_region
        self._clock = clock
        self._wake = wake  # the webhook relay: a replay was queued

    # -------------------------------------------------------------- accounts

    async def _check_modems(self, modems: Collection[str]) -> tuple[str, ...]:
        known = set(await self._store.read(twilio_queries.box_numbers))
        unknown = sorted(set(modems) - known)
        if unknown:
            raise InvalidInput(
                "modems",
                f"no modem {', '.join(unknown)} on this box "
                f"(known: {', '.join(sorted(known)) or 'none yet'})",
            )
        return tuple(sorted(set(modems)))

    async def create_account(
        self,
        name: str,
        *,
        inbound_url: str | None = None,
        modems: Collection[str] = (),
        actor: str,
    ) -> AccountToken:
        """A new account: its SID, and its auth token (shown this once)."""
        return await self._store.run(
            twilio_queries.create_account,
            sid=sids.new_account_sid(),
            name=check_name(name),
            auth_token=sids.new_auth_token(),
            inbound_url=check_inbound_url(inbound_url),
            modems=await self._check_modems(modems),
            now=self._clock(),
            actor=actor,
        )

    async def list_accounts(self) -> list[TwilioAccount]:
        return await self._store.read(twilio_queries.list_accounts)

    async def get_account(self, sid: str) -> TwilioAccount:
        """The account; NotFound if there is none."""
        return await self._store.read(twilio_queries.get_account, sid)

    async def rotate_token(self, sid: str, *, actor: str) -> AccountToken:
        """A new auth token (shown this once); the old one stops working now."""
        return await self._store.run(
            twilio_queries.rotate_token,
            sid,
            auth_token=sids.new_auth_token(),
            now=self._clock(),
            actor=actor,
        )

    async def update_account(
        self,
        sid: str,
        *,
        name: str | None = None,
        inbound_url: str | None = None,
        modems: Collection[str] | None = None,
        webhooks_active: bool | None = None,
        actor: str,
    ) -> TwilioAccount:
        """Change what is given (None: unchanged; inbound_url "" removes it)."""
        account = await self._store.run(
            twilio_queries.update_account,
            sid,
            now=self._clock(),
            actor=actor,
            name=None if name is None else check_name(name),
            inbound_url=None
            if inbound_url is None
            else check_inbound_url(inbound_url) or "",
            modems=None if modems is None else await self._check_modems(modems),
            webhooks_active=webhooks_active,
        )
        if webhooks_active and self._wake is not None:
            self._wake()  # what waited for it goes now
        return account

    async def authenticate(self, sid: str, auth_token: str) -> TwilioAccount:
        """The account these credentials are for; TwilioApiError 20003 otherwise."""
        if not sids.is_account_sid(sid) or not auth_token:
            raise errors.authenticate()
        account = await self._store.run(twilio_queries.authenticate, sid, auth_token)
        if account is None:
            raise errors.authenticate()
        return account

    async def deliveries(
        self, sid: str, *, before_id: int | None = None
    ) -> list[DeliveryRecord]:
        """The account's webhook deliveries, newest first."""
        account = await self.get_account(sid)
        return await self._store.read(
            twilio_queries.list_deliveries,
            account.endpoint_id,
            limit=DELIVERIES_PAGE,
            before_id=before_id,
        )

    # -------------------------------------------------------------- messages

    async def send(
        self,
        account: TwilioAccount,
        *,
        to: str | None,
        body: str | None,
        from_: str | None = None,
        status_callback: str | None = None,
        media: bool = False,
    ) -> TwilioMessage:
        """Queue a text, committed before this returns (status "queued").

        `from_` naming one of this box's modems (its number or name) sends through it
        only; any other From (the number the client used at Twilio) is ignored and the
        box chooses, among the account's modems.
        """
        draft = self._draft(to, body, media=media)
        callback = None
        if status_callback:
            try:
                callback = check_url(status_callback)
            except InvalidInput as exc:
                raise TwilioApiError(
                    errors.STATUS_CALLBACK_INVALID,
                    f"The StatusCallback URL {status_callback} is not valid: "
                    f"{exc.reason}",
                ) from None
        try:
            enqueued, shown = await self._store.run(
                self._send_unit,
                account,
                draft,
                from_=from_,
                callback=callback,
                now=self._clock(),
                healthy=self._outbound.healthy_now(),
            )
        except OptedOut as exc:
            raise TwilioApiError(
                errors.UNSUBSCRIBED,
                f"Attempt to send to unsubscribed recipient {to}",
            ) from exc
        self._outbound.announce(enqueued)
        return shown

    def _draft(self, to: str | None, body: str | None, *, media: bool) -> Draft:
        if not to:
            raise TwilioApiError(errors.TO_MISSING, "A 'To' phone number is required.")
        if media:
            raise TwilioApiError(
                errors.MEDIA_UNSUPPORTED,
                "MediaUrl is not supported: this gateway sends SMS text only",
            )
        if body is None or not body.strip():
            raise TwilioApiError(errors.BODY_MISSING, "Message body is required.")
        try:
            number = self._outbound.normalize(to, field="to")
        except InvalidInput:
            raise TwilioApiError(
                errors.INVALID_TO, f"The 'To' number {to} is not a valid phone number."
            ) from None
        count = self._outbound.count(body)
        if count.parts > count.max_parts:
            raise TwilioApiError(
                errors.BODY_TOO_LONG,
                f"The concatenated message body exceeds the {count.max_parts} SMS "
                f"parts this gateway sends (it needs {count.parts})",
            )
        try:
            parts, encoding = self._outbound.measure(body)
        except InvalidInput as exc:
            raise errors.invalid_parameter("Body", exc.reason) from None
        return Draft(number, body, parts, encoding)

    def _send_unit(
        self,
        account: TwilioAccount,
        draft: Draft,
        *,
        from_: str | None,
        callback: str | None,
        now: datetime,
        healthy: Collection[str] | None,
    ) -> tuple[Enqueued, TwilioMessage]:
        """ON THE DB THREAD: choose the modems, queue the text, remember the account."""
        known = twilio_queries.box_numbers()
        limit: tuple[str, ...] | None = None
        if account.modems:
            limit = tuple(m for m in account.modems if m in known)
            if not limit:
                raise TwilioApiError(
                    errors.FROM_NOT_USABLE,
                    "none of the modems this account may send from is on this box",
                )
        chosen = self._modem_named(from_, known)
        if chosen is not None:
            if not account.may_use(chosen):
                raise TwilioApiError(
                    errors.FROM_NOT_USABLE,
                    f"The From number {from_} is not one this account may send from",
                )
            limit = (chosen,)
        enqueued = self._outbound.enqueue_in_unit(
            draft, now=now, healthy=healthy, origin=MessageOrigin.API, modems=limit
        )
        twilio_queries.record_sent(
            enqueued.message.id,
            account_id=account.id,
            status_callback=callback,
            modems=limit,
            now=now,
        )
        return enqueued, twilio_queries.view(enqueued.message, known)

    def _modem_named(self, from_: str | None, known: dict[str, str]) -> str | None:
        """The modem a From names (its number, in any form this box reads, or its
        name), or None."""
        if not from_:
            return None
        candidates = {from_.strip()}
        with contextlib.suppress(InvalidInput):  # a sender name: compared as written
            candidates.add(normalize_number(from_, self._region, field="from"))
        for name, shown in known.items():
            if candidates & {name, shown}:
                return name
        return None

    async def get_message(self, account: TwilioAccount, sid: str) -> TwilioMessage:
        """The message with this SID, if the account may see it; 20404 otherwise."""
        message_id = sids.message_id(sid)
        if message_id is not None:
            try:
                return await self._store.run(
                    twilio_queries.get_message, message_id, modems=account.modems
                )
            except NotFound:
                pass
        raise errors.not_found(
            f"/2010-04-01/Accounts/{account.sid}/Messages/{sid}.json"
        )

    async def list_messages(
        self, account: TwilioAccount, where: MessageFilter, page: PageRequest
    ) -> MessagePage:
        """A page of the messages the account may see, newest first."""
        where = MessageFilter(
            to=self._number(where.to),
            from_=self._number(where.from_),
            sent_from=where.sent_from,
            sent_before=where.sent_before,
        )
        rows = await self._store.read(
            twilio_queries.list_messages,
            where,
            page=page,
            limit=page.size + 1,
            modems=account.modems,
        )
        return paging.page_of(rows, page)

    def _number(self, number: str | None) -> str | None:
        """A filter's number in E.164 when it reads as one; as written otherwise."""
        if number is None:
            return None
        try:
            return normalize_number(number, self._region, field="number")
        except InvalidInput:
            return number.strip()
