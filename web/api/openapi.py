"""The OpenAPI 3.1 document of the API, written as data; served at /api/v1/openapi.json.

Requests are documented from the same declarations that validate them (web.api.schemas);
responses from the schemas below, which tests/web/api/ check against real responses of
every endpoint, so the document cannot drift from the code. Every status an operation
can answer is listed: the error middleware's codes (400 invalid input or JSON, 401 no
caller, 403 not allowed, 404, 409, 413 body too large, 415 not JSON) where they apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.domain import (
    ConversationStatus,
    Direction,
    JsonValue,
    MessageOrigin,
    MessageStatus,
    NumberKind,
    PartStatus,
    Priority,
    UserRole,
)
from web.access import Access
from web.api import schemas
from web.api.fields import NO_QUERY, Body, JsonDict, PathId, PathName, Query

JsonSchema = JsonDict
TITLE = "smsgw REST API"
VERSION = "1"
TIME_PATTERN = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def ref(name: str) -> JsonSchema:
    return {"$ref": f"#/components/schemas/{name}"}


# ---------------------------------------------------------------------- building blocks


def _string(description: str = "") -> JsonSchema:
    return {"type": "string", "description": description}


def _maybe(schema: JsonSchema) -> JsonSchema:
    """The same value, or null."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    kind = schema["type"]
    assert isinstance(kind, str)
    nullable: JsonSchema = {**schema, "type": [kind, "null"]}
    if isinstance(schema.get("enum"), list):
        nullable["enum"] = [*schema["enum"], None]  # type: ignore[misc]
    return nullable


def _time(description: str = "") -> JsonSchema:
    return {
        "type": "string",
        "format": "date-time",
        "pattern": TIME_PATTERN,
        "description": description or "ISO 8601, UTC, with Z.",
    }


def _int(description: str = "", minimum: int | None = None) -> JsonSchema:
    schema: JsonSchema = {"type": "integer", "description": description}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def _enum(values: tuple[str, ...], description: str = "") -> JsonSchema:
    return {"type": "string", "enum": list(values), "description": description}


def _bool(description: str = "") -> JsonSchema:
    return {"type": "boolean", "description": description}


def _object(
    name: str | None, description: str, properties: Mapping[str, JsonSchema]
) -> JsonSchema:
    """A closed object: every property required (null when absent), no others."""
    props: dict[str, JsonSchema] = {}
    if name is not None:
        props["object"] = {"const": name, "description": "The type of this object."}
    props.update(properties)
    return {
        "type": "object",
        "description": description,
        "properties": dict(props),
        "required": list(props),
        "additionalProperties": False,
    }


def _list_of(item: str) -> JsonSchema:
    return _object(
        "list",
        f"A page of {item} objects, newest first where the order is by time.",
        {
            "data": {"type": "array", "items": ref(item)},
            "has_more": _bool("Whether another page follows."),
            "next_cursor": _maybe(
                _string("Pass as `cursor` (with the same filters) for the next page.")
            ),
        },
    )


