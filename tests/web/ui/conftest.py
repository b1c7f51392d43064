"""Console page tests: the app over real services (tests/web/conftest.py), signed in."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from webhelpers import sign_in


@pytest.fixture
async def csrf(client: TestClient[Any, Any]) -> str:
    """The agent "agent" signed in; their CSRF token."""
    return await sign_in(client, "agent")
