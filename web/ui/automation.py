"""The Automation page (admins): the [automation] settings over gateway.ini's defaults,
the triage menu, collection flows, routing rules, queues with their hours, and the rule
tester; and the availability toggle every agent has.

Each form posts to its own route and makes one AutomationService call (which audits it
as the signed-in admin). A refused value re-renders the page with that form open, what was
typed kept and the message naming the input; nothing is saved. The rule tester writes
nothing: its answer is the page again, or only the result for the page's script
(`X-Smsgw-Fragment: tester`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from gateway.automation.service import AutomationService
from gateway.errors import Conflict, InvalidInput
from web import keys
from web.render import render, url_for
from web.schemas import path_int
from web.ui import automation_views as views
from web.ui.automation_forms import (
    Form,
    field_rows,
    flow_fields,
    flow_form,
    option_args,
    option_form,
    queue_args,
    queue_form,
    read_form,
    rule_args,
    rule_form,
    setting_values,
    tester_input,
)
from web.ui.common import FRAGMENT_HEADER, identity, redirect, services

TESTER_FRAGMENT = "tester"
# The errors a form's author can fix: the page again with the form as typed.
FIXABLE = (InvalidInput, Conflict)


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a form was refused: which form, which input (if one), the message."""

    form: str
    field: str | None
    message: str

    @classmethod
    def of(cls, form: str, exc: InvalidInput | Conflict) -> Problem:
        if isinstance(exc, InvalidInput):
            return cls(form, exc.field, str(exc))
        return cls(form, None, str(exc))


def _automation(request: web.Request) -> AutomationService:
    return services(request).automation


async def _editor(
    request: web.Request,
    *,
    status: int = 200,
    problem: Problem | None = None,
    draft: Form | None = None,
    tester_form: Form | None = None,
    outcome: views.TestOutcome | None = None,
) -> web.Response:
    page = await views.automation_page(services(request))
    zone = request.app[keys.SETTINGS].gateway.timezone
    return render(
        request,
        "automation.html",
        status=status,
        page=page,
        problem=problem,
        draft=draft,
        saved=request.query.get("saved", ""),
        tester_form=tester_form or Form(),
        outcome=outcome,
        zone=zone.key,
        empty=Form(),
        option_form=option_form,
        rule_form=rule_form,
        flow_form=flow_form,
        queue_form=queue_form,
        field_rows=field_rows,
    )


async def _act(
    request: web.Request,
    form_key: str,
    change: Callable[[Form, str], Awaitable[object]],
    *,
    anchor: str | None = None,
) -> web.Response:
    """Run one change with the posted form; the page again on a fixable refusal."""
    form = await read_form(request)
    try:
        await change(form, identity(request).actor)
    except FIXABLE as exc:
        problem = Problem.of(form_key, exc)
        return await _editor(
            request, status=exc.http_status, problem=problem, draft=form
        )
    target = anchor or form_key
    return redirect(f"{url_for(request, 'automation')}?saved={target}#{target}")


def _item(request: web.Request) -> int:
    return path_int(request, "id")


# ---------------------------------------------------------------------- the page


async def page(request: web.Request) -> web.Response:
    return await _editor(request)


async def save_settings(request: web.Request) -> web.Response:
    return await _act(
        request,
        "settings",
        lambda form, actor: _automation(request).update_settings(
            setting_values(form), actor=actor
        ),
    )


async def reset_settings(request: web.Request) -> web.Response:
    return await _act(
        request,
        "settings",
        lambda form, actor: _automation(request).reset_settings(actor=actor),
    )


async def save_triage(request: web.Request) -> web.Response:
    return await _act(
        request,
        "triage",
        lambda form, actor: _automation(request).set_triage(
            intro=form.get("intro"), ask=form.get("ask") == "yes", actor=actor
        ),
    )


# ---------------------------------------------------------------------- triage options


async def create_option(request: web.Request) -> web.Response:
    return await _act(
        request,
        "option-new",
        lambda form, actor: _automation(request).save_triage_option(
            None, **option_args(form), actor=actor
        ),
        anchor="triage",
    )


async def update_option(request: web.Request) -> web.Response:
    item = _item(request)
    return await _act(
        request,
        f"option-{item}",
        lambda form, actor: _automation(request).save_triage_option(
            item, **option_args(form), actor=actor
        ),
    )