def _values(enum: type[object]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- resources

ERROR: JsonSchema = {
    "type": "object",
    "description": "The one error shape of every endpoint.",
    "properties": {
        "ok": {"const": False},
        "error": _string("What went wrong, for people."),
        "code": _string(
            "What went wrong, for programs: invalid_input, invalid_json, "
            "unauthorized, forbidden, csrf_rejected, not_found, conflict, opted_out, "
            "payload_too_large, unsupported_media_type, internal..."
        ),
        "status": _int("The HTTP status, repeated."),
        "field": _maybe(_string("The input field at fault (invalid_input).")),
    },
    "required": ["ok", "error", "code", "status", "field"],
    "additionalProperties": False,
}

MESSAGE_PART = _object(
    None,
    "One SMS part of an outbound message and its delivery state.",
    {
        "seq": _int("1-based position in the message.", 1),
        "status": _enum(_values(PartStatus)),
        "attempts": _int("Sends tried so far.", 0),
        "modem": _maybe(_string("The modem that took it.")),
        "reference": _maybe(_int("TP-MR the network gave it.")),
        "report_status": _maybe(_int("TP-ST of the last status report.")),
        "error": _maybe(_string()),
        "accepted_at": _maybe(_time("When the network accepted it.")),
        "delivered_at": _maybe(_time("When the phone got it (status report).")),
    },
)

_MESSAGE_FIELDS: dict[str, JsonSchema] = {
    "id": _int("", 1),
    "conversation_id": _int("", 1),
    "direction": _enum(_values(Direction)),
    "status": _enum(_values(MessageStatus)),
    "origin": _enum(
        _values(MessageOrigin),
        "Who wrote it: the customer, an agent, the API, automation, the box itself "
        "(system), or a modem test.",
    ),
    "number": _string("The customer's number (E.164), whichever the direction."),
    "body": _string(),
    "modem": _maybe(_string("The modem it came through or leaves by.")),
    "encoding": _maybe(_enum(("gsm7", "ucs2", "8bit"))),
    "parts_count": _int("SMS parts.", 1),
    "idempotency_key": _maybe(_string()),
    "context": {"type": "object", "description": "The sender's context (outbound)."},
    "error": _maybe(_string("Why it failed.")),
    "user_id": _maybe(_int("The user (or the token's user) who sent it.")),
    "created_at": _time(),
    "updated_at": _time(),
    "network_at": _maybe(_time("Inbound: the network's timestamp.")),
    "sent_at": _maybe(_time()),
    "delivered_at": _maybe(_time()),
    "failed_at": _maybe(_time()),
}
MESSAGE = _object(
    "message",
    "A text, inbound or outbound. `parts` (the delivery state of each outbound part; "
    "empty for inbound) comes with a single message, not in lists.",
    {**_MESSAGE_FIELDS, "parts": {"type": "array", "items": ref("MessagePart")}},
)
assert isinstance(MESSAGE["required"], list)
MESSAGE["required"].remove("parts")

SEGMENTS = _object(
    "segments",
    "What a draft costs on the air.",
    {
        "encoding": _enum(("gsm7", "ucs2")),
        "parts": _int("SMS parts it needs.", 1),
        "units": _int("Septets (GSM-7) or UTF-16 code units (UCS-2).", 0),
        "units_per_part": _int("", 1),
        "units_left": _int("Left in the last part before another part is needed.", 0),
        "non_gsm_chars": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The characters that forced UCS-2.",
        },
        "max_parts": _int("[outbound] max_parts.", 1),
        "sendable": _bool("Not blank and within max_parts."),
    },
)

MODEM = _object(
    "modem",
    "A modem as the daemon last recorded it, with its queue.",
    {
        "name": _string(),
        "state": _string("starting, ready, sim_locked, no_network, offline..."),
        "signal_dbm": _maybe(_int()),
        "operator": _maybe(_string()),
        "registration": _maybe(_string()),
        "own_number": _maybe(_string()),
        "model": _maybe(_string()),
        "queue_depth": _int("Outbound parts queued for it.", 0),
        "last_error": _maybe(_string()),
        "updated_at": _time(),
    },
)

CONTACT = _object(
    "contact",
    "A customer, one per number.",
    {
        "id": _int("", 1),
        "number": _string("E.164, or a business sender's name (kind alphanumeric)."),
        "kind": _enum(_values(NumberKind)),
        "name": _maybe(_string()),
        "attributes": {"type": "object", "description": "Your fields."},
        "opted_out": _bool("Texted STOP (nothing is sent to them until START)."),
        "created_at": _time(),
        "updated_at": _time(),
    },
)

USER = _object(
    "user",
    "A person who signs in (tokens act as their user).",
    {
        "id": _int("", 1),
        "username": _string(),
        "display_name": _string(),
        "role": _enum(_values(UserRole)),
        "active": _bool(),
        "created_at": _time(),
        "last_login_at": _maybe(_time()),
    },
)

IDENTITY = _object(
    "identity",
    "Who is calling.",
    {
        "user": ref("User"),
        "method": _enum(("session", "token")),
        "actor": _string("The audit log's name for the caller (token:NAME#ID)."),
    },
)

AUDIT_EVENT = _object(
    "audit_event",
    "Who did what to which thing.",
    {
        "id": _int("", 1),
        "actor": _string(),
        "action": _string(),
        "subject": _string(),
        "detail": {"type": "object"},
        "at": _time(),
    },
)

