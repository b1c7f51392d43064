"""Shared test helpers: where the shared test data lives, and tool requirements."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "data"  # a copy of ../shared/testdata (see its README)


def require_tool(*names: str) -> None:
    """Skip unless every named program is on PATH; under CI (SMSGW_REQUIRE_TOOLS) fail instead."""
    missing = [n for n in names if shutil.which(n) is None]
    if not missing:
        return
    reason = f"needs {', '.join(missing)} (run `make system-deps`)"
    if os.environ.get("SMSGW_REQUIRE_TOOLS"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def testdata() -> Path:
    """Real-world PDUs and modem transcripts from public projects (tests/data/README.md)."""
    if not TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {TESTDATA}")
    return TESTDATA
