"""The webhook relay: ONE loop claims due deliveries from the durable outbox and sends
each in a task of its own, at most [webhooks] concurrency at a time.

Once, whichever node sends it (issue 8: several nodes on one database): `claim_due`
leases each delivery it hands out to this node (`[gateway] node_name`) in the unit that
picks it, for `lease_s` (the request's deadline and a margin), and no node claims a
delivery under a live lease. Each attempt, whatever it gives, is committed with its
delivery's new state, ending the lease, before the slot frees (`record_attempt`, by the
rules of gateway.webhooks.policy). A node that dies mid-request leaves its deliveries
pending and leased: another node sends them when the leases run out, and the node
itself at once when it starts again (`release_claims`); either way with the same
webhook-id, which receivers use to drop repeats. `_in_flight` is only this process's
registry of its requests (the concurrency limit, the stop).

Order per conversation: `claim_due` hands out only the first pending delivery of each
endpoint and conversation, and the head stays pending while it is leased, so a later
event of a conversation waits until the earlier one is delivered or dead-lettered,
while other conversations go ahead.

Nothing here blocks the loop: HTTP through one aiohttp.ClientSession with a deadline per
request, the database through `store.run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp

from gateway import events
from gateway.config import WebhookSettings
from gateway.domain import utcnow
from gateway.storage import webhook_queries
from gateway.webhooks import policy
from gateway.webhooks.formats import FORMATS, Format
from gateway.webhooks.records import AttemptResult, ClaimedDelivery

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

# Timing, in seconds. Tests patch these.
POLL_INTERVAL_S = 1.0  # an idle relay looks for due deliveries this often
HOUSEKEEPING_INTERVAL_S = 60.0  # dead letters of disabled endpoints, retention
SHUTDOWN_GRACE_S = 5.0  # on stop, requests under way get this long to be answered
RESPONSE_SNIPPET_BYTES = 2048  # read of a receiver's answer (its first characters kept)
# A claimed delivery's lease outlasts its request's deadline ([webhooks] timeout_s) by
# this: time to record the answer, and room for the nodes' clocks to disagree a little.
LEASE_MARGIN_S = 30.0


def lease_s(settings: WebhookSettings) -> float:
    """How long a claimed delivery stays this node's (the longest another node waits
    for one whose node died mid-request)."""
    return settings.timeout_s + LEASE_MARGIN_S


class WebhookRelay:
    """Sends the webhook outbox; start after the services, stop before the store."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        settings: WebhookSettings,
        *,
        node: str,
        clock: Callable[[], datetime] = utcnow,
        formats: Mapping[str, Format] = FORMATS,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._bus = bus
        self._settings = settings
        self._node = node  # [gateway] node_name: the owner of this relay's leases
        self._clock = clock
        self._formats = formats
        self._jitter = jitter
        self._retry = policy.RetryPolicy(
            base_s=settings.retry_base_s,
            max_s=settings.retry_max_s,
            max_age_s=settings.max_age_s,
            max_rejected_attempts=settings.max_rejected_attempts,
        )
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription: events.Subscription | None = None

    @property
    def in_flight(self) -> int:
        """Requests under way now, in this process."""
        return len(self._in_flight)

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Release the leases this node's previous run left; open the HTTP session and
        start the delivery loop and housekeeping."""
        released = await self._store.run(webhook_queries.release_claims, self._node)
        if released:
            _LOGGER.info(
                "%d webhook delivery lease(s) of this node's previous run released: "
                "sent again now, with the same webhook-id",
                released,
            )
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s),
            connector=aiohttp.TCPConnector(limit=self._settings.concurrency),
            # no proxy from the environment: receivers are on the operator's network
            trust_env=False,
        )
        # anything committed in this process may have queued a delivery: look at once
        self._subscription = self._bus.subscribe()
        self._tasks = [
            asyncio.create_task(self._run(), name="webhook-relay"),
            asyncio.create_task(self._wake_on_events(), name="webhook-relay-wake"),
            asyncio.create_task(self._housekeep_forever(), name="webhook-housekeeping"),
        ]

    def wake(self) -> None:
        """Deliveries may have been queued (a replay, a test, another commit)."""
        self._wakeup.set()

    async def stop(self) -> None:
        """Stop claiming; give requests under way a bounded time; close the session."""
        self._stopping = True
        self._wakeup.set()
        if self._tasks:
            await asyncio.gather(self._tasks[0], return_exceptions=True)
        pending = list(self._in_flight.values())
        if pending:
            _done, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_S)
            if late:
                _LOGGER.warning(
                    "%d webhook request(s) still under way after %g s; cutting them "
                    "short (sent again with the same webhook-id, by another node or "
                    "at the next start)",
                    len(late),
                    SHUTDOWN_GRACE_S,
                )
            for task in late:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._subscription is not None:
            self._subscription.close()
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    # ---------------------------------------------------------------- the loop

    async def _idle(self, timeout_s: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._wakeup.wait()
        self._wakeup.clear()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                free = self._settings.concurrency - len(self._in_flight)
                if free > 0:
                    claimed = await self._store.run(
                        webhook_queries.claim_due,
                        now=self._clock(),
                        limit=free,
                        node=self._node,
                        lease_s=lease_s(self._settings),
                        # ours under way, even if a slow commit let their lease run out
                        exclude=tuple(self._in_flight),
                    )
                    for delivery in claimed:
                        self._launch(delivery)
                # woken early by a free slot, a commit in this process or wake()
                await self._idle(POLL_INTERVAL_S)
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: a bug must not silence the webhooks
                _LOGGER.exception("webhook relay failed; going on")
                await self._idle(POLL_INTERVAL_S)

    def _launch(self, delivery: ClaimedDelivery) -> None:
        if delivery.expired_lease_of is not None:
            _LOGGER.warning(
                "webhook delivery %s: the lease of node %s ran out before it recorded "
                "an attempt (did it stop mid-request?); sending it again, with the "
                "same webhook-id",
                delivery.delivery_id,
                delivery.expired_lease_of,
            )
        task = asyncio.create_task(
            self._deliver(delivery), name=f"webhook-{delivery.delivery_id}"
        )
        self._in_flight[delivery.delivery_id] = task
        task.add_done_callback(lambda _: self._landed(delivery.delivery_id))

    def _landed(self, delivery_id: int) -> None:
        self._in_flight.pop(delivery_id, None)
        self._wakeup.set()  # a slot is free, and the next of its conversation may go

    async def _wake_on_events(self) -> None:
        assert self._subscription is not None
        async for _event in self._subscription:
            self._wakeup.set()

    # ---------------------------------------------------------------- one attempt

    async def _deliver(self, delivery: ClaimedDelivery) -> None:
        try:
            result = await self._post(delivery)
        except asyncio.CancelledError:
            # cut short at stop: logged as such, due again (for any node) at once
            result = AttemptResult(
                None, "interrupted: smsgw stopped", None, 0, interrupted=True
            )
            with contextlib.suppress(Exception):
                await asyncio.shield(self._settle(delivery, result))
            raise
        try:
            await self._settle(delivery, result)
        except Exception:  # task boundary: the delivery stays pending, tried again
            _LOGGER.exception(
                "webhook delivery %s: could not record its attempt",
                delivery.delivery_id,
            )

    async def _post(self, delivery: ClaimedDelivery) -> AttemptResult:
        assert self._session is not None
        loop = asyncio.get_running_loop()
        started = loop.time()
        status: int | None = None
        error: str | None = None
        text: str | None = None
        retry_after: str | None = None
        build = self._formats.get(delivery.kind)
        if build is None:
            return AttemptResult(
                None, f"no request format {delivery.kind!r} in this smsgw", None, 0
            )
        try:
            request = build.build(delivery, now=self._clock())
        except (KeyError, TypeError, ValueError) as exc:
            # an event its format cannot read: logged as an attempt, dead in time
            return AttemptResult(None, f"cannot build the request: {exc}", None, 0)
        timeout_s = self._settings.timeout_s
        try:
            async with (
                asyncio.timeout(timeout_s),
                self._session.post(
                    request.url,
                    data=request.body,
                    headers=dict(request.headers),
                    allow_redirects=False,
                ) as response,
            ):
                status = response.status
                retry_after = response.headers.get("Retry-After")
                raw = await response.content.read(RESPONSE_SNIPPET_BYTES)
                text = raw.decode("utf-8", errors="replace") or None
        except TimeoutError:
            error = f"no answer within {timeout_s:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except (OSError, ValueError) as exc:  # TLS, a URL aiohttp cannot use
            error = f"{type(exc).__name__}: {exc}"
        duration_ms = round((loop.time() - started) * 1000)
        return AttemptResult(
            status,
            error,
            text,
            duration_ms,
            retry_after_s=policy.parse_retry_after(retry_after, self._clock()),
        )

    async def _settle(self, delivery: ClaimedDelivery, result: AttemptResult) -> None:
        decision = await self._store.run(
            webhook_queries.record_attempt,
            delivery.delivery_id,
            result,
            now=self._clock(),
            retry=self._retry,
            jitter=self._jitter(),
        )
        if decision is None:
            return
        what = result.error or f"HTTP {result.status_code}"
        outcome = decision.outcome
        if outcome is policy.Outcome.DELIVERED:
            _LOGGER.debug(
                "webhook delivery %s (%s) to endpoint %s delivered in %d ms",
                delivery.delivery_id,
                delivery.event_type,
                delivery.endpoint_id,
                result.duration_ms,
            )
        elif outcome is policy.Outcome.RETRY:
            assert decision.next_attempt_at is not None
            _LOGGER.info(
                "webhook delivery %s to endpoint %s failed (%s); retry at %s",
                delivery.delivery_id,
                delivery.endpoint_id,
                what,
                decision.next_attempt_at.strftime("%H:%M:%S"),
            )
        elif outcome is policy.Outcome.DISABLED:
            _LOGGER.warning(
                "webhook endpoint %s answered 410 Gone (delivery %s): disabled; its "
                "deliveries wait until an admin enables it again",
                delivery.endpoint_id,
                delivery.delivery_id,
            )
        elif outcome is policy.Outcome.DEAD:
            _LOGGER.warning(
                "webhook delivery %s to endpoint %s dead-lettered: %s (%s); replay it "
                "from the Webhooks page or the API",
                delivery.delivery_id,
                delivery.endpoint_id,
                decision.reason,
                what,
            )

    # ---------------------------------------------------------------- housekeeping

    async def _housekeep_forever(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)
            try:
                await self.housekeep()
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: keep expiring and pruning
                _LOGGER.exception("webhook housekeeping failed; going on")

    async def housekeep(self) -> None:
        """Dead-letter what waits on disabled endpoints too long; prune old deliveries."""
        done = await self._store.run(
            webhook_queries.housekeep,
            now=self._clock(),
            max_age_s=self._settings.max_age_s,
            retention_s=self._settings.retention_s,
        )
        if done.dead:
            _LOGGER.warning(
                "%d webhook deliveries dead-lettered: their endpoint stayed disabled",
                done.dead,
            )
        if done.pruned:
            _LOGGER.info("%d finished webhook deliveries pruned", done.pruned)
