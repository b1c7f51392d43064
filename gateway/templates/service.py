"""TemplateService: canned texts stored in the database, checked when saved, rendered
for a recipient (a conversation, or a number with a context) with a segment count.

What a template sees (gateway.templates.engine renders it, data only):
- `contact`: `number`, `id`, `name` and `first_name` (only when the contact has a name:
  use `| default("there")`), `attributes` (the contact's own fields);
- `conversation`: `id`, `status`, `priority`, `queue` (when set), `context` (merged from
  the texts sent with one: order ids, appointments...);
- `context`: the context at hand - a notification's own, or the conversation's;
- `agent`: `name` of the agent writing (the composer only);
- `option`: `key` and `value` of the reply option picked (confirmation texts only).
A variable without a value is an error naming it: nothing is sent with a blank.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gateway.domain import (
    ContactRecord,
    ConversationRecord,
    JsonObject,
    JsonValue,
    utcnow,
)
from gateway.errors import InvalidInput
from gateway.outbox.service import OutboundService, SegmentCount
from gateway.storage import template_queries
from gateway.templates import engine
from gateway.templates.records import TemplateRecord

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 500
MAX_SHORTCUT_CHARS = 32
SHORTCUT_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")

# The preview's data when the caller gives none for a root.
SAMPLE: dict[str, JsonValue] = {
    "contact": {
        "id": 1,
        "number": "+447700900123",
        "name": "Jamie Lee",
        "first_name": "Jamie",
        "attributes": {},
    },
    "conversation": {
        "id": 1,
        "status": "open",
        "priority": "normal",
        "context": {"order_id": "4839201"},
    },
    "context": {"order_id": "4839201"},
    "agent": {"name": "Alex"},
    "option": {"key": "1", "value": "confirm"},
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template's text for one recipient, and what it costs on the air."""

    text: str
    segments: SegmentCount
    template_id: int | None = None


def first_name(name: str | None) -> str | None:
    """The first word of a contact's name ("Jamie Lee" -> "Jamie"); None without one."""
    words = (name or "").split()
    return words[0] if words else None


def contact_variables(
    contact: ContactRecord | None, number: str
) -> dict[str, JsonValue]:
    """`contact` as a template sees it (keys without a value are left out)."""
    data: dict[str, JsonValue] = {"number": number, "attributes": {}}
    if contact is None:
        return data
    data["id"] = contact.id
    data["number"] = contact.number
    data["attributes"] = dict(contact.attributes)
    if contact.name:
        data["name"] = contact.name
        first = first_name(contact.name)
        if first:
            data["first_name"] = first
    return data


def conversation_variables(
    conversation: ConversationRecord | None, context: JsonObject | None = None
) -> dict[str, JsonValue]:
    """`conversation` as a template sees it; `context` is merged over its own."""
    merged: dict[str, JsonValue] = {}
    data: dict[str, JsonValue] = {}
    if conversation is not None:
        merged.update(conversation.context)
        data.update(
            id=conversation.id,
            status=conversation.status.value,
            priority=conversation.priority.value,
        )
        if conversation.queue:
            data["queue"] = conversation.queue
    merged.update(context or {})
    data["context"] = merged
    return data


def normalize_shortcut(text: str, *, field: str = "shortcut") -> str:
    """ "Late Delivery" -> "late-delivery"; InvalidInput when nothing usable is left."""
    word = unicodedata.normalize("NFKC", text).strip().casefold()
    word = re.sub(r"\s+", "-", word).lstrip("/")
    if not SHORTCUT_RE.fullmatch(word):
        raise InvalidInput(
            field,
            f"1 to {MAX_SHORTCUT_CHARS} of a-z, 0-9, '-' and '_', starting with a letter "
            "or digit",
        )
    return word


def _name(text: str, field: str = "name") -> str:
    name = " ".join(text.split())
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise InvalidInput(field, f"1 to {MAX_NAME_CHARS} characters")
    return name


def _description(text: str | None) -> str | None:
    if text is not None and len(text) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput("description", f"at most {MAX_DESCRIPTION_CHARS} characters")
    return text


