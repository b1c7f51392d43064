"""The embedded simulated modem: a fresh box with no hardware still shows texts flowing.

One `modem.sim` network with one modem at [simulator] number, joined to our driver in
memory, and the simulator's HTTP control API on [simulator] control_host:control_port, so
`curl -X POST .../phones/+447700900123/send` makes a phone text the box.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from gateway.config import SimulatorSettings
from gateway.errors import ConfigError, ConfigProblem
from modem.sim import control
from modem.sim.network import SimNetwork
from modem.sim.server import LoopbackPort, loopback_opener

_LOGGER = logging.getLogger(__name__)

SIM_MODEM_NAME = "sim"


class EmbeddedSimulator:
    """The simulated network, its one modem's in-memory port and its control API."""

    def __init__(self, settings: SimulatorSettings, *, source: str = "gateway.ini"):
        self.settings = settings
        self._source = source
        self.network = SimNetwork()
        self.modem = self.network.add_modem(settings.number, settings.profile)
        self.opener: LoopbackPort = loopback_opener(self.modem)
        self._timers: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    @property
    def control_url(self) -> str:
        return f"http://{self.settings.control_host}:{self.settings.control_port}/"

    async def start(self) -> None:
        """Run the network's timers and serve the control API (ConfigError if it cannot)."""
        self._timers = asyncio.create_task(self.network.run(), name="simulator")
        runner = web.AppRunner(control.create_app(self.network), access_log=None)
        await runner.setup()
        site = web.TCPSite(
            runner, self.settings.control_host, self.settings.control_port
        )
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            await self.stop()
            where = f"{self.settings.control_host}:{self.settings.control_port}"
            raise ConfigError(
                [
                    ConfigProblem(
                        "simulator",
                        "control_port",
                        str(self.settings.control_port),
                        f"a port this box can listen on ({where}: {exc.strerror})",
                    )
                ],
                source=self._source,
            ) from exc
        self._runner = runner

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._timers is not None:
            self._timers.cancel()
            await asyncio.gather(self._timers, return_exceptions=True)
            self._timers = None