HEALTH: JsonSchema = {
    "type": "object",
    "description": "Whether the box works (503 when the store does not answer).",
    "properties": {
        "ok": _bool(),
        "store": {
            "type": "object",
            "properties": {"ok": _bool()},
            "required": ["ok"],
        },
        "modems": {
            "type": "object",
            "properties": {
                "total": _int("", 0),
                "ready": _int("", 0),
                "states": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
            "required": ["total", "ready", "states"],
        },
        "queue": {
            "type": "object",
            "properties": {"unassigned": _int("", 0)},
            "required": ["unassigned"],
        },
    },
    "required": ["ok", "store", "modems", "queue"],
}

CONTACT_LIST = _list_of("Contact")
DELETED_CONTACT = _object(
    "contact",
    "A contact that is gone.",
    {"id": _int("", 1), "deleted": {"const": True}},
)

USER_BADGE = _object(
    None,
    "A user as the inbox names them.",
    {"id": _int("", 1), "username": _string(), "display_name": _string()},
)
CONTACT_BADGE = _object(
    None,
    "The contact of a conversation.",
    {
        "id": _int("", 1),
        "number": _string(),
        "name": _maybe(_string()),
        "kind": _enum(_values(NumberKind)),
        "opted_out": _bool(),
    },
)
MESSAGE_PREVIEW = _object(
    None,
    "A conversation's last message.",
    {
        "id": _int("", 1),
        "direction": _enum(_values(Direction)),
        "origin": _enum(_values(MessageOrigin)),
        "status": _enum(_values(MessageStatus)),
        "body": _string(),
        "created_at": _time(),
    },
)
_CONVERSATION_FIELDS: dict[str, JsonSchema] = {
    "id": _int("", 1),
    "status": _enum(_values(ConversationStatus)),
    "priority": _enum(_values(Priority)),
    "queue": _maybe(_string()),
    "modem": _maybe(
        _string("The modem the customer last texted (replies leave by it).")
    ),
    "contact": ref("ContactBadge"),
    "assignee": _maybe(ref("UserBadge")),
    "tags": {"type": "array", "items": {"type": "string"}},
    "last_message": _maybe(ref("MessagePreview")),
    "awaiting_reply": _bool("The customer's last text has had no agent reply since."),
    "unread_count": _int("Customer texts after the read marker.", 0),
    "created_at": _time(),
    "last_activity_at": _time(),
    "last_inbound_at": _maybe(_time()),
    "last_outbound_at": _maybe(_time()),
    "resolved_at": _maybe(_time()),
}
CONVERSATION = _object(
    "conversation", "A conversation with one customer.", _CONVERSATION_FIELDS
)
REPLY_CONTEXT = _object(
    None,
    "The outbound message (with a context) the customer's text most likely answers.",
    {
        "message_id": _int("", 1),
        "conversation_id": _int("", 1),
        "body": _string(),
        "context": {"type": "object"},
        "sent_at": _time(),
    },
)
THREAD_MESSAGE = _object(
    "thread_message",
    "A message in a thread, with each part's delivery state and its author.",
    {
        "id": _int("", 1),
        "direction": _enum(_values(Direction)),
        "origin": _enum(_values(MessageOrigin)),
        "status": _enum(_values(MessageStatus)),
        "body": _string(),
        "modem": _maybe(_string()),
        "encoding": _maybe(_enum(("gsm7", "ucs2", "8bit"))),
        "parts_count": _int("", 1),
        "parts": {"type": "array", "items": ref("MessagePart")},
        "author": _maybe(ref("UserBadge")),
        "context": {"type": "object"},
        "replying_to": _maybe(ref("ReplyContext")),
        "error": _maybe(_string()),
        "created_at": _time(),
        "network_at": _maybe(_time()),
        "sent_at": _maybe(_time()),
        "delivered_at": _maybe(_time()),
        "failed_at": _maybe(_time()),
    },
)
NOTE = _object(
    "note",
    "An internal note: agents see it in the thread; it is never sent.",
    {
        "id": _int("", 1),
        "conversation_id": _int("", 1),
        "author": _maybe(ref("UserBadge")),
        "body": _string(),
        "created_at": _time(),
    },
)
CONSENT_EVENT = _object(
    None,
    "A consent change of the number (opt-out, opt-in).",
    {
        "kind": _enum(("opt_out", "opt_in")),
        "source": _enum(("keyword", "agent", "api", "import")),
        "actor": _maybe(_string()),
        "message_id": _maybe(_int()),
        "at": _time(),
    },
)
CONVERSATION_BRIEF = _object(
    None,
    "Another conversation of the same customer.",
    {
        "id": _int("", 1),
        "status": _enum(_values(ConversationStatus)),
        "created_at": _time(),
        "last_activity_at": _time(),
        "resolved_at": _maybe(_time()),
        "last_message": _maybe(ref("MessagePreview")),
    },
)
_CONTACT_PROPERTIES = CONTACT["properties"]
assert isinstance(_CONTACT_PROPERTIES, dict)
CUSTOMER = _object(
    None,
    "The customer panel: the contact, its consent and its other conversations.",
    {
        **{k: v for k, v in _CONTACT_PROPERTIES.items() if isinstance(v, dict)},
        "consent": _object(
            None,
            "Whether the number is opted out now, since when and why.",
            {
                "opted_out": _bool(),
                "since": _maybe(_time()),
                "source": _maybe(_enum(("keyword", "agent", "api", "import"))),
            },
        ),
        "consent_history": {"type": "array", "items": ref("ConsentEvent")},
        "conversations": {"type": "array", "items": ref("ConversationBrief")},
    },
)
THREAD = _object(
    "conversation",
    "A conversation with its thread: the newest messages and the notes among them, "
    "oldest first; `older_before` (a message id) fetches the page before them.",
    {
        **_CONVERSATION_FIELDS,
        "context": {
            "type": "object",
            "description": "The merged contexts of the texts sent in it.",
        },
        "reopen_count": _int("", 0),
        "read_message_id": _maybe(_int("The read marker (shared by the team).")),
        "items": {
            "type": "array",
            "items": {"oneOf": [ref("ThreadMessage"), ref("Note")]},
        },
        "older_before": _maybe(_int("Pass as `before` for older messages.")),
        "customer": ref("Customer"),
    },
)

SCHEMAS: dict[str, JsonSchema] = {
    "Error": ERROR,
    "Message": MESSAGE,
    "MessagePart": MESSAGE_PART,
    "MessageList": _list_of("Message"),
    "Segments": SEGMENTS,
    "Modem": MODEM,
    "ModemList": _list_of("Modem"),
    "Contact": CONTACT,
    "ContactList": CONTACT_LIST,
    "DeletedContact": DELETED_CONTACT,
    "Conversation": CONVERSATION,
    "ConversationList": _list_of("Conversation"),
    "ConversationThread": THREAD,
    "ThreadMessage": THREAD_MESSAGE,
    "Note": NOTE,
    "ContactBadge": CONTACT_BADGE,
    "UserBadge": USER_BADGE,
    "MessagePreview": MESSAGE_PREVIEW,
    "ReplyContext": REPLY_CONTEXT,
    "Customer": CUSTOMER,
    "ConsentEvent": CONSENT_EVENT,
    "ConversationBrief": CONVERSATION_BRIEF,
    "User": USER,
    "UserList": _list_of("User"),
    "Identity": IDENTITY,
    "AuditEvent": AUDIT_EVENT,
    "AuditList": _list_of("AuditEvent"),
    "Health": HEALTH,
}

# ---------------------------------------------------------------------- errors

# aiohttp's HTTP parser refuses longer request lines and headers itself (plain text).
MAX_HTTP_LINE_BYTES = 8190

ERRORS: dict[int, str] = {
    400: "Invalid input (`invalid_input`, naming the `field`) or a body that is not "
    "a JSON object (`invalid_json`). A request whose request line or a header is "
    f"longer than {MAX_HTTP_LINE_BYTES} bytes is refused by the HTTP parser before the "
    "API sees it, in plain text.",
    401: "No valid bearer token or session (`unauthorized`).",
    403: "Not allowed: admins only (`forbidden`), or a session caller without the CSRF "
    "token (`csrf_rejected`).",
    404: "No such thing (`not_found`).",
    409: "Conflicts with the current state (`conflict`, `opted_out`).",
    413: "The body is larger than 1 MiB (`payload_too_large`).",
    415: "The body is not sent as application/json (`unsupported_media_type`).",
}


def _error_response(status: int) -> JsonDict:
    response: JsonDict = {
        "description": ERRORS[status],
        "content": {"application/json": {"schema": ref("Error")}},
    }
    if status == 400:
        content = response["content"]
        assert isinstance(content, dict)
        content["text/plain"] = {"schema": {"type": "string"}}
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "description": 'Bearer realm="smsgw"',
                "schema": {"type": "string"},
            }
        }
    return response