class TemplateService:
    """Templates: CRUD (audited), checks, previews, renders for a recipient."""

    def __init__(
        self,
        store: Store,
        outbound: OutboundService,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._outbound = outbound
        self._clock = clock

    # -------------------------------------------------------------- CRUD

    async def list(self) -> list[TemplateRecord]:
        """Every template, by name."""
        return await self._store.read(template_queries.list_templates)

    async def get(self, template_id: int) -> TemplateRecord:
        return await self._store.read(template_queries.get_template, template_id)

    async def find(self, shortcut: str) -> TemplateRecord:
        """The template with this shortcut (a leading "/" is fine); NotFound otherwise."""
        word = normalize_shortcut(shortcut, field="template")
        return await self._store.read(template_queries.find_template, word)

    async def create(
        self,
        *,
        name: str,
        shortcut: str,
        body: str,
        description: str | None = None,
        actor: str,
    ) -> TemplateRecord:
        """Check and store a template; InvalidInput/TemplateInvalid naming the field,
        Conflict for a shortcut in use."""
        name, word = _name(name), normalize_shortcut(shortcut)
        self.check(body)
        record = await self._store.run(
            template_queries.create_template,
            name=name,
            shortcut=word,
            body=body,
            description=_description(description) or None,
            actor=actor,
            now=self._clock(),
        )
        _LOGGER.info("template %s (%s) created by %s", record.id, word, actor)
        return record

    async def update(
        self,
        template_id: int,
        *,
        name: str | None = None,
        shortcut: str | None = None,
        body: str | None = None,
        description: str | None = None,
        actor: str,
    ) -> TemplateRecord:
        """Change what is given (None: leave it; "" clears the description)."""
        if body is not None:
            self.check(body)
        return await self._store.run(
            template_queries.update_template,
            template_id,
            name=None if name is None else _name(name),
            shortcut=None if shortcut is None else normalize_shortcut(shortcut),
            body=body,
            description=_description(description),
            actor=actor,
            now=self._clock(),
        )

    async def delete(self, template_id: int, *, actor: str) -> TemplateRecord:
        record = await self._store.run(
            template_queries.delete_template,
            template_id,
            actor=actor,
            now=self._clock(),
        )
        _LOGGER.info("template %s deleted by %s", template_id, actor)
        return record

    # -------------------------------------------------------------- rendering

    @staticmethod
    def check(body: str, *, field: str = "body") -> None:
        """A template's text parses and uses only what the sandbox offers;
        TemplateInvalid naming line and column otherwise."""
        if not body.strip():
            raise InvalidInput(field, "the text is empty")
        engine.check(body, field=field)

    def render(
        self,
        template: TemplateRecord | str,
        contact: ContactRecord | None,
        conversation: ConversationRecord | None,
        extra: Mapping[str, JsonValue] | None = None,
        *,
        number: str | None = None,
        field: str = "body",
    ) -> str:
        """The text for this recipient. `extra` adds or replaces roots (`context`,
        `agent`, `option`); `context` defaults to the conversation's.

        Raises MissingVariable naming the variable, TemplateInvalid, RenderFailed.
        """
        source = template.body if isinstance(template, TemplateRecord) else template
        recipient = number or (contact.number if contact is not None else "")
        variables: dict[str, JsonValue] = {
            "contact": contact_variables(contact, recipient),
            "conversation": conversation_variables(conversation),
            "context": dict(conversation.context) if conversation is not None else {},
        }
        variables.update(extra or {})
        return engine.render(source, variables, field=field)

    def measure(self, text: str) -> SegmentCount:
        """The segment count of a rendered text (the composer's counter's rule)."""
        return self._outbound.count(text)

    def preview(
        self, body: str, sample: Mapping[str, JsonValue] | None = None
    ) -> Rendered:
        """A draft rendered with sample data (SAMPLE, each root replaceable)."""
        self.check(body)
        variables = {**SAMPLE, **(sample or {})}
        text = engine.render(body, variables)
        return Rendered(text, self.measure(text))

    async def render_in_conversation(
        self,
        template_id: int,
        conversation_id: int,
        *,
        user_id: int | None = None,
    ) -> Rendered:
        """A template's text for THIS conversation's customer (the composer's picker)."""
        template, (conversation, contact), agent = await self._store.read(
            _facts_unit, template_id, conversation_id, user_id
        )
        extra: dict[str, JsonValue] = {}
        if agent is not None:
            extra["agent"] = {"name": agent}
        text = self.render(template, contact, conversation, extra)
        return Rendered(text, self.measure(text), template.id)

    async def render_for_number(
        self,
        template_id: int,
        number: str,
        *,
        context: JsonObject | None = None,
    ) -> Rendered:
        """A template's text for a number (its contact and active conversation, if
        any), with `context` as a notification would carry it."""
        e164 = self._outbound.normalize(number, field="to")
        template = await self.get(template_id)
        contact, conversation = await self._store.read(
            template_queries.contact_facts, e164
        )
        text = self.render(
            template,
            contact,
            conversation,
            {
                "conversation": conversation_variables(conversation, context),
                "context": dict(context or {}),
            },
            number=e164,
        )
        return Rendered(text, self.measure(text), template.id)


def _facts_unit(
    template_id: int, conversation_id: int, user_id: int | None
) -> tuple[TemplateRecord, tuple[ConversationRecord, ContactRecord], str | None]:
    """ON THE DB THREAD: a template, a conversation with its contact, an agent's name."""
    return (
        template_queries.get_template(template_id),
        template_queries.conversation_facts(conversation_id),
        None if user_id is None else template_queries.user_name(user_id),
    )