async def delete_option(request: web.Request) -> web.Response:
    item = _item(request)
    await _automation(request).delete_triage_option(item, actor=identity(request).actor)
    return redirect(f"{url_for(request, 'automation')}?saved=triage#triage")


# ---------------------------------------------------------------------- flows


async def create_flow(request: web.Request) -> web.Response:
    return await _act(
        request,
        "flow-new",
        lambda form, actor: _automation(request).save_flow(
            None,
            name=form.get("name"),
            fields=flow_fields(form),
            done_text=form.get("done_text"),
            actor=actor,
        ),
        anchor="flows",
    )


async def update_flow(request: web.Request) -> web.Response:
    item = _item(request)
    return await _act(
        request,
        f"flow-{item}",
        lambda form, actor: _automation(request).save_flow(
            item,
            name=form.get("name"),
            fields=flow_fields(form),
            done_text=form.get("done_text"),
            actor=actor,
        ),
    )


async def delete_flow(request: web.Request) -> web.Response:
    await _automation(request).delete_flow(
        _item(request), actor=identity(request).actor
    )
    return redirect(f"{url_for(request, 'automation')}?saved=flows#flows")


# ---------------------------------------------------------------------- routing rules


async def create_rule(request: web.Request) -> web.Response:
    return await _act(
        request,
        "rule-new",
        lambda form, actor: _automation(request).save_routing_rule(
            None, **rule_args(form), actor=actor
        ),
        anchor="routing",
    )


async def update_rule(request: web.Request) -> web.Response:
    item = _item(request)
    return await _act(
        request,
        f"rule-{item}",
        lambda form, actor: _automation(request).save_routing_rule(
            item, **rule_args(form), actor=actor
        ),
    )


async def delete_rule(request: web.Request) -> web.Response:
    await _automation(request).delete_routing_rule(
        _item(request), actor=identity(request).actor
    )
    return redirect(f"{url_for(request, 'automation')}?saved=routing#routing")


# ---------------------------------------------------------------------- queues


async def create_queue(request: web.Request) -> web.Response:
    return await _act(
        request,
        "queue-new",
        lambda form, actor: _automation(request).save_queue(
            None, **queue_args(form), actor=actor
        ),
        anchor="queues",
    )


async def update_queue(request: web.Request) -> web.Response:
    item = _item(request)
    return await _act(
        request,
        f"queue-{item}",
        lambda form, actor: _automation(request).save_queue(
            item, **queue_args(form), actor=actor
        ),
    )


async def delete_queue(request: web.Request) -> web.Response:
    await _automation(request).delete_queue(
        _item(request), actor=identity(request).actor
    )
    return redirect(f"{url_for(request, 'automation')}?saved=queues#queues")


# ---------------------------------------------------------------------- the tester


async def run_test(request: web.Request) -> web.Response:
    """What the rules would do with the typed messages: sends nothing, writes nothing."""
    form = await read_form(request)
    outcome, problem = await _tested(request, form)
    status = 400 if problem else 200
    if request.headers.get(FRAGMENT_HEADER) == TESTER_FRAGMENT:
        return render(
            request,
            "automation/_tester_result.html",
            status=status,
            outcome=outcome,
            problem=problem,
        )
    return await _editor(
        request, status=status, problem=problem, tester_form=form, outcome=outcome
    )


async def _tested(
    request: web.Request, form: Form
) -> tuple[views.TestOutcome | None, Problem | None]:
    """The tester's answer, or why the form was refused."""
    zone = request.app[keys.SETTINGS].gateway.timezone
    try:
        asked = tester_input(form, zone)
        return await views.run_test(services(request), asked, zone), None
    except InvalidInput as exc:
        return None, Problem.of(TESTER_FRAGMENT, exc)


# ---------------------------------------------------------------------- availability


async def set_availability(request: web.Request) -> web.Response:
    """An agent sets themselves away (no new conversations by assignment) or back."""
    form = await read_form(request)
    away = form.get("away")
    if away not in ("yes", "no"):
        raise InvalidInput("away", "yes or no")
    me = identity(request)
    await _automation(request).set_away(me.user.id, away == "yes", actor=me.actor)
    return redirect(_local(form.get("next")) or url_for(request, "inbox"))


def _local(path: str) -> str | None:
    """`path` when it is a path of this site (never another host)."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not path.startswith("/") or "\\" in path:
        return None
    if path.startswith("//"):
        return None
    return path
