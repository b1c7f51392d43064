"""The composition root: `smsgw run` builds everything from settings, starts it in order,
serves until SIGTERM/SIGINT, and stops it in the reverse order.

Start: store (migrations) -> simulator (when no modem is configured) -> modems -> inbound
-> dispatcher (which first settles sends a crash interrupted) -> webhook relay -> the web
server (when [web] enabled) -> READY=1 to systemd.
Stop: STOPPING=1 -> the web server -> the webhook relay (requests under way get a bounded
time) -> the dispatcher stops claiming and lets an AT+CMGS under way finish (bounded) ->
inbound commits what it has queued (and releases it on the modems) -> modems' ports closed
-> simulator -> store. A SIGKILL at any point is safe as
well: every step is committed before it is acknowledged, so a restart picks up where the
process died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from aiohttp import web

from gateway import systemd
from gateway.auth.audit import AuditLog
from gateway.auth.service import AuthService
from gateway.automation.engine import AutomationEngine
from gateway.automation.runner import AutomationRunner
from gateway.automation.service import AutomationService
from gateway.compliance import ComplianceService
from gateway.compliance_rules import KeywordRules
from gateway.config import ModemSettings, Settings, load_settings
from gateway.crossnode import CrossNodeEvents
from gateway.domain import utcnow
from gateway.errors import ConfigError, ConfigProblem, GatewayError
from gateway.events import EventBus
from gateway.inbound import InboundService
from gateway.inbox.contacts import ContactsService
from gateway.inbox.service import InboxService
from gateway.logutil import mask_number
from gateway.messages.service import MessageService
from gateway.metrics.csat_step import CSAT_HOOK, CsatStep
from gateway.metrics.prometheus import OpsMetrics
from gateway.metrics.queue_hours import QueueHours
from gateway.metrics.service import MetricsService
from gateway.modems import ModemFleet
from gateway.nodes import NodeHeartbeat
from gateway.notifications.service import HOOK_NAME as NOTIFICATION_HOOK
from gateway.notifications.service import NotificationService
from gateway.outbox.dispatcher import Dispatcher
from gateway.outbox.service import OutboundService
from gateway.overview.service import OverviewService
from gateway.services import Services
from gateway.simulator import SIM_MODEM_NAME, EmbeddedSimulator
from gateway.storage.db import Store, open_database
from gateway.templates.service import TemplateService
from gateway.twilio.service import TwilioService
from gateway.webhooks.formats import formats
from gateway.webhooks.relay import WebhookRelay
from gateway.webhooks.service import WebhookService
from modem.driver import Modem, ModemOptions
from modem.trace import TRACE
from modem.transport import PortOpener, url_opener
from web.app import create_app

_LOGGER = logging.getLogger(__name__)

# aiohttp.access: a line per request; peewee: its DEBUG lines print every SQL parameter,
# message bodies and webhook secrets included, which must never reach the journal.
_QUIET_LOGGERS = ("aiohttp.access", "peewee")
# Open requests (an event stream, a slow client) get this long to finish at shutdown.
WEB_SHUTDOWN_TIMEOUT_S = 5.0


def configure_logging(level: str, *, stream: TextIO | None = None) -> None:
    """Plain lines on stderr; no timestamps under systemd (journald adds its own)."""
    logging.addLevelName(TRACE, "TRACE")
    numeric = TRACE if level == "trace" else logging.getLevelName(level.upper())
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not systemd.under_systemd():
        fmt = "%(asctime)s " + fmt
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))


class Daemon:
    """Everything `smsgw run` runs, for one set of settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        opener_for: Callable[[ModemSettings], PortOpener] | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._opener_for = opener_for or (
            lambda m: url_opener(m.port, baudrate=m.baudrate)
        )
        self._stack = contextlib.AsyncExitStack()
        self.store: Store | None = None
        self.simulator: EmbeddedSimulator | None = None
        self.services: Services | None = None
        self.automation_runner: AutomationRunner | None = None
        self.web_url: str | None = None  # set once the web server listens

    async def start(self) -> Services:
        """Open the store, start the modems and both paths; the services, ready."""
        try:
            return await self._start()
        except BaseException:
            await self._stack.aclose()
            raise

    async def _start(self) -> Services:
        settings, clock = self.settings, self._clock
        store = await open_database(settings)
        self.store = store
        self._stack.push_async_callback(store.close)
        heartbeat = NodeHeartbeat(
            store,
            settings.gateway.node_name,
            clock=clock,
            timeout_s=settings.gateway.node_timeout_s,
        )
        await heartbeat.start()
        self._stack.push_async_callback(heartbeat.stop)

        bus = EventBus()
        if settings.database.url is not None:
            # boxes sharing the database hear each other's events (live views)
            crossnode = CrossNodeEvents(
                settings.database.url,
                bus,
                node=settings.gateway.node_name,
                where=store.path,
            )
            await crossnode.start()
            self._stack.push_async_callback(crossnode.stop)
        outbound = OutboundService(store, bus, settings=settings, clock=clock)
        compliance = ComplianceService(
            store,
            bus,
            outbound,
            settings=settings.compliance,
            clock=clock,
            source=settings.source,
        )
        # The pipeline after compliance: hooks (notification reply options) register
        # on it here, before anything is received; then the automation.
        runner = AutomationRunner(
            outbound,
            AutomationEngine(
                settings.automation, default_tz=settings.gateway.timezone, bus=bus
            ),
        )
        self.automation_runner = runner
        # first of the hooks: a customer's answer to their CSAT survey
        runner.register(CSAT_HOOK, CsatStep(bus, settings.csat).step)
        metrics = MetricsService(
            store,
            outbound,
            settings=settings,
            hours=QueueHours(store, settings.gateway.timezone),
            clock=clock,
        )
        metrics.check()
        ops = OpsMetrics(store, database_path=str(settings.database.path))
        templates = TemplateService(store, outbound, clock=clock)
        notifications = NotificationService(
            store, bus, outbound, templates, settings=settings, clock=clock
        )
        runner.register(NOTIFICATION_HOOK, notifications.reply_step)
        inbound = InboundService(
            store,
            bus,
            compliance,
            outbound,
            settings=settings,
            clock=clock,
            pipeline=runner,
        )
        fleet = ModemFleet(
            store,
            bus,
            on_message=inbound.submit,
            node=settings.gateway.node_name,
            clock=clock,
        )
        dispatcher = Dispatcher(store, bus, outbound, settings=settings, clock=clock)
        fleet.on_ready(dispatcher.wake)
        ops.attach(fleet, inbound)

        if settings.simulator.enabled:
            if any(m.name == SIM_MODEM_NAME for m in settings.enabled_modems):
                raise ConfigError(
                    [
                        ConfigProblem(
                            f"modem:{SIM_MODEM_NAME}",
                            None,
                            None,
                            f"another name: {SIM_MODEM_NAME!r} is the simulated modem's "
                            "while [simulator] is enabled",
                        )
                    ],
                    source=settings.source,
                )
            simulator = EmbeddedSimulator(settings.simulator, source=settings.source)
            await simulator.start()
            self.simulator = simulator
            self._stack.push_async_callback(simulator.stop)
            self._add_modem(
                Modem(
                    SIM_MODEM_NAME,
                    simulator.opener,
                    on_event=fleet.on_event,
                    on_command=ops.observe_command,
                ),
                fleet,
                inbound,
                dispatcher,
                parts_per_minute=settings.outbound.parts_per_minute,
                own_number=settings.simulator.number,
            )
        for config in settings.enabled_modems:
            modem = Modem(
                config.name,
                self._opener_for(config),
                on_event=fleet.on_event,
                on_command=ops.observe_command,
                options=ModemOptions(
                    pin=config.pin,
                    profile=config.profile,
                    sweep_interval_s=config.sweep_interval_s,
                ),
            )
            self._add_modem(
                modem,
                fleet,
                inbound,
                dispatcher,
                parts_per_minute=config.parts_per_minute,
                own_number=config.own_number,
            )

        await fleet.start()
        self._stack.push_async_callback(fleet.stop)
        await inbound.start()
        self._stack.push_async_callback(inbound.stop)
        await dispatcher.start()
        self._stack.push_async_callback(dispatcher.stop)
        keywords = settings.compliance
        relay = WebhookRelay(
            store,
            bus,
            settings.webhooks,
            node=settings.gateway.node_name,
            clock=clock,
            # Twilio's OptOutType follows the box's own keyword lists
            formats=formats(
                KeywordRules.build(
                    keywords.opt_out_keywords,
                    keywords.opt_in_keywords,
                    keywords.help_keywords,
                )
            ),
        )
        await relay.start()
        self._stack.push_async_callback(relay.stop)
        await metrics.start()
        self._stack.push_async_callback(metrics.stop)

        self.services = Services(
            settings=settings,
            bus=bus,
            contacts=ContactsService(
                store, bus, default_region=settings.gateway.default_region, clock=clock
            ),
            outbound=outbound,
            compliance=compliance,
            inbound=inbound,
            modems=fleet,
            dispatcher=dispatcher,
            auth=AuthService(store, settings.auth, clock=clock),
            audit=AuditLog(store, clock=clock),
            overview=OverviewService(
                store,
                node=settings.gateway.node_name,
                node_timeout_s=settings.gateway.node_timeout_s,
                clock=clock,
            ),
            webhooks=WebhookService(
                store, settings.webhooks, clock=clock, wake=relay.wake
            ),
            messages=MessageService(
                store, default_region=settings.gateway.default_region
            ),
            inbox=InboxService(store, bus, outbound, settings=settings, clock=clock),
            metrics=metrics,
            ops=ops,
            automation=AutomationService(
                store, outbound, settings=settings, clock=clock
            ),
            templates=templates,
            notifications=notifications,
            twilio=TwilioService(
                store, outbound, settings=settings, clock=clock, wake=relay.wake
            ),
        )
        self._log_summary()
        if settings.web.enabled:
            await self._start_web(self.services)
        return self.services

    async def _start_web(self, services: Services) -> None:
        """Serve the console and the API on [web] host:port; stopped first at shutdown."""
        config = self.settings.web
        runner = web.AppRunner(
            create_app(services, self.settings),
            shutdown_timeout=WEB_SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        self._stack.push_async_callback(runner.cleanup)
        try:
            await web.TCPSite(runner, config.host, config.port).start()
        except OSError as exc:
            problem = ConfigProblem(
                "web", "port", str(config.port), f"a free port ({exc.strerror})"
            )
            raise ConfigError([problem], source=self.settings.source) from exc
        port = runner.addresses[0][1]  # the real one when port is 0 (tests)
        self.web_url = config.base_url or f"http://{config.host}:{port}"
        _LOGGER.info("web console and API at %s", self.web_url)
        if not await services.auth.has_users():
            _LOGGER.info(
                "no users yet: create the first admin with `smsgw user add admin "
                "--role admin`, then sign in at %s",
                self.web_url,
            )

    @staticmethod
    def _add_modem(
        modem: Modem,
        fleet: ModemFleet,
        inbound: InboundService,
        dispatcher: Dispatcher,
        *,
        parts_per_minute: int,
        own_number: str | None,
    ) -> None:
        fleet.add(modem, own_number=own_number)
        inbound.attach(modem)
        dispatcher.add_modem(modem, parts_per_minute=parts_per_minute)

    def _log_summary(self) -> None:
        settings = self.settings
        _LOGGER.info(
            "smsgw running on %s: data in %s (database %s)",
            settings.gateway.node_name,
            settings.gateway.data_dir,
            settings.database.path,
        )
        for config in settings.enabled_modems:
            _LOGGER.info(
                "modem %s on %s, %d parts/min",
                config.name,
                config.port,
                config.parts_per_minute,
            )
        if self.simulator is not None:
            _LOGGER.info(
                "simulated modem %s (%s) as modem %s; control API %s (POST "
                "/phones/NUMBER/send makes a phone text the box)",
                mask_number(self.simulator.settings.number),
                self.simulator.settings.profile,
                SIM_MODEM_NAME,
                self.simulator.control_url,
            )
        if not settings.enabled_modems and self.simulator is None:
            _LOGGER.warning(
                "no modem is enabled and the simulator is off: nothing will be sent"
            )

    async def stop(self) -> None:
        """Stop everything started, in the reverse order (idempotent)."""
        await self._stack.aclose()

    async def run(self, stop: asyncio.Event) -> None:
        """Start, tell systemd, serve until `stop` is set, then stop in order."""
        await self.start()
        watchdog = None
        try:
            systemd.notify("READY=1\nSTATUS=" + self._status_line())
            interval = systemd.watchdog_interval_s()
            if interval is not None:
                watchdog = asyncio.create_task(_watchdog(interval), name="watchdog")
            await stop.wait()
            _LOGGER.info("stopping")
            systemd.notify("STOPPING=1")
        finally:
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
            await self.stop()
        _LOGGER.info("stopped")

    def _status_line(self) -> str:
        count = len(self.settings.enabled_modems) + (self.simulator is not None)
        return f"running with {count} modem{'s' if count != 1 else ''}"


async def _watchdog(interval_s: float) -> None:
    """WATCHDOG=1 from the event loop: if the loop wedges, systemd restarts us."""
    while True:
        systemd.notify("WATCHDOG=1")
        await asyncio.sleep(interval_s)


async def serve(settings: Settings) -> None:
    """Run the daemon until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(
        signal.SIGHUP,
        lambda: _LOGGER.warning(
            "SIGHUP: configuration reload is not supported; restart smsgw to apply "
            "changes"
        ),
    )
    try:
        await Daemon(settings).run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(sig)


def run(config: str | Path, *, err: TextIO | None = None) -> int:
    """`smsgw run`: the exit status (1 when the configuration or the store is unusable)."""
    err = err or sys.stderr
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        err.write(f"smsgw: not starting: {exc}\n")
        return 1
    configure_logging(settings.gateway.log_level, stream=err)
    try:
        asyncio.run(serve(settings))
    except ConfigError as exc:
        err.write(f"smsgw: not starting: {exc}\n")
        return 1
    except GatewayError as exc:
        _LOGGER.error("not starting: %s", exc)  # noqa: TRY400 - an operator's problem, not a bug
        return 1
    except OSError as exc:
        # e.g. data_dir on a read-only file system (under systemd: set it to
        # /var/lib/smsgw, the unit's StateDirectory)
        _LOGGER.error("not starting: %s", exc)  # noqa: TRY400 - an operator's problem, not a bug
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
