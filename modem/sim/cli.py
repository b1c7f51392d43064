"""`python -m modem.sim` / `smsgw sim`: run simulated modems on a PTY or TCP, with a control API."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from modem.sim import control
from modem.sim.device import SimModem
from modem.sim.faults import FaultSpecError, load_scenario
from modem.sim.network import SimNetwork
from modem.sim.profiles import PROFILES
from modem.sim.server import PtyPort, TcpPort, open_pty, serve_tcp

_LOGGER = logging.getLogger(__name__)

DEFAULT_NUMBER = "+15550100001"


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _e164(text: str) -> str:
    if (
        not text.startswith("+")
        or not text[1:].isdigit()
        or not 3 <= len(text) - 1 <= 15
    ):
        raise argparse.ArgumentTypeError(
            f"expected an E.164 number like +15550100001, got {text!r}"
        )
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m modem.sim",
        description="Simulated GSM modem(s) with subscriber phones, for tests and demos.",
    )
    parser.add_argument("--pty", type=Path, metavar="PATH", help="symlink to a new PTY")
    parser.add_argument(
        "--tcp", type=_host_port, metavar="HOST:PORT", help="listen on TCP"
    )
    parser.add_argument(
        "--control", type=_host_port, metavar="HOST:PORT", help="JSON control API"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="generic")
    parser.add_argument(
        "--number", type=_e164, default=DEFAULT_NUMBER, help="the modem's own number"
    )
    parser.add_argument(
        "--modems",
        type=int,
        default=1,
        metavar="N",
        help="simulate N modems (numbers, PTY paths and ports count up)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="delay before every reply",
    )
    parser.add_argument("--pin", help="lock the SIM with this PIN")
    parser.add_argument(
        "--faults",
        type=Path,
        metavar="FILE",
        help="JSON fault scenario applied at start",
    )
    parser.add_argument(
        "--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"]
    )
    return parser


def modem_number(base: str, i: int) -> str:
    """The i-th modem's number: the base number counted up."""
    return "+" + str(int(base[1:]) + i).rjust(len(base) - 1, "0")


def _numbered_path(path: Path, i: int) -> Path:
    return path if i == 0 else path.with_name(f"{path.name}{i}")


async def serve(args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Build the network, open its ports, run until `stop` is set, then clean up."""
    network = SimNetwork()
    modems: list[SimModem] = []
    for i in range(args.modems):
        modem = network.add_modem(
            modem_number(args.number, i), args.profile, pin=args.pin
        )
        modem.faults.latency_ms = args.latency
        if args.faults is not None:
            for spec in load_scenario(args.faults):
                modem.apply_faults(spec)
        modems.append(modem)
    ptys: list[PtyPort] = []
    tcps: list[TcpPort] = []
    runner: web.AppRunner | None = None
    timers = asyncio.create_task(network.run())
    try:
        for i, modem in enumerate(modems):
            if args.pty is not None:
                ptys.append(await open_pty(modem, _numbered_path(args.pty, i)))
                _LOGGER.info("modem %s on %s", modem.number, ptys[-1].link_path)
            if args.tcp is not None:
                tcp = await serve_tcp(
                    modem, args.tcp[0], args.tcp[1] + i if args.tcp[1] else 0
                )
                tcps.append(tcp)
                _LOGGER.info("modem %s on %s", modem.number, tcp.url)
        if args.control is not None:
            runner = web.AppRunner(control.create_app(network), access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, args.control[0], args.control[1])
            await site.start()
            _LOGGER.info(
                "control API on http://%s:%s/", args.control[0], args.control[1]
            )
        await stop.wait()
    finally:
        for pty in ptys:
            pty.close()
        for tcp in tcps:
            await tcp.close()
        if runner is not None:
            await runner.cleanup()
        timers.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await timers
        _LOGGER.info("simulator stopped")


async def _main(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await serve(args, stop)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The command line as settings; exits with status 2 and a message when it is wrong."""
    parser = _parser()
    args = parser.parse_args(list(argv))
    if args.pty is None and args.tcp is None:
        parser.error("give --pty PATH and/or --tcp HOST:PORT")
    if args.modems < 1:
        parser.error("--modems must be at least 1")
    return args


def main(argv: Sequence[str]) -> int:
    """Run the simulator; returns the exit status."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(_main(args))
    except (FaultSpecError, OSError) as exc:
        _LOGGER.error("simulator cannot start: %s", exc)  # noqa: TRY400 - no traceback for operators
        return 1
    return 0