# ---------------------------------------------------------------------- operations


@dataclass(frozen=True, slots=True)
class Operation:
    """One route of web/routes.py as documented: `route` is its name there."""

    route: str
    method: str
    path: str
    tag: str
    summary: str
    ok: Mapping[int, tuple[str, str]]  # status -> (schema name, description)
    errors: tuple[int, ...] = ()  # beyond those implied (401, 403, 400, 413, 415)
    query: Query = NO_QUERY
    body: Body | None = None
    path_params: tuple[PathId | PathName, ...] = ()
    headers: tuple[JsonDict, ...] = ()
    description: str = ""

    def implied_errors(self, access: Access) -> set[int]:
        """The statuses the middleware may answer for this operation."""
        found = set(self.errors)
        if access is not Access.PUBLIC or self.path.startswith("/api/"):
            found.add(401)  # on /api/, a bad Authorization header is refused even here
        if access is Access.ADMIN or self.method in {"POST", "PATCH", "DELETE"}:
            found.add(403)
        if self.query.params or self.path_params or self.body is not None:
            found.add(400)
        if self.body is not None:
            found.update({413, 415})
        return found


_IDEMPOTENCY: JsonDict = {
    "name": schemas.IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "Send the same key again (after a timeout, say) and get the first "
    "message back with 200 instead of a second text; the same key with another "
    "recipient or text is 409. Keys are shared by the whole box: use UUIDs.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "api.messages.send",
        "POST",
        "/api/v1/messages",
        "messages",
        "Send a text",
        {
            201: ("Message", "Queued (committed before this answer)."),
            200: ("Message", "The message this idempotency key already queued."),
        },
        errors=(409,),
        body=schemas.SEND_MESSAGE,
        headers=(_IDEMPOTENCY,),
        description="The message is committed as `queued` before the answer; a "
        "modem sends it as soon as it can (pacing, retries, failover). Watch "
        "`status` here or through the message.status webhook.",
    ),
    Operation(
        "api.messages",
        "GET",
        "/api/v1/messages",
        "messages",
        "List messages",
        {200: ("MessageList", "Newest first.")},
        query=schemas.LIST_MESSAGES,
    ),
    Operation(
        "api.message",
        "GET",
        "/api/v1/messages/{id}",
        "messages",
        "Get a message with each part's delivery state",
        {200: ("Message", "The message, with `parts`.")},
        errors=(404,),
        path_params=(schemas.MESSAGE_ID,),
    ),
    Operation(
        "api.segments",
        "POST",
        "/api/v1/segments",
        "messages",
        "Count the SMS parts of a draft",
        {200: ("Segments", "Encoding, parts and characters left.")},
        body=schemas.COUNT_SEGMENTS,
    ),
    Operation(
        "api.modems",
        "GET",
        "/api/v1/modems",
        "modems",
        "List modems",
        {200: ("ModemList", "By name; one page.")},
    ),
    Operation(
        "api.modem",
        "GET",
        "/api/v1/modems/{name}",
        "modems",
        "Get a modem",
        {200: ("Modem", "The modem.")},
        errors=(404,),
        path_params=(schemas.MODEM_NAME,),
    ),
    Operation(
        "api.modem.test",
        "POST",
        "/api/v1/modems/{name}/test",
        "modems",
        "Send a test text through one modem",
        {201: ("Message", "Queued for this modem only (origin test).")},
        errors=(404, 409),
        body=schemas.TEST_MODEM,
        path_params=(schemas.MODEM_NAME,),
        description="Never failed over to another modem: the point is to try this "
        "one. 404 when the daemon never recorded such a modem.",
    ),
    Operation(
        "api.conversations",
        "GET",
        "/api/v1/conversations",
        "conversations",
        "List conversations",
        {200: ("ConversationList", "Newest activity first.")},
        query=schemas.LIST_CONVERSATIONS,
    ),
    Operation(
        "api.conversation",
        "GET",
        "/api/v1/conversations/{id}",
        "conversations",
        "Get a conversation with its thread and customer panel",
        {200: ("ConversationThread", "The conversation.")},
        errors=(404,),
        query=schemas.THREAD,
        path_params=(schemas.CONVERSATION_ID,),
    ),
    Operation(
        "api.conversation.assign",
        "POST",
        "/api/v1/conversations/{id}/assign",
        "conversations",
        "Assign to a user, or to nobody",
        {200: ("Conversation", "The conversation now.")},
        errors=(404,),
        body=schemas.ASSIGN,
        path_params=(schemas.CONVERSATION_ID,),
        description="404 for an unknown conversation or user; 400 for a disabled user.",
    ),
    Operation(
        "api.conversation.status",
        "POST",
        "/api/v1/conversations/{id}/status",
        "conversations",
        "Open, park (pending) or resolve",
        {200: ("Conversation", "The conversation now.")},
        errors=(404, 409),
        body=schemas.SET_STATUS,
        path_params=(schemas.CONVERSATION_ID,),
        description="Reopening a resolved conversation is 409 while the customer has "
        "another active one.",
    ),
    Operation(
        "api.conversation.priority",
        "POST",
        "/api/v1/conversations/{id}/priority",
        "conversations",
        "Set the priority",
        {200: ("Conversation", "The conversation now.")},
        errors=(404,),
        body=schemas.SET_PRIORITY,
        path_params=(schemas.CONVERSATION_ID,),
    ),
    Operation(
        "api.conversation.notes",
        "POST",
        "/api/v1/conversations/{id}/notes",
        "conversations",
        "Add an internal note",
        {201: ("Note", "The note.")},
        errors=(404,),
        body=schemas.ADD_NOTE,
        path_params=(schemas.CONVERSATION_ID,),
    ),
    Operation(
        "api.conversation.tags.add",
        "POST",
        "/api/v1/conversations/{id}/tags",
        "conversations",
        "Tag",
        {200: ("Conversation", "The conversation now.")},
        errors=(404,),
        body=schemas.TAGS,
        path_params=(schemas.CONVERSATION_ID,),
    ),
    Operation(
        "api.conversation.tags.remove",
        "DELETE",
        "/api/v1/conversations/{id}/tags",
        "conversations",
        "Untag (tags it does not have are ignored)",
        {200: ("Conversation", "The conversation now.")},
        errors=(404,),
        body=schemas.TAGS,
        path_params=(schemas.CONVERSATION_ID,),
    ),
    Operation(
        "api.conversation.reply",
        "POST",
        "/api/v1/conversations/{id}/reply",
        "conversations",
        "Reply to the customer as the caller (origin agent)",
        {
            201: ("Message", "Queued (committed before this answer)."),
            200: ("Message", "The message this idempotency key already queued."),
        },
        errors=(404, 409),
        body=schemas.REPLY,
        path_params=(schemas.CONVERSATION_ID,),
        headers=(_IDEMPOTENCY,),
        description="409 when the customer opted out or the idempotency key was used "
        "for another text; 400 (conversation_id) when the sender cannot be replied to.",
    ),
    Operation(
        "api.contacts",
        "GET",
        "/api/v1/contacts",
        "contacts",
        "List and search contacts",
        {200: ("ContactList", "In the order they were added.")},
        query=schemas.LIST_CONTACTS,
    ),
    Operation(
        "api.contacts.create",
        "POST",
        "/api/v1/contacts",
        "contacts",
        "Create a contact",
        {201: ("Contact", "The new contact.")},
        errors=(409,),
        body=schemas.CREATE_CONTACT,
        description="409 when the number already has a contact.",
    ),
    Operation(
        "api.contacts.lookup",
        "GET",
        "/api/v1/contacts/lookup",
        "contacts",
        "Find the contact of a number",
        {200: ("Contact", "The contact.")},
        errors=(404,),
        query=schemas.LOOKUP_CONTACT,
    ),
    Operation(
        "api.contact",
        "GET",
        "/api/v1/contacts/{id}",
        "contacts",
        "Get a contact",
        {200: ("Contact", "The contact.")},
        errors=(404,),
        path_params=(schemas.CONTACT_ID,),
    ),
    Operation(
        "api.contact.update",
        "PATCH",
        "/api/v1/contacts/{id}",
        "contacts",
        "Change a contact's name or attributes",
        {200: ("Contact", "The contact now.")},
        errors=(404,),
        body=schemas.UPDATE_CONTACT,
        path_params=(schemas.CONTACT_ID,),
    ),
    Operation(
        "api.contact.delete",
        "DELETE",
        "/api/v1/contacts/{id}",
        "contacts",
        "Delete a contact without conversations",
        {200: ("DeletedContact", "Gone.")},
        errors=(404, 409),
        path_params=(schemas.CONTACT_ID,),
        description="409 when the contact has conversations (history stays).",
    ),
    Operation(
        "api.me",
        "GET",
        "/api/v1/me",
        "account",
        "Who am I",
        {200: ("Identity", "The caller.")},
    ),
    Operation(
        "api.users",
        "GET",
        "/api/v1/users",
        "account",
        "List users (admins)",
        {200: ("UserList", "Every user; one page.")},
    ),
    Operation(
        "api.user",
        "GET",
        "/api/v1/users/{id}",
        "account",
        "Get a user (admins)",
        {200: ("User", "The user.")},
        errors=(404,),
        path_params=(schemas.USER_ID,),
    ),
    Operation(
        "api.audit",
        "GET",
        "/api/v1/audit",
        "account",
        "The audit log (admins)",
        {200: ("AuditList", "Newest first.")},
        query=schemas.LIST_AUDIT,
    ),
    Operation(
        "api.openapi",
        "GET",
        "/api/v1/openapi.json",
        "meta",
        "This document",
        {200: ("", "The OpenAPI document (no sign-in needed).")},
    ),
    Operation(
        "healthz",
        "GET",
        "/healthz",
        "meta",
        "Health check",
        {
            200: ("Health", "The store answers."),
            503: ("Health", "The store does not answer in time."),
        },
    ),
)

