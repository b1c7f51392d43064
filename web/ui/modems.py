"""The Modems page: each modem's state, signal, operator, registration, queue and last
error, and a form that sends a test text through one modem only. When boxes share the
database, the boxes too (alive or taken as gone) and which box each modem hangs on."""

from __future__ import annotations

from aiohttp import web

from gateway.errors import GatewayError
from web.render import render, url_for
from web.schemas import form_fields, query_int
from web.ui import views
from web.ui.common import Times, identity, redirect, services


def _page(
    request: web.Request,
    data: views.ModemsPage,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> web.Response:
    return render(
        request,
        "modems.html",
        status=status,
        modems=data.modems,
        nodes=data.nodes if data.several_nodes else (),
        test=data.test,
        error=error,
        form=form or {},
        t=Times.of(request),
    )


async def index(request: web.Request) -> web.Response:
    test_id = query_int(request, "test", default=None)
    return _page(request, await views.modems_page(services(request), test_id))


async def send_test(request: web.Request) -> web.Response:
    form = await form_fields(request)
    try:
        enqueued = await services(request).outbound.send_test(
            form.get("modem", ""),
            form.get("to", ""),
            form.get("body", "").strip() or None,
            user=identity(request).user.id,
        )
    except GatewayError as exc:  # a bad number, an opted-out one, an unknown modem
        return await _refused(request, form, exc)
    return redirect(url_for(request, "modems") + f"?test={enqueued.message.id}")


async def _refused(
    request: web.Request, form: dict[str, str], exc: GatewayError
) -> web.Response:
    """The page again with the refusal next to the form, what was typed kept."""
    if exc.http_status >= 500:
        raise exc
    data = await views.modems_page(services(request), None)
    return _page(request, data, status=exc.http_status, error=str(exc), form=form)
