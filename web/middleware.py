"""The request pipeline: errors (outermost), then authentication and roles, then CSRF,
then what the request carries; security headers on every response.

Errors: any GatewayError, aiohttp HTTP error, malformed JSON body or unexpected exception
becomes ONE JSON shape on /api/ paths and /healthz (`error_body`) and the error page on the
console's paths. Unexpected exceptions are logged with their traceback and answered 500
without internals.

Authentication: /api/ takes `Authorization: Bearer TOKEN` or the session cookie; the
console takes the session cookie only. Each route's Access (web/routes.py) decides who
may call it; a route without one needs a signed-in user. Twilio's API (/2010-04-01/, Access
TWILIO) takes HTTP Basic with a Twilio account only and answers in Twilio's own error JSON
(web/twilio/guard.py); it is never redirected to the login page.

CSRF: a state-changing request that carries the session cookie must echo the session's
CSRF token (form field `csrf_token` or header `X-CSRF-Token`); any state-changing request
without a bearer token must also come from this site (Origin, Sec-Fetch-Site). Bearer
requests carry no ambient credential, so they are exempt.

Input: U+0000 (NUL) is refused wherever a request carries text - a path or query
parameter, a form field, any key or string of a JSON body - with a 400 naming the field,
before a handler sees it (`gateway.domain.refuse_nul`: PostgreSQL text cannot hold it,
so both engines refuse it alike). One rule for the API, the console and Twilio's API.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from gateway.auth.credentials import csrf_matches
from gateway.auth.errors import (
    CsrfRejected,
    Forbidden,
    LoginThrottled,
    NotAuthenticated,
)
from gateway.auth.records import AuthMethod, Identity
from gateway.domain import JsonValue, refuse_nul
from gateway.errors import GatewayError
from web import keys
from web.access import STATIC_ROUTE, Access
from web.api.fields import is_json
from web.cookies import SESSION_COOKIE
from web.prometheus import METRICS_PATH
from web.prometheus import guard as scrape_guard
from web.render import render
from web.twilio.guard import guard as twilio_guard
from web.twilio.guard import is_twilio

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_PREFIX = "/api/"
JSON_PATHS = frozenset({"/healthz", METRICS_PATH})
LOGIN_PATH = "/login"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# How JSON writes U+0000 (the only way: a raw control character is not valid JSON)
_JSON_NUL = b"\\u0000"

# No inline scripts or styles anywhere: an injected <script> cannot run even if escaping
# were ever missed.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

INTERNAL_MESSAGE = "internal error (the gateway's log has the details)"
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def is_api(request: web.Request) -> bool:
    """Whether the request is answered in JSON (the API and the health check)."""
    return request.path.startswith(API_PREFIX) or request.path in JSON_PATHS


def error_body(
    message: str, *, code: str, status: int, field: str | None = None
) -> dict[str, JsonValue]:
    """The one JSON error shape of every endpoint."""
    return {
        "ok": False,
        "error": message,
        "code": code,
        "status": status,
        "field": field,
    }


# ---------------------------------------------------------------------- errors


@web.middleware
async def error_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Answer every failure in the one shape (JSON for the API, a page for the console)."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects are answers, not errors
        headers = {k: exc.headers[k] for k in _KEPT_HEADERS if k in exc.headers}
        message = _http_message(request, exc)
        code = _HTTP_CODES.get(exc.status, f"http_{exc.status}")
        return _error(request, message, code, exc.status, headers=headers)
    except GatewayError as exc:
        return _gateway_error(request, exc)
    except json.JSONDecodeError as exc:
        message = f"the body is not valid JSON ({exc.msg} at line {exc.lineno})"
        return _error(request, message, "invalid_json", 400)
    except Exception:  # the web boundary: log it whole, tell the client nothing inside
        _LOGGER.exception("%s %s failed", request.method, request.path)
        return _error(request, INTERNAL_MESSAGE, "internal", 500)


def _gateway_error(request: web.Request, exc: GatewayError) -> web.StreamResponse:
    status = exc.http_status
    headers: dict[str, str] = {}
    message = str(exc)
    if status >= 500 and status != 503:
        # a store or programming failure: its text may hold paths or SQL
        _LOGGER.error("%s %s failed", request.method, request.path, exc_info=exc)
        message = INTERNAL_MESSAGE
    if isinstance(exc, LoginThrottled):
        headers["Retry-After"] = str(exc.details()["retry_after_s"])
    if isinstance(exc, NotAuthenticated) and is_api(request):
        headers["WWW-Authenticate"] = 'Bearer realm="smsgw"'
    field = exc.details().get("field")
    return _error(
        request,
        message,
        exc.code,
        status,
        field=field if isinstance(field, str) else None,
        headers=headers,
    )


def _http_message(request: web.Request, exc: web.HTTPException) -> str:
    if (
        request.match_info.http_exception is exc
        or exc.text == f"{exc.status}: {exc.reason}"
    ):
        if exc.status == 404:
            return f"no such path: {request.path}"
        if exc.status == 405:
            allowed = exc.headers.get("Allow", "")
            return f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
        return exc.reason
    return exc.text or exc.reason


def _error(
    request: web.Request,
    message: str,
    code: str,
    status: int,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    if is_api(request):
        body = error_body(message, code=code, status=status, field=field)
        return web.json_response(body, status=status, headers=headers)
    try:
        response = render(
            request,
            "error.html",
            status=status,
            error_status=status,
            message=message,
            code=code,
            title=_HTTP_CODES.get(status, "error").replace("_", " ").capitalize(),
        )
    except Exception:  # the error page itself failed: say something plain
        _LOGGER.exception("the error page failed for %s", request.path)
        response = web.Response(text=f"{status}: {message}\n", status=status)
    response.headers.update(headers or {})
    return response


# ---------------------------------------------------------------------- authentication


def access_of(request: web.Request) -> Access:
    """The route's declared Access; USER for anything undeclared (fail closed)."""
    name = request.match_info.route.name
    return request.app[keys.ACCESS].get(name or "", Access.USER)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find who is calling; refuse what their Access does not allow."""
    if request.match_info.route.name == STATIC_ROUTE:
        request[keys.IDENTITY] = None  # a stylesheet needs no session lookup
        return await handler(request)
    if is_twilio(request) or access_of(request) is Access.TWILIO:
        request[keys.IDENTITY] = None  # a Twilio account, never a session or token
        return await twilio_guard(request, handler)
    access = access_of(request)
    if access is Access.SCRAPE:
        request[keys.IDENTITY] = None  # Prometheus: its own token or loopback
        return await scrape_guard(request, handler)
    identity, stale_cookie = await _identify(request)
    request[keys.IDENTITY] = identity
    if access is Access.PUBLIC:
        return await handler(request)
    if identity is None:
        if is_api(request):
            raise NotAuthenticated("sign in first, or send Authorization: Bearer TOKEN")
        response = web.Response(status=303, headers={"Location": login_url(request)})
        if stale_cookie:
            request.app[keys.COOKIE].clear_session(response)
        return response
    if access is Access.ADMIN and not identity.is_admin:
        raise Forbidden("this is for admins only")
    return await handler(request)


async def _identify(request: web.Request) -> tuple[Identity | None, bool]:
    """(identity or None, whether a session cookie came that is no longer valid)."""
    auth = request.app[keys.AUTH]
    header = request.headers.get("Authorization")
    if header is not None and request.path.startswith(API_PREFIX):
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthenticated("the Authorization header must be: Bearer TOKEN")
        return await auth.authenticate_token(token.strip()), False
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None, False
    try:
        return await auth.authenticate_session(cookie), False
    except NotAuthenticated:
        return None, True


def login_url(request: web.Request) -> str:
    """/login, with the page asked for to come back to after signing in."""
    if request.method != "GET" or request.path == "/":
        return LOGIN_PATH
    return f"{LOGIN_PATH}?next={quote(request.path_qs, safe='')}"


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site: no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return "/"
    return target


# ---------------------------------------------------------------------- CSRF


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse state-changing requests that a page of another site could have made."""
    if request.method in SAFE_METHODS:
        return await handler(request)
    identity = request.get(keys.IDENTITY)
    if identity is not None and identity.method is AuthMethod.TOKEN:
        return await handler(request)
    _check_origin(request)
    if identity is not None:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in _FORM_TYPES:
            value = (await request.post()).get(CSRF_FIELD)
            given = value if isinstance(value, str) else None
        if identity.csrf_token is None or not csrf_matches(identity.csrf_token, given):
            raise CsrfRejected(
                "the form's security token is missing or out of date; reload the page "
                "and try again"
            )
    return await handler(request)


