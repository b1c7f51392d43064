"""/api/v1/conversations: the shared inbox for integrations - list, get (the thread),
assign, status, priority, notes, tags, reply as the token's user."""

from __future__ import annotations

from aiohttp import web

from web.api.common import identity, services
from web.api.fields import read_json
from web.api.objects import (
    conversation_object,
    note_object,
    queued,
    respond,
    service_page,
    thread_object,
)
from web.api.schemas import (
    CONVERSATION_ID,
    IDEMPOTENCY_HEADER,
    Assign,
    Choice,
    ConversationList,
    Note,
    Reply,
    Tags,
    ThreadPage,
)


async def list_conversations(request: web.Request) -> web.Response:
    q = ConversationList.parse(request.query, caller=identity(request).user.id)
    page = await services(request).inbox.list_conversations(
        status=q.status,
        ownership=q.ownership,
        user_id=q.user_id,
        queue=q.queue,
        tag=q.tag,
        modem=q.modem,
        priority=q.priority,
        search=q.search,
        cursor=q.cursor,
        limit=q.limit,
    )
    return respond(service_page(page.rows, page.next_cursor, conversation_object))


async def get(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    page = ThreadPage.parse(request.query)
    view = await services(request).inbox.thread(
        conversation_id, before=page.before, limit=page.limit
    )
    return respond(thread_object(view))


async def assign(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    to = Assign.parse(await read_json(request))
    summary = await services(request).inbox.assign(
        conversation_id, to.assignee_id, actor=identity(request)
    )
    return respond(conversation_object(summary))


async def set_status(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    status = Choice.status(await read_json(request))
    summary = await services(request).inbox.set_status(
        conversation_id, status.value, actor=identity(request)
    )
    return respond(conversation_object(summary))


async def set_priority(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    priority = Choice.priority(await read_json(request))
    summary = await services(request).inbox.set_priority(
        conversation_id, priority.value, actor=identity(request)
    )
    return respond(conversation_object(summary))


async def add_note(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    note = Note.parse(await read_json(request))
    record = await services(request).inbox.add_note(
        conversation_id, note.body, actor=identity(request)
    )
    return respond(note_object(record), status=201)


async def add_tags(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    tags = Tags.parse(await read_json(request))
    summary = await services(request).inbox.add_tags(
        conversation_id, tags.tags, actor=identity(request)
    )
    return respond(conversation_object(summary))


async def remove_tags(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    tags = Tags.parse(await read_json(request))
    summary = await services(request).inbox.remove_tags(
        conversation_id, tags.tags, actor=identity(request)
    )
    return respond(conversation_object(summary))


async def reply(request: web.Request) -> web.Response:
    conversation_id = CONVERSATION_ID.read(request)
    text = Reply.parse(
        await read_json(request), request.headers.get(IDEMPOTENCY_HEADER)
    )
    enqueued = await services(request).inbox.queue_reply(
        conversation_id,
        text.body,
        actor=identity(request),
        idempotency_key=text.idempotency_key,
    )
    return queued(enqueued)
