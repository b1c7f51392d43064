"""The `smsgw` command: one entry point for operators (run, send, status, user, token) and
tools (sim, pdu)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

# Each tool keeps its own argument parser; `smsgw NAME ARGS...` hands ARGS to it.
_TOOLS: dict[str, tuple[str, Callable[[Sequence[str]], int]]] = {}


def _tool_pdu(argv: Sequence[str]) -> int:
    from modem import pdutool

    return pdutool.main(argv)


def _tool_sim(argv: Sequence[str]) -> int:
    from modem.sim import cli

    return cli.main(argv)


def _tool_config(argv: Sequence[str]) -> int:
    from gateway import config_cli

    return config_cli.main(argv)


def _tool_run(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="smsgw run", description="Run the gateway until SIGTERM or Ctrl-C."
    )
    parser.add_argument(
        "--config", "-c", default="gateway.ini", help="the gateway.ini to use"
    )
    args = parser.parse_args(list(argv))
    from gateway import daemon

    return daemon.run(args.config)


def _tool_send(argv: Sequence[str]) -> int:
    from gateway import opscli

    return opscli.send_main(argv)


def _tool_status(argv: Sequence[str]) -> int:
    from gateway import opscli

    return opscli.status_main(argv)


def _tool_user(argv: Sequence[str]) -> int:
    from gateway.auth import cli

    return cli.user_main(argv)


def _tool_token(argv: Sequence[str]) -> int:
    from gateway.auth import cli

    return cli.token_main(argv)


def _tool_twilio(argv: Sequence[str]) -> int:
    from gateway.twilio import cli

    return cli.main(argv)


_TOOLS["run"] = ("run the gateway (the daemon)", _tool_run)
_TOOLS["send"] = ("queue a text for the running gateway to send", _tool_send)
_TOOLS["status"] = ("modems, queues, message counts and opt-outs", _tool_status)
_TOOLS["user"] = ("add, list, disable users of the web console", _tool_user)
_TOOLS["token"] = ("create, list, revoke API tokens", _tool_token)
_TOOLS["twilio"] = ("accounts of the Twilio-compatible API", _tool_twilio)
_TOOLS["config"] = ("check gateway.ini, or print the settings reference", _tool_config)
_TOOLS["pdu"] = ("decode modem PDU dumps / encode SMS-SUBMIT PDUs", _tool_pdu)
_TOOLS["sim"] = ("run the simulated modem (TCP, PTY, control API)", _tool_sim)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smsgw", description="Two-way SMS support gateway."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _) in _TOOLS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `smsgw`; returns the process exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in _TOOLS:
        return _TOOLS[args[0]][1](args[1:])
    parser = _parser()
    parser.parse_args(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