def _check_origin(request: web.Request) -> None:
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise CsrfRejected("a request from another site was refused")
    origin = request.headers.get("Origin")
    if origin is None:
        return  # not a browser, or an old one: the token check still applies
    allowed = {request.host}
    base_url = request.app[keys.SETTINGS].web.base_url
    if base_url:
        allowed.add(urlsplit(base_url).netloc)
    if urlsplit(origin).netloc not in allowed:
        raise CsrfRejected("a request from another site was refused")


# ---------------------------------------------------------------------- input


@web.middleware
async def input_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Refuse U+0000 in any text the request carries, naming the field (a 400)."""
    for name, value in request.match_info.items():
        refuse_nul(value, name)
    for name, value in request.query.items():
        refuse_nul(name, "query")
        refuse_nul(value, name)
    if request.method in SAFE_METHODS or not request.body_exists:
        return await handler(request)
    if request.content_type in _FORM_TYPES:
        try:
            form = await request.post()
        except ValueError:  # malformed: whoever reads it answers as without this check
            return await handler(request)
        for name, field in form.items():
            refuse_nul(name, "form")
            if isinstance(field, str):  # a file's content is its handler's to judge
                refuse_nul(field, name)
    elif is_json(request.content_type) and _JSON_NUL in await request.read():
        # Parsed twice only where a NUL may be; a body that is not UTF-8 JSON after all
        # is left to read_json, which says what is wrong with it.
        with contextlib.suppress(ValueError, RecursionError):
            _refuse_nul_in(json.loads((await request.read()).decode("utf-8")), "")
    return await handler(request)


def _refuse_nul_in(value: object, path: str) -> None:
    """Every key and string of a JSON value; the field is its path (context.order_id,
    tags[0])."""
    if isinstance(value, str):
        refuse_nul(value, path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key, path or "body")  # a key is named by what holds it
            _refuse_nul_in(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_nul_in(item, f"{path}[{index}]")


# ---------------------------------------------------------------------- headers


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the same protective headers on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        # pages hold conversations: no copies in shared or back-button caches
        response.headers.setdefault("Cache-Control", "no-store")
