"""The simulator's control API (JSON over HTTP): phones text modems, read inboxes, faults."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from modem.sim.device import SimModem
from modem.sim.faults import FaultSpec, FaultSpecError
from modem.sim.network import (
    DeliveryOutcome,
    InboxMessage,
    Phone,
    SimNetwork,
    UnknownNumber,
)

NETWORK: web.AppKey[SimNetwork] = web.AppKey("network", SimNetwork)
MAX_TEXT_CHARS = 10_000  # 255 parts is the protocol's limit; this keeps requests sane
_NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class BadRequest(Exception):
    """Input the API refuses; names the field."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


def _error(status: int, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {
        "ok": False,
        "error": message,
        "code": {400: "invalid_input", 404: "not_found"}.get(status, "error"),
        "status": status,
    }
    if field is not None:
        body["field"] = field
    return web.json_response(body, status=status)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except BadRequest as exc:
        return _error(exc.status, str(exc), exc.field)
    except FaultSpecError as exc:
        return _error(400, str(exc), exc.field)
    except UnknownNumber as exc:
        return _error(404, str(exc), "number")
    return response


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        data = await request.json(loads=json.loads)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest("(body)", f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("(body)", "expected a JSON object")
    return data


def _number(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NUMBER.match(value):
        raise BadRequest(field, "expected a phone number like +4915112345678")
    return value


# ---------------------------------------------------------------- views (also for in-process use)


def inbox_view(number: str, messages: list[InboxMessage]) -> dict[str, Any]:
    """GET /phones/{number}/inbox as a value."""
    return {
        "number": number,
        "messages": [
            {
                "from": m.sender,
                "text": m.text,
                "parts": m.parts,
                "received_at": datetime.fromtimestamp(m.received_at, UTC).isoformat(),
                "references": list(m.references),
            }
            for m in messages
        ],
    }


def phone_view(phone: Phone) -> dict[str, Any]:
    return {
        "number": phone.number,
        "outcome": phone.outcome.value,
        "received": len(phone.inbox),
        "sent": phone.sent,
        "pending": len(phone.pending),
    }


def modem_view(modem: SimModem) -> dict[str, Any]:
    state = modem.state
    return {
        "number": modem.number,
        "profile": state.profile.name,
        "hosts": modem.hosts,
        "registration": state.registration.name.lower(),
        "pin_state": state.pin_state.value,
        "storage": {
            name: {"used": s.used, "capacity": s.capacity}
            for name, s in state.storages.items()
        },
        "cpms": list(state.cpms),
        "cnmi": list(state.cnmi.as_tuple()),
        "cmgf": state.cmgf,
        "echo": state.echo,
        "submitted": len(state.submitted),
        "reports_delivered": modem.reports_delivered,
        "reports_dropped": modem.reports_dropped,
        "held": len(modem.held),
        "awaiting_ack": state.awaiting_ack,
        "faults": modem.faults.as_dict(),
        "commands": dict(state.command_counts),
    }


def submissions_view(modem: SimModem) -> dict[str, Any]:
    """One modem's AT+CMGS submissions, oldest first: when each happened, and its PDU."""
    return {
        "number": modem.number,
        "submitted": [
            {
                "reference": s.reference,
                "tpdu_length": s.tpdu_length,
                "at": datetime.fromtimestamp(s.at, UTC).isoformat(),
                "pdu": s.pdu.hex().upper(),
            }
            for s in modem.state.submitted
        ],
    }


def state_view(network: SimNetwork) -> dict[str, Any]:
    """GET /state as a value."""
    return {
        "modems": [modem_view(m) for m in network.modems.values()],
        "phones": [phone_view(p) for p in network.phones.values()],
    }


# ---------------------------------------------------------------- handlers


async def get_state(request: web.Request) -> web.Response:
    return web.json_response(state_view(request.app[NETWORK]))


async def get_submissions(request: web.Request) -> web.Response:
    modems = _target(request.app[NETWORK], request.query.get("modem"))
    return web.json_response({"modems": [submissions_view(m) for m in modems]})


async def get_phones(request: web.Request) -> web.Response:
    phones = request.app[NETWORK].phones.values()
    return web.json_response({"phones": [phone_view(p) for p in phones]})


async def put_phone(request: web.Request) -> web.Response:
    number = _number(request.match_info["number"], "number")
    body = await _json_object(request)
    try:
        outcome = DeliveryOutcome(body.get("outcome", "delivered"))
    except ValueError:
        choices = ", ".join(o.value for o in DeliveryOutcome)
        raise BadRequest("outcome", f"expected one of {choices}") from None
    network = request.app[NETWORK]
    network.add_phone(number)
    network.set_outcome(number, outcome)
    return web.json_response(phone_view(network.phone(number)))


async def post_send(request: web.Request) -> web.Response:
    sender = _number(request.match_info["number"], "number")
    body = await _json_object(request)
    to = _number(body.get("to"), "to")
    text = body.get("text")
    if not isinstance(text, str) or not text:
        raise BadRequest("text", "expected a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRequest("text", f"longer than {MAX_TEXT_CHARS} characters")
    ref_bits = body.get("ref_bits", 8)
    if ref_bits not in (8, 16) or isinstance(ref_bits, bool):
        raise BadRequest("ref_bits", "expected 8 or 16")
    network = request.app[NETWORK]
    if to not in network.modems:
        raise BadRequest("to", f"no modem {to} on this network", status=404)
    pdus = network.send_text(sender, to, text, ref_bits=ref_bits)
    # when the modem got the last part (benchmarks time the host's pickup from it)
    at = datetime.fromtimestamp(network.now(), UTC).isoformat()
    return web.json_response(
        {"from": sender, "to": to, "parts": len(pdus), "at": at}, status=202
    )


async def get_inbox(request: web.Request) -> web.Response:
    number = _number(request.match_info["number"], "number")
    network = request.app[NETWORK]
    return web.json_response(inbox_view(number, network.inbox(number)))


def _target(network: SimNetwork, number: object) -> list[SimModem]:
    if number is None:
        return list(network.modems.values())
    if not isinstance(number, str) or number not in network.modems:
        raise BadRequest("modem", f"no modem {number} on this network", status=404)
    return [network.modems[number]]


async def post_faults(request: web.Request) -> web.Response:
    body = await _json_object(request)
    network = request.app[NETWORK]
    modems = _target(network, body.pop("modem", None))
    spec = FaultSpec.from_dict(body)
    for modem in modems:
        modem.apply_faults(spec)
    return web.json_response({"modems": [modem_view(m) for m in modems]})


async def delete_faults(request: web.Request) -> web.Response:
    network = request.app[NETWORK]
    modems = _target(network, request.query.get("modem"))
    for modem in modems:
        modem.clear_faults()
    return web.json_response({"modems": [modem_view(m) for m in modems]})


def create_app(network: SimNetwork) -> web.Application:
    """The control API for one simulated network."""
    app = web.Application(middlewares=[_errors])
    app[NETWORK] = network
    app.router.add_get("/state", get_state)
    app.router.add_get("/submissions", get_submissions)
    app.router.add_get("/phones", get_phones)
    app.router.add_put("/phones/{number}", put_phone)
    app.router.add_post("/phones/{number}/send", post_send)
    app.router.add_get("/phones/{number}/inbox", get_inbox)
    app.router.add_post("/faults", post_faults)
    app.router.add_delete("/faults", delete_faults)
    return app
