"""Argument types the benchmarks' command lines share (argparse `type=`): a bad value is
refused naming what was expected."""

from __future__ import annotations

import argparse

from gateway.config import DatabaseUrl


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("expected a whole number of at least 1")
    return value


def not_negative_int(text: str) -> int:
    """A whole number of at least 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("expected a whole number of at least 0")
    return value


def postgresql_url(text: str) -> str:
    """A PostgreSQL URL, as [database] url takes it."""
    try:
        url = DatabaseUrl().parse(text)
    except ValueError:
        url = None
    if url is None:
        raise argparse.ArgumentTypeError(f"expected {DatabaseUrl.form}")
    return url
