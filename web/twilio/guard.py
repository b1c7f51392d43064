"""Who calls the Twilio API, and every failure in Twilio's error JSON.

The auth middleware hands each request under /2010-04-01/ (and any route whose Access
is TWILIO) to `guard`: HTTP Basic with a Twilio account's SID and auth token - never a
session cookie or a bearer token - and the path's AccountSid must be that account's
(20003 otherwise, as Twilio answers). Anything that fails below, from a route that does
not exist to a bug, is answered `{"code", "message", "more_info", "status"}` with
Twilio's codes, which `twilio.base.exceptions.TwilioRestException` reads.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from gateway.errors import GatewayError, InvalidInput, NotFound
from gateway.twilio import errors
from gateway.twilio.errors import TwilioApiError
from gateway.twilio.records import TwilioAccount
from gateway.twilio.service import TwilioService
from web import keys

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TWILIO_PREFIX = "/2010-04-01/"
ACCOUNT_PARAM = "AccountSid"
CHALLENGE = 'Basic realm="Twilio API"'
# Set by `guard` on every request it lets through.
ACCOUNT = web.RequestKey("twilio_account", TwilioAccount)


def is_twilio(request: web.Request) -> bool:
    """Whether the request is for the Twilio API (its prefix)."""
    return request.path.startswith(TWILIO_PREFIX)


def service(request: web.Request) -> TwilioService:
    return request.app[keys.SERVICES].twilio


def error_response(error: TwilioApiError) -> web.Response:
    """Twilio's error body, with its status (and the Basic challenge on a 401)."""
    body = {
        "code": error.twilio_code,
        "message": str(error),
        "more_info": error.more_info,
        "status": error.status,
    }
    headers = {"WWW-Authenticate": CHALLENGE} if error.status == 401 else None
    return web.json_response(body, status=error.status, headers=headers)


def credentials(header: str | None) -> tuple[str, str]:
    """(account SID, auth token) from `Authorization: Basic ...`; 20003 otherwise."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        raise errors.authenticate()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.authenticate() from None
    sid, sep, token = decoded.partition(":")
    if not sep:
        raise errors.authenticate()
    return sid, token


async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, check the path's account, run the handler; errors the Twilio way."""
    try:
        request[ACCOUNT] = await _caller(request)
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(_from_http(request, exc))
    except TwilioApiError as exc:
        return error_response(exc)
    except GatewayError as exc:
        return error_response(_from_gateway(request, exc))
    except Exception:  # the web boundary: log it whole, tell the client nothing inside
        _LOGGER.exception("%s %s failed", request.method, request.path)
        return error_response(
            TwilioApiError(errors.INTERNAL, "Internal server error", status=500)
        )


async def _caller(request: web.Request) -> TwilioAccount:
    """The account of the request's credentials, which must own the path's AccountSid."""
    sid, token = credentials(request.headers.get("Authorization"))
    account = await service(request).authenticate(sid, token)
    if request.match_info.get(ACCOUNT_PARAM, account.sid) != account.sid:
        raise errors.authenticate()  # another account's resources: as Twilio does
    return account


def _from_http(request: web.Request, exc: web.HTTPException) -> TwilioApiError:
    if exc.status == 404:
        return errors.not_found(request.path)
    if exc.status == 405:
        return TwilioApiError(
            errors.METHOD_NOT_ALLOWED,
            f"Method not allowed: {request.method} {request.path}",
            status=405,
        )
    return TwilioApiError(errors.INVALID_PARAMETER, exc.reason, status=exc.status)


def _from_gateway(request: web.Request, exc: GatewayError) -> TwilioApiError:
    if isinstance(exc, NotFound):
        return errors.not_found(request.path)
    if isinstance(exc, InvalidInput):
        return errors.invalid_parameter(exc.field, exc.reason)
    if exc.http_status >= 500:
        if exc.http_status == 503:
            return TwilioApiError(errors.UNAVAILABLE, str(exc), status=503)
        _LOGGER.error("%s %s failed", request.method, request.path, exc_info=exc)
        return TwilioApiError(errors.INTERNAL, "Internal server error", status=500)
    return TwilioApiError(
        errors.AUTHENTICATE
        if exc.http_status in (401, 403)
        else 20000 + exc.http_status,
        str(exc),
        status=exc.http_status,
    )
