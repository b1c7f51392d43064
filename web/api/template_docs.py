"""The template and notification APIs' half of the OpenAPI document (web/api/openapi.py
adds it): their resources and one Operation per route of web/api/templates.py and
web/api/notifications.py."""

from __future__ import annotations

from gateway.domain import MessageStatus
from web.api import notifications, templates
from web.api.openapi import (
    _IDEMPOTENCY,
    JsonSchema,
    Operation,
    _enum,
    _int,
    _list_of,
    _maybe,
    _object,
    _string,
    _time,
    _values,
    ref,
)

TEMPLATE = _object(
    "template",
    "A canned text: a Jinja2 template rendered in a sandbox for each recipient.",
    {
        "id": _int("", 1),
        "name": _string("What agents see in the picker."),
        "shortcut": _string(
            "Typed after / in the composer; `template` of a notification."
        ),
        "body": _string("The template's text."),
        "description": _maybe(_string()),
        "created_at": _time(),
        "updated_at": _time(),
        "updated_by": _string("Who saved it last (user:NAME or token:NAME#ID)."),
    },
)
DELETED_TEMPLATE = _object(
    "template",
    "A template that is gone.",
    {"id": _int("", 1), "deleted": {"const": True}},
)
RENDER = _object(
    "template_render",
    "A template's text for one recipient (or sample data), and what it costs to send.",
    {
        "template_id": _maybe(_int("The template rendered (null: a draft).", 1)),
        "text": _string("The text as it would be sent."),
        "segments": ref("Segments"),
    },
)
OPTION = _object(
    None,
    "A reply option.",
    {
        "key": _string("What the customer replies: 1, A, yes..."),
        "value": _string("What it means: confirm, reschedule..."),
        "aliases": {"type": "array", "items": {"type": "string"}},
        "action": _enum(("confirm", "handover")),
        "queue": _maybe(_string("The queue a handover goes to.")),
        "reply": _maybe(_string("The confirmation texted back, as rendered.")),
    },
)
SELECTED = _object(
    None,
    "The option the customer's reply picked.",
    {
        "key": _string(),
        "value": _string(),
        "message_id": _int("The customer's reply.", 1),
        "at": _time(),
        "confirmation_message_id": _maybe(
            _int("The confirmation texted (null: none, or opted out).", 1)
        ),
    },
)
NOTIFICATION = _object(
    "notification",
    "A proactive text with its context, reply options and what the customer chose.",
    {
        "id": _int("", 1),
        "to": _string("E.164."),
        "message_id": _int("The text (GET /api/v1/messages/{id}).", 1),
        "conversation_id": _int("", 1),
        "status": _enum(_values(MessageStatus), "The text's status."),
        "body": _string("The text as sent."),
        "template": _maybe(_string("The template's shortcut it was written from.")),
        "context": {"type": "object"},
        "reply_options": {"type": "array", "items": ref("ReplyOption")},
        "expires_at": _maybe(_time("When the reply options close.")),
        "scheduled_at": _maybe(_time("As asked.")),
        "send_after": _maybe(
            _time("When it may go: the schedule, then quiet hours (null: at once).")
        ),
        "timezones": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The recipient's time zones its quiet hours follow.",
        },
        "selected": _maybe(ref("ReplyOptionSelected")),
        "message": ref("Message"),
        "created_at": _time(),
    },
)

SCHEMAS: dict[str, JsonSchema] = {
    "Template": TEMPLATE,
    "TemplateList": _list_of("Template"),
    "DeletedTemplate": DELETED_TEMPLATE,
    "TemplateRender": RENDER,
    "ReplyOption": OPTION,
    "ReplyOptionSelected": SELECTED,
    "Notification": NOTIFICATION,
    "NotificationList": _list_of("Notification"),
}

