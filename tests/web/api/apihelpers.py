"""Helpers for API tests (imported by name): a client that checks every answer against
the OpenAPI document, and data made through the storage layer's own paths."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import jsonschema_rs
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from gateway.domain import NumberKind, ThreadedMessage
from gateway.storage import queries
from gateway.storage.db import Store

CUSTOMER = "+447700900123"
OTHER = "+447700900456"
_PDUS = itertools.count(1)


class ApiDoc:
    """The OpenAPI document as a checker: which operation a request hit, and whether the
    answer's status and body are the documented ones."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._paths: list[tuple[re.Pattern[str], str]] = []
        for template in document["paths"]:
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
            self._paths.append((re.compile(f"^{pattern}$"), template))
        # literal paths win over templates (/contacts/lookup before /contacts/{id})
        self._paths.sort(key=lambda item: item[1].count("{"))
        self._validators: dict[tuple[str, str, str], Any] = {}

    def operation(self, method: str, path: str) -> tuple[str, Mapping[str, Any]]:
        """(path template, operation) of a request; fails for an undocumented one."""
        for pattern, template in self._paths:
            if pattern.match(path):
                operations = self.document["paths"][template]
                assert method.lower() in operations, f"{method} {template} undocumented"
                return template, operations[method.lower()]
        raise AssertionError(f"{method} {path}: no documented path matches")

    def check(
        self, method: str, path: str, status: int, content_type: str, body: Any
    ) -> str:
        """Assert the answer is documented; the operation's `METHOD template`."""
        template, operation = self.operation(method, path)
        where = f"{method} {template} -> {status}"
        responses = operation["responses"]
        assert str(status) in responses, f"{where}: status not documented: {body}"
        content = responses[str(status)]["content"]
        assert content_type in content, f"{where}: {content_type} not documented"
        key = (method.lower(), template, str(status))
        validator = self._validators.get(key)
        if validator is None:
            schema = {
                **content[content_type]["schema"],
                "components": self.document["components"],
            }
            validator = jsonschema_rs.validator_for(schema, validate_formats=True)
            self._validators[key] = validator
        errors = [str(e) for e in validator.iter_errors(body)]
        assert not errors, f"{where}: the body does not match the document:\n" + (
            "\n".join(errors)
        )
        return f"{method} {template}"


@dataclass
class CheckedClient:
    """Calls the API as one caller; every answer is checked against the document and
    remembered as (operation, status)."""

    client: TestClient[Any, Any]
    doc: ApiDoc
    token: str | None
    seen: set[tuple[str, int]] = field(default_factory=set)

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> ClientResponse:
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        response = await self.client.request(method, path, headers=sent, **kwargs)
        if response.content_type.endswith("json"):
            body = await response.json()
        else:
            body = await response.text()
        operation = self.doc.check(
            method, response.url.path, response.status, response.content_type, body
        )
        self.seen.add((operation, response.status))
        return response

    async def get(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("POST", path, **kwargs)

    async def patch(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("PATCH", path, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> ClientResponse:
        return await self.request("DELETE", path, **kwargs)


async def inbound(
    store: Store,
    text: str,
    *,
    sender: str = CUSTOMER,
    modem: str = "usb0",
    now: datetime,
) -> ThreadedMessage:
    """A customer's text arrives (through the inbound path's own unit of work)."""
    return await store.run(_inbound_unit, sender, text, modem, now)


def _inbound_unit(sender: str, text: str, modem: str, now: datetime) -> ThreadedMessage:
    kind = (
        NumberKind.ALPHANUMERIC if any(c.isalpha() for c in sender) else NumberKind.E164
    )
    _, threaded = queries.receive_inbound_part(
        modem=modem,
        sender=sender,
        sender_kind=kind,
        pdu=f"api-test-pdu-{next(_PDUS)}".encode(),
        text=text,
        encoding="gsm7",
        concat=None,
        network_at=now,
        received_at=now,
        reopen_window_s=0,
    )
    assert threaded is not None
    return threaded


async def modem(store: Store, name: str, *, now: datetime, **fields: Any) -> None:
    """A modem as a running daemon would record it."""
    await store.run(queries.upsert_modem, name, now=now, **fields)
