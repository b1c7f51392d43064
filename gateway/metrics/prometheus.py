"""The operations metrics for Prometheus: what an operator watches to know the box is well.

`OpsMetrics` has a registry of its own (never prometheus_client's global one, so two
daemons in one process - the tests - never share a series). Two kinds of series:

- live, in this process: the AT command latency histogram and command outcomes, fed by
  the modem layer's observer hook (`observe_command`, which `modem.driver.Modem` calls
  with each command's round trip; the modem layer knows nothing of Prometheus);
- read at scrape time (`exposition`): one unit on the db thread counts messages by
  direction and status, queued parts per modem, incomplete reassemblies, webhook
  deliveries and attempts, CSAT surveys, and the SQLite files' sizes; the modems table
  gives state, signal and registration; the drivers' own counters give +CMS/+CME errors
  by code, timeouts, reconnects and their message stores' use (AT+CPMS?, read on the
  driver's poll); InboundService's, parts and duplicates.

Every family is documented in the README (Support metrics, Prometheus); a test holds
the two together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from gateway.domain import ModemRecord
from gateway.storage import metrics_queries, queries
from modem.at.engine import CommandTiming
from modem.driver import ModemStats

if TYPE_CHECKING:
    from gateway.inbound import InboundService
    from gateway.modems import ModemFleet
    from gateway.storage.db import Store

# AT round trips run from a few ms (AT) to a minute (AT+CMGS on a slow network).
LATENCY_BUCKETS_S = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)


@dataclass(slots=True)
class _Scrape:
    """What one scrape read, for the collector to turn into families."""

    snapshot: metrics_queries.OpsSnapshot
    modems: list[ModemRecord]
    stats: dict[str, ModemStats] = field(default_factory=dict)
    inbound_parts: int = 0
    inbound_duplicates: int = 0
    inbound_failures: int = 0


class OpsMetrics:
    """The /metrics exposition of one daemon."""

    def __init__(
        self,
        store: Store,
        *,
        database_path: str | None,
        fleet: ModemFleet | None = None,
        inbound: InboundService | None = None,
    ) -> None:
        self._store = store
        self._path = database_path
        self._fleet = fleet
        self._inbound = inbound
        self.registry = CollectorRegistry(auto_describe=False)
        self._latency = Histogram(
            "smsgw_at_command_duration_seconds",
            "AT command round trip: written to final result, timeout or port loss.",
            ("modem", "command"),
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self._outcomes = Counter(
            "smsgw_at_commands",
            "AT commands by how they ended (ok, error, cme_error, cms_error, timeout, "
            "closed).",
            ("modem", "outcome"),
            registry=self.registry,
        )
        self._collector = _StoreCollector()
        self.registry.register(self._collector)

    def attach(self, fleet: ModemFleet, inbound: InboundService) -> None:
        """The modems and the inbound path whose in-process counters are exposed."""
        self._fleet, self._inbound = fleet, inbound

    def observe_command(self, modem: str, timing: CommandTiming) -> None:
        """The modem driver's observer hook (`Modem(on_command=...)`): never raises."""
        self._latency.labels(modem, timing.command).observe(timing.seconds)
        self._outcomes.labels(modem, timing.outcome).inc()

    async def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The text format Prometheus asked for (Accept), and its content type."""
        snapshot = await self._store.read(metrics_queries.ops_snapshot, self._path)
        modems = await self._store.read(queries.list_modems)
        scrape = _Scrape(snapshot, modems)
        if self._fleet is not None:
            for modem in self._fleet:
                stats = getattr(modem, "stats", None)
                if isinstance(stats, ModemStats):
                    scrape.stats[modem.name] = stats
        if self._inbound is not None:
            stats_in = self._inbound.stats
            scrape.inbound_parts = stats_in.parts
            scrape.inbound_duplicates = stats_in.duplicates
            scrape.inbound_failures = stats_in.failures
        encoder, content_type = choose_encoder(accept)
        # one scrape at a time is rendered: nothing awaits between these two lines
        self._collector.scrape = scrape
        return encoder(self.registry), content_type


class _StoreCollector(Collector):
    """Families of the last scrape's reading (set just before each render)."""

    def __init__(self) -> None:
        self.scrape: _Scrape | None = None

    def describe(self) -> Iterable[Metric]:
        return ()

    def collect(self) -> Iterator[Metric]:
        scrape = self.scrape
        if scrape is None:
            return
        yield from _message_families(scrape.snapshot)
        yield from _modem_families(scrape)
        yield from _store_families(scrape)