# Webhooks (web/api/webhooks.py) join OPERATIONS and SCHEMAS when they land.


def operations() -> tuple[Operation, ...]:
    """Every documented operation."""
    from web.api import (  # here: they import this module
        metrics_docs,
        template_docs,
        webhook_docs,
    )

    return (
        OPERATIONS
        + webhook_docs.OPERATIONS
        + template_docs.OPERATIONS
        + metrics_docs.OPERATIONS
    )


def _responses(op: Operation, access: Access) -> JsonDict:
    responses: JsonDict = {}
    for status, (schema, description) in sorted(op.ok.items()):
        body: JsonSchema = ref(schema) if schema else {"type": "object"}
        responses[str(status)] = {
            "description": description,
            "content": {"application/json": {"schema": body}},
        }
    for status in sorted(op.implied_errors(access)):
        responses[str(status)] = _error_response(status)
    return responses


def _operation(op: Operation, access: Access) -> JsonDict:
    parameters: list[JsonValue] = [p.parameter() for p in op.path_params]
    parameters += op.query.parameters()
    parameters += op.headers
    doc: JsonDict = {
        "operationId": op.route.removeprefix("api.").replace(".", "_"),
        "tags": [op.tag],
        "summary": op.summary,
        "x-access": access.value,
        "responses": _responses(op, access),
    }
    if op.description:
        doc["description"] = op.description
    if parameters:
        doc["parameters"] = parameters
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body.schema()}},
        }
    if access is Access.PUBLIC:
        doc["security"] = []
    return doc


