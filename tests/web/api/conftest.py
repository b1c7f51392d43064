"""API tests: the app over real services, called with bearer tokens; every answer is
checked against the OpenAPI document the app serves."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from apihelpers import ApiDoc, CheckedClient

from gateway.services import Services
from gateway.storage.db import Store
from web.api.openapi import document
from web.keys import ACCESS


@pytest.fixture
def doc(app: web.Application) -> ApiDoc:
    return ApiDoc(document(app[ACCESS]))


@pytest.fixture
def store(services: Services) -> Store:
    """The store, for writing what a running daemon would (modems, inbound texts)."""
    return services.outbound._store


@pytest.fixture
async def api(
    client: TestClient[Any, Any], services: Services, doc: ApiDoc
) -> CheckedClient:
    """An admin's API token."""
    token = await services.auth.create_token("admin", "tests", actor="test")
    return CheckedClient(client, doc, token.token)


@pytest.fixture
async def agent(
    client: TestClient[Any, Any], services: Services, doc: ApiDoc
) -> CheckedClient:
    """An agent's API token."""
    token = await services.auth.create_token("agent", "crm", actor="test")
    return CheckedClient(client, doc, token.token)


@pytest.fixture
def anonymous(client: TestClient[Any, Any], doc: ApiDoc) -> CheckedClient:
    return CheckedClient(client, doc, None)
