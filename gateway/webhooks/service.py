"""WebhookService: endpoints, deliveries, replay and test events, for the console and API.

Every change is one unit of work with its audit entry. A new or rotated secret is handed
back once (EndpointSecret) and never shown again; records carry a hint of it only.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from gateway.config import WebhookSettings
from gateway.domain import WebhookStatus, utcnow
from gateway.errors import InvalidInput
from gateway.storage import webhook_queries
from gateway.webhooks import signing
from gateway.webhooks.formats import STANDARD
from gateway.webhooks.payloads import EventType
from gateway.webhooks.records import (
    DeliveryDetail,
    DeliveryFilter,
    DeliveryRecord,
    EndpointRecord,
    EndpointSecret,
)

if TYPE_CHECKING:
    from gateway.storage.db import Store

MAX_URL_CHARS = 2000
MAX_DESCRIPTION_CHARS = 500
MAX_PAGE = 500
# After a rotation the old secret signs too (a second webhook-signature entry) this long,
# so receivers can switch without dropping requests.
ROTATION_GRACE_S = 24 * 3600.0

EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in EventType)


def check_url(url: str) -> str:
    """An endpoint URL: http or https, a host, no user or password in it, no fragment."""
    url = url.strip()
    if not url:
        raise InvalidInput("url", "a URL is required")
    if len(url) > MAX_URL_CHARS:
        raise InvalidInput("url", f"at most {MAX_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise InvalidInput("url", "no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput("url", f"not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("url", "an http:// or https:// URL")
    if not parts.hostname:
        raise InvalidInput("url", "a URL with a host name")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(
            "url",
            "no user name or password in the URL: requests are signed with the "
            "endpoint's secret instead",
        )
    if parts.fragment:
        raise InvalidInput("url", "no #fragment (it is never sent)")
    if port == 0:
        raise InvalidInput("url", "a port from 1 to 65535")
    return url


def check_events(events: Collection[str]) -> tuple[str, ...]:
    """Known event types, deduplicated and sorted; empty means every type."""
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            "events",
            f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}",
        )
    return tuple(sorted(set(events)))


def check_description(description: str | None) -> str | None:
    if description is None:
        return None
    description = description.strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION_CHARS} characters")
    return description or None


class WebhookService:
    """Webhook endpoints and their deliveries; wakes the relay when work was queued."""

    event_types = EVENT_TYPES

    def __init__(
        self,
        store: Store,
        settings: WebhookSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self.settings = settings
        self._clock = clock
        self._wake = wake

    def set_wake(self, wake: Callable[[], None] | None) -> None:
        """Who to tell when deliveries were queued (the relay, once it runs)."""
        self._wake = wake

    def _woken(self) -> None:
        if self._wake is not None:
            self._wake()

    # -------------------------------------------------------------- endpoints

    async def create_endpoint(
        self,
        url: str,
        *,
        description: str | None = None,
        events: Collection[str] = (),
        active: bool = True,
        actor: str,
    ) -> EndpointSecret:
        """A new endpoint with a new secret (shown this once)."""
        return await self._store.run(
            webhook_queries.create_endpoint,
            url=check_url(url),
            description=check_description(description),
            events=check_events(events),
            active=active,
            secret=signing.new_secret(),
            kind=STANDARD,
            now=self._clock(),
            actor=actor,
        )

    async def list_endpoints(self) -> list[EndpointRecord]:
        return await self._store.read(webhook_queries.list_endpoints)

    async def get_endpoint(self, endpoint_id: int) -> EndpointRecord:
        """The endpoint; NotFound if there is none."""
        return await self._store.read(webhook_queries.get_endpoint, endpoint_id)

    async def update_endpoint(
        self,
        endpoint_id: int,
        *,
        url: str | None = None,
        description: str | None = None,
        events: Collection[str] | None = None,
        active: bool | None = None,
        actor: str,
    ) -> EndpointRecord:
        """Change the fields given (None leaves one as it is; description "" clears it).
        Enabling an endpoint sends what waited for it, in order."""
        clean = check_description(description)
        record = await self._store.run(
            webhook_queries.update_endpoint,
            endpoint_id,
            now=self._clock(),
            actor=actor,
            url=None if url is None else check_url(url),
            description=clean,
            clear_description=description is not None and clean is None,
            events=None if events is None else check_events(events),
            active=active,
        )
        if active:
            self._woken()
        return record

    async def rotate_secret(self, endpoint_id: int, *, actor: str) -> EndpointSecret:
        """A new secret (shown this once); the old one also signs for ROTATION_GRACE_S."""
        now = self._clock()
        return await self._store.run(
            webhook_queries.rotate_secret,
            endpoint_id,
            secret=signing.new_secret(),
            grace_until=now + timedelta(seconds=ROTATION_GRACE_S),
            now=now,
            actor=actor,
        )

    async def delete_endpoint(self, endpoint_id: int, *, actor: str) -> None:
        """Delete the endpoint and its deliveries (pending ones are never sent)."""
        await self._store.run(
            webhook_queries.delete_endpoint, endpoint_id, now=self._clock(), actor=actor
        )

    # -------------------------------------------------------------- deliveries

    async def list_deliveries(
        self,
        *,
        endpoint_id: int | None = None,
        status: str | None = None,
        event_type: str | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[DeliveryRecord]:
        """Deliveries, newest first; filters by endpoint, status and event type."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInput("limit", f"1 to {MAX_PAGE}")
        try:
            wanted = None if status is None else WebhookStatus(status)
        except ValueError:
            known = ", ".join(s.value for s in WebhookStatus)
            raise InvalidInput("status", f"one of {known}") from None
        where = DeliveryFilter(endpoint_id, wanted, event_type)
        return await self._store.read(
            webhook_queries.list_deliveries, where, limit=limit, before_id=before_id
        )

    async def get_delivery(self, delivery_id: int) -> DeliveryDetail:
        """A delivery with its body and every attempt; NotFound if there is none."""
        return await self._store.read(webhook_queries.get_delivery, delivery_id)

    async def replay(self, delivery_id: int, *, actor: str) -> DeliveryRecord:
        """Send a delivered or dead delivery again, with the same webhook-id (Conflict
        while it is still pending)."""
        record = await self._store.run(
            webhook_queries.replay_delivery, delivery_id, now=self._clock(), actor=actor
        )
        self._woken()
        return record

    async def replay_dead(self, endpoint_id: int, *, actor: str) -> int:
        """Send every dead delivery of an endpoint again; how many."""
        count = await self._store.run(
            webhook_queries.replay_dead, endpoint_id, now=self._clock(), actor=actor
        )
        self._woken()
        return count

    async def send_test(self, endpoint_id: int, *, actor: str) -> DeliveryRecord:
        """Queue a webhook.test event for the endpoint (even a disabled one)."""
        record = await self._store.run(
            webhook_queries.send_test, endpoint_id, now=self._clock(), actor=actor
        )
        self._woken()
        return record