def document(access: Mapping[str, Access]) -> JsonDict:
    """The whole document; `access` is the route table's (route name -> Access)."""
    paths: dict[str, JsonDict] = {}
    for op in operations():
        level = access.get(op.route, Access.USER)
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, level)
    from web.api import (  # here: they import this module
        metrics_docs,
        template_docs,
        webhook_docs,
    )

    components = {
        **SCHEMAS,
        **webhook_docs.SCHEMAS,
        **template_docs.SCHEMAS,
        **metrics_docs.SCHEMAS,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Send and read texts, work the shared inbox, and manage "
            "contacts and modems of an smsgw box. Authenticate with "
            "`Authorization: Bearer TOKEN` (`smsgw token create`). Success bodies are "
            'the resource itself, typed by `"object"`; lists are `{"object": "list", '
            '"data", "has_more", "next_cursor"}`; every error is the Error schema.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "tags": [
            {"name": "messages"},
            {"name": "conversations"},
            {"name": "contacts"},
            {"name": "modems"},
            {"name": "account"},
            {"name": "notifications"},
            {"name": "templates"},
            {"name": "metrics"},
            {"name": "meta"},
        ],
        "paths": paths,  # type: ignore[dict-item]
        "components": {
            "schemas": components,  # type: ignore[dict-item]
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from `smsgw token create`.",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "smsgw_session",
                    "description": "The console's session (state-changing calls "
                    "also need the X-CSRF-Token header).",
                },
            },
        },
    }
