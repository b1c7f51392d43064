"""The template API: canned texts (admins change them, everyone reads and renders them),
a preview with sample data, and a render for one conversation or number with its
segment count. Documented in web/api/template_docs.py; the service is
gateway.templates."""

from __future__ import annotations

from aiohttp import web

from gateway.contacts import MAX_NUMBER_INPUT_CHARS
from gateway.errors import InvalidInput
from gateway.templates.engine import MAX_TEMPLATE_CHARS
from gateway.templates.records import TemplateRecord
from gateway.templates.service import (
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_SHORTCUT_CHARS,
    Rendered,
    TemplateService,
)
from web.api.common import identity, services
from web.api.fields import Body, Integer, JsonDict, JsonMap, PathId, Text, read_json
from web.api.objects import respond, segments_object, whole_list
from web.api.schemas import MAX_CONTEXT_BYTES
from web.schemas import when

TEMPLATE_ID = PathId("id", "The template's id.")


def _name(required: bool) -> Text:
    return Text(
        name="name",
        description="What agents see in the picker.",
        max_length=MAX_NAME_CHARS,
        required=required,
        blank=False,
        example="Delivery late",
    )


def _shortcut(required: bool) -> Text:
    return Text(
        name="shortcut",
        description="Its short name: typed after / in the composer, and the API's "
        "`template` for a notification. a-z, 0-9, '-' and '_' (spaces become '-', "
        "upper case lower).",
        max_length=MAX_SHORTCUT_CHARS + 1,
        required=required,
        example="late",
    )


def _body(required: bool, description: str = "") -> Text:
    return Text(
        name="body",
        description=description
        or 'The text, a Jinja2 template: {{ contact.first_name | default("there") }}, '
        "{{ conversation.context.order_id }}, {% if %}...{% endif %}. Checked when "
        "saved (an error names line and column).",
        max_length=MAX_TEMPLATE_CHARS,
        required=required,
        blank=False,
        example='Hi {{ contact.first_name | default("there") }}, your order '
        "{{ conversation.context.order_id }} is delayed.",
    )


def _description() -> Text:
    return Text(
        name="description",
        description="When to use it, for people.",
        max_length=MAX_DESCRIPTION_CHARS,
        min_length=0,
        nullable=True,
    )


CREATE_TEMPLATE = Body(
    (_name(True), _shortcut(True), _body(True), _description()),
    example={
        "name": "Delivery late",
        "shortcut": "late",
        "body": 'Hi {{ contact.first_name | default("there") }}, order '
        "{{ conversation.context.order_id }} is running late.",
    },
)
UPDATE_TEMPLATE = Body(
    (_name(False), _shortcut(False), _body(False), _description()),
    example={"body": "Hi {{ contact.first_name | default('there') }}!"},
)
PREVIEW_TEMPLATE = Body(
    (
        _body(True, "A draft template's text."),
        JsonMap(
            name="sample",
            description="Data to render with, by root (contact, conversation, context, "
            "agent, option); a root left out gets the sample's (Jamie, order 4839201).",
            max_bytes=MAX_CONTEXT_BYTES,
            example={"contact": {"number": "+447700900123", "first_name": "Sam"}},
        ),
    ),
    example={"body": "Hi {{ contact.first_name }}!"},
)
RENDER_TEMPLATE = Body(
    (
        Integer(
            name="conversation_id",
            description="Render for this conversation's customer (its context, the "
            "caller as `agent`).",
        ),
        Text(
            name="to",
            description="Or for this number (its contact and active conversation, if "
            "any), as a notification would be.",
            max_length=MAX_NUMBER_INPUT_CHARS,
            example="+447700900123",
        ),
        JsonMap(
            name="context",
            description="With `to`: the notification's context.",
            max_bytes=MAX_CONTEXT_BYTES,
            example={"order_id": "4839201"},
        ),
    ),
    example={"conversation_id": 12},
)


def template_object(record: TemplateRecord) -> JsonDict:
    return {
        "object": "template",
        "id": record.id,
        "name": record.name,
        "shortcut": record.shortcut,
        "body": record.body,
        "description": record.description,
        "created_at": when(record.created_at),
        "updated_at": when(record.updated_at),
        "updated_by": record.updated_by,
    }


def render_object(rendered: Rendered) -> JsonDict:
    return {
        "object": "template_render",
        "template_id": rendered.template_id,
        "text": rendered.text,
        "segments": segments_object(rendered.segments),
    }


def _templates(request: web.Request) -> TemplateService:
    return services(request).templates


async def list_templates(request: web.Request) -> web.Response:
    return respond(whole_list(await _templates(request).list(), template_object))


async def get_template(request: web.Request) -> web.Response:
    record = await _templates(request).get(TEMPLATE_ID.read(request))
    return respond(template_object(record))


async def create_template(request: web.Request) -> web.Response:
    values = CREATE_TEMPLATE.read(await read_json(request))
    record = await _templates(request).create(
        name=values.text("name"),
        shortcut=values.text("shortcut"),
        body=values.text("body"),
        description=values.text_or_none("description"),
        actor=identity(request).actor,
    )
    location = f"/api/v1/templates/{record.id}"
    return respond(template_object(record), status=201, headers={"Location": location})


async def update_template(request: web.Request) -> web.Response:
    template_id = TEMPLATE_ID.read(request)
    values = UPDATE_TEMPLATE.read(await read_json(request))
    description = values.text_or_none("description")
    record = await _templates(request).update(
        template_id,
        name=values.text_or_none("name"),
        shortcut=values.text_or_none("shortcut"),
        body=values.text_or_none("body"),
        description=(description or "") if "description" in values else None,
        actor=identity(request).actor,
    )
    return respond(template_object(record))


async def delete_template(request: web.Request) -> web.Response:
    template_id = TEMPLATE_ID.read(request)
    await _templates(request).delete(template_id, actor=identity(request).actor)
    return respond({"object": "template", "id": template_id, "deleted": True})


async def preview_template(request: web.Request) -> web.Response:
    values = PREVIEW_TEMPLATE.read(await read_json(request))
    rendered = _templates(request).preview(
        values.text("body"), values.object_or_none("sample")
    )
    return respond(render_object(rendered))


async def render_template(request: web.Request) -> web.Response:
    template_id = TEMPLATE_ID.read(request)
    values = RENDER_TEMPLATE.read(await read_json(request))
    conversation_id, to = (
        values.integer_or_none("conversation_id"),
        values.text_or_none("to"),
    )
    templates = _templates(request)
    if (conversation_id is None) == (to is None):
        raise InvalidInput(
            "conversation_id", "give conversation_id or to (one of them)"
        )
    if conversation_id is not None:
        rendered = await templates.render_in_conversation(
            template_id, conversation_id, user_id=identity(request).user.id
        )
    else:
        assert to is not None
        rendered = await templates.render_for_number(
            template_id, to, context=values.object_or_none("context")
        )
    return respond(render_object(rendered))
