"""`smsgw config check|reference`: validate a gateway.ini, or print the settings reference."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from gateway.config import (
    Settings,
    load_settings,
    render_reference_ini,
    render_reference_markdown,
)
from gateway.errors import ConfigError
from gateway.logutil import mask_number


def describe(settings: Settings) -> str:
    """A few lines saying what a valid configuration will run."""
    db = settings.database
    where = db.path if db.engine == "sqlite" else "PostgreSQL"
    lines = [
        f"{settings.source}: OK",
        f"  data directory: {settings.gateway.data_dir}",
        f"  database: {db.engine} ({where})",
        f"  default region: {settings.gateway.default_region}",
    ]
    if settings.web.enabled:
        lines.append(f"  web: http://{settings.web.host}:{settings.web.port}")
    for modem in settings.modems:
        state = "" if modem.enabled else " (disabled)"
        lines.append(f"  modem {modem.name}: {modem.port}{state}")
    if settings.simulator.enabled:
        number = mask_number(settings.simulator.number)
        lines.append(f"  simulated modem: {number} ({settings.simulator.profile})")
    if not settings.enabled_modems and not settings.simulator.enabled:
        lines.append("  warning: no modem is enabled and the simulator is off")
    return "\n".join(lines)


def check(path: str, out: TextIO, err: TextIO) -> int:
    """Validate `path`; 0 when it is usable, 1 with every problem listed when not."""
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        err.write(f"{exc}\n")
        return 1
    out.write(describe(settings) + "\n")
    return 0


def main(argv: Sequence[str]) -> int:
    """Entry point of `smsgw config`."""
    parser = argparse.ArgumentParser(prog="smsgw config", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    check_cmd = sub.add_parser("check", help="validate a configuration file")
    check_cmd.add_argument(
        "--config", "-c", default="gateway.ini", help="the file to check"
    )
    ref_cmd = sub.add_parser(
        "reference", help="print every setting with its default and help"
    )
    ref_cmd.add_argument("--format", choices=("ini", "markdown"), default="ini")
    args = parser.parse_args(list(argv))
    if args.action == "check":
        return check(args.config, sys.stdout, sys.stderr)
    text = (
        render_reference_ini() if args.format == "ini" else render_reference_markdown()
    )
    sys.stdout.write(text)
    return 0
