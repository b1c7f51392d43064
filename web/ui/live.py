"""GET /events/inbox: the inbox's live updates as server-sent events.

Events carry ids and states only, never text a customer or an agent wrote: the page
fetches the changed list or thread as a fragment rendered by the same templates as the
page, so everything shown passes through one escaping path.
"""

from __future__ import annotations

from aiohttp import web

from gateway import events
from gateway.domain import JsonValue
from web import keys
from web.sse import event_stream

# What the inbox page listens to; ModemStatus and the like are for other pages.
INBOX_EVENTS: tuple[type, ...] = (
    events.MessageReceived,
    events.MessageQueued,
    events.MessageStatusChanged,
    events.ConversationCreated,
    events.ConversationStatusChanged,
    events.ConversationAssigned,
    events.PriorityChanged,
    events.ConversationTagged,
    events.NoteAdded,
    events.ConversationRead,
    events.ConversationFlagged,
    events.ContactChanged,
    events.ConsentChanged,
    events.AutomationHandedOver,
)


def encode_inbox_event(
    event: events.DomainEvent,
) -> tuple[str, JsonValue] | None:
    """(SSE event name, JSON data) for the inbox page, or None to skip the event."""
    match event:
        case events.MessageReceived():
            return "message.received", {
                "conversation_id": event.conversation_id,
                "message_id": event.message_id,
            }
        case events.MessageQueued(conversation_id=int()):
            return "message.queued", {
                "conversation_id": event.conversation_id,
                "message_id": event.message_id,
            }
        case events.MessageStatusChanged(conversation_id=int()):
            return "message.status", {
                "conversation_id": event.conversation_id,
                "message_id": event.message_id,
                "status": event.status,
            }
        case events.ConversationCreated():
            return "conversation.created", {"conversation_id": event.conversation_id}
        case events.ConversationStatusChanged():
            return "conversation.status", {
                "conversation_id": event.conversation_id,
                "status": event.status,
            }
        case events.ConversationAssigned():
            return "conversation.assigned", {
                "conversation_id": event.conversation_id,
                "assignee_id": event.assignee_id,
            }
        case (
            events.PriorityChanged()
            | events.ConversationTagged()
            | events.ConversationRead()
            | events.ConversationFlagged()
        ):
            return "conversation.changed", {"conversation_id": event.conversation_id}
        case events.NoteAdded():
            return "note.added", {
                "conversation_id": event.conversation_id,
                "note_id": event.note_id,
            }
        case events.AutomationHandedOver():
            # escalated: a takeover word, HELP or frustration - the page tells agents
            return "conversation.handed_over", {
                "conversation_id": event.conversation_id,
                "escalated": event.escalated,
                "assignee_id": event.assignee_id,
            }
        case events.ContactChanged() | events.ConsentChanged():
            return "contact.changed", {}
    return None


async def inbox_events(request: web.Request) -> web.StreamResponse:
    bus = request.app[keys.BUS]
    sub = bus.subscribe(*INBOX_EVENTS, resyncs=True)
    # The bus's count as the stream starts: a page rendered at a lower count may have
    # missed events in between, and fetches its list and thread again.
    hello: JsonValue = {"published": bus.published}
    return await event_stream(request, sub, encode_inbox_event, hello=hello)