_TEMPLATE = "/api/v1/templates/{id}"
_VARIABLES = (
    "Templates see `contact` (number, name, first_name, attributes), `conversation` "
    "(id, status, priority, queue, context), `context`, `agent` (name) and `option` "
    "(key, value). A variable without a value is a 400 template_variable_missing "
    'naming it; `| default("...")` gives a fallback.'
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "api.templates",
        "GET",
        "/api/v1/templates",
        "templates",
        "List templates",
        {200: ("TemplateList", "Every template, by name; one page.")},
    ),
    Operation(
        "api.templates.create",
        "POST",
        "/api/v1/templates",
        "templates",
        "Add a template (admins)",
        {201: ("Template", "Checked and stored.")},
        errors=(409,),
        body=templates.CREATE_TEMPLATE,
        description="400 invalid_template names the line and column of a syntax "
        "error or of what the sandbox does not offer; 409 when the shortcut is taken. "
        + _VARIABLES,
    ),
    Operation(
        "api.templates.preview",
        "POST",
        "/api/v1/templates/preview",
        "templates",
        "Render a draft with sample data",
        {200: ("TemplateRender", "The text and its segment count.")},
        body=templates.PREVIEW_TEMPLATE,
        description=_VARIABLES,
    ),
    Operation(
        "api.template",
        "GET",
        _TEMPLATE,
        "templates",
        "Get a template",
        {200: ("Template", "The template.")},
        errors=(404,),
        path_params=(templates.TEMPLATE_ID,),
    ),
    Operation(
        "api.template.update",
        "PATCH",
        _TEMPLATE,
        "templates",
        "Change a template (admins)",
        {200: ("Template", "As it is now.")},
        errors=(404, 409),
        body=templates.UPDATE_TEMPLATE,
        path_params=(templates.TEMPLATE_ID,),
        description="Fields left out stay; a null or empty description clears it.",
    ),
    Operation(
        "api.template.delete",
        "DELETE",
        _TEMPLATE,
        "templates",
        "Delete a template (admins)",
        {200: ("DeletedTemplate", "Gone.")},
        errors=(404,),
        path_params=(templates.TEMPLATE_ID,),
    ),
    Operation(
        "api.template.render",
        "POST",
        _TEMPLATE + "/render",
        "templates",
        "Render a template for a conversation or a number",
        {200: ("TemplateRender", "The text for that recipient and its segments.")},
        errors=(404,),
        body=templates.RENDER_TEMPLATE,
        path_params=(templates.TEMPLATE_ID,),
        description="The composer's picker renders for the open conversation. "
        + _VARIABLES,
    ),
    Operation(
        "api.notifications.send",
        "POST",
        "/api/v1/notifications",
        "notifications",
        "Send a notification (with reply options, a schedule, quiet hours)",
        {
            201: ("Notification", "Queued (committed before this answer)."),
            200: ("Notification", "The notification this idempotency key made."),
        },
        errors=(404, 409),
        body=notifications.SEND_NOTIFICATION,
        headers=(_IDEMPOTENCY,),
        description="A reply that picks an option (its key, value or an alias; the "
        "whole message, any case, '2.' or 'option 2' too) before `expires_at` sends "
        "the option's confirmation and a reply.option_selected webhook with the "
        "context; any other reply reaches the inbox with the context. STOP is never "
        "an option. The text waits for `scheduled_at` and, unless quiet_hours is "
        "false, for the end of quiet hours in the recipient's time zone. 404: no such "
        "template; 409: opted out, or an idempotency key used otherwise.",
    ),
    Operation(
        "api.notifications",
        "GET",
        "/api/v1/notifications",
        "notifications",
        "List notifications",
        {200: ("NotificationList", "Newest first.")},
        query=notifications.LIST_NOTIFICATIONS,
    ),
    Operation(
        "api.notification",
        "GET",
        "/api/v1/notifications/{id}",
        "notifications",
        "Get a notification with what the customer chose",
        {200: ("Notification", "The notification.")},
        errors=(404,),
        path_params=(notifications.NOTIFICATION_ID,),
    ),
)