def _message_families(snap: metrics_queries.OpsSnapshot) -> Iterator[Metric]:
    messages = GaugeMetricFamily(
        "smsgw_messages",
        "Messages in the database by direction and status.",
        labels=("direction", "status"),
    )
    for (direction, status), count in sorted(snap.messages.items()):
        messages.add_metric((direction, status), count)
    yield messages
    depth = GaugeMetricFamily(
        "smsgw_outbound_queue_depth",
        'Outbound parts queued, per modem (modem="": not yet taken by one).',
        labels=("modem",),
    )
    for modem, count in sorted(snap.queue_depths.items()):
        depth.add_metric((modem,), count)
    yield depth
    yield GaugeMetricFamily(
        "smsgw_inbound_reassemblies_pending",
        "Multipart messages with parts still missing.",
        value=snap.reassemblies,
    )
    yield GaugeMetricFamily(
        "smsgw_inbound_reassembly_parts_pending",
        "Parts held for those messages.",
        value=snap.reassembly_parts,
    )
    deliveries = GaugeMetricFamily(
        "smsgw_webhook_deliveries",
        "Webhook deliveries by status (pending, delivered, dead), within retention.",
        labels=("status",),
    )
    for status, count in sorted(snap.deliveries.items()):
        deliveries.add_metric((status,), count)
    yield deliveries
    attempts = GaugeMetricFamily(
        "smsgw_webhook_attempts",
        "Webhook requests by outcome (delivered, retry, dead, disabled, interrupted), "
        "within retention.",
        labels=("outcome",),
    )
    for outcome, count in sorted(snap.attempts.items()):
        attempts.add_metric((outcome,), count)
    yield attempts
    surveys = GaugeMetricFamily(
        "smsgw_csat_surveys", "CSAT surveys by status.", labels=("status",)
    )
    for status, count in sorted(snap.surveys.items()):
        surveys.add_metric((status,), count)
    yield surveys


def _modem_families(scrape: _Scrape) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "smsgw_modem_state",
        "1 for the state each modem is in (ready, connecting, disconnected ...).",
        labels=("modem", "state"),
    )
    signal = GaugeMetricFamily(
        "smsgw_modem_signal_dbm", "Received signal strength (dBm).", labels=("modem",)
    )
    registration = GaugeMetricFamily(
        "smsgw_modem_registration",
        "1 for each modem's network registration (home, roaming, searching ...).",
        labels=("modem", "registration"),
    )
    for modem in scrape.modems:
        state.add_metric((modem.name, modem.state), 1)
        if modem.signal_dbm is not None:
            signal.add_metric((modem.name,), modem.signal_dbm)
        if modem.registration is not None:
            registration.add_metric((modem.name, modem.registration), 1)
    yield from (state, signal, registration)
    errors = CounterMetricFamily(
        "smsgw_modem_errors",
        "+CMS ERROR and +CME ERROR results by code, since the daemon started.",
        labels=("modem", "kind", "code"),
    )
    timeouts = CounterMetricFamily(
        "smsgw_modem_timeouts", "AT commands that timed out.", labels=("modem",)
    )
    reconnects = CounterMetricFamily(
        "smsgw_modem_reconnects", "Times the port was reopened.", labels=("modem",)
    )
    for name, stats in sorted(scrape.stats.items()):
        for key, count in sorted(stats.errors_by_code.items()):
            kind, _, code = key.partition(" ")
            errors.add_metric((name, kind.lower(), code), count)
        timeouts.add_metric((name,), stats.timeouts)
        reconnects.add_metric((name,), stats.reconnects)
    yield from (errors, timeouts, reconnects)
    used = GaugeMetricFamily(
        "smsgw_modem_storage_used",
        "Messages held in each modem message store (SM, ME ...) at the last poll.",
        labels=("modem", "storage"),
    )
    total = GaugeMetricFamily(
        "smsgw_modem_storage_capacity",
        "Capacity of each modem message store, in messages.",
        labels=("modem", "storage"),
    )
    for name, stats in sorted(scrape.stats.items()):
        for storage, (count, capacity) in sorted(stats.storage.items()):
            used.add_metric((name, storage), count)
            total.add_metric((name, storage), capacity)
    yield from (used, total)


def _store_families(scrape: _Scrape) -> Iterator[Metric]:
    size = GaugeMetricFamily(
        "smsgw_database_bytes",
        "Size of the database: file=main is the SQLite file or, on PostgreSQL, "
        "pg_database_size; file=wal is SQLite's write-ahead log (0 on PostgreSQL).",
        labels=("file",),
    )
    size.add_metric(("main",), scrape.snapshot.database_bytes)
    size.add_metric(("wal",), scrape.snapshot.wal_bytes)
    yield size
    for name, text, value in (
        ("smsgw_inbound_parts", "Parts received and committed.", scrape.inbound_parts),
        (
            "smsgw_inbound_duplicates",
            "Parts read again (after a restart, by the sweep) and dropped.",
            scrape.inbound_duplicates,
        ),
        (
            "smsgw_inbound_failures",
            "Received parts whose commit failed (left on the modem, read again).",
            scrape.inbound_failures,
        ),
    ):
        yield CounterMetricFamily(name, text, value=value)
