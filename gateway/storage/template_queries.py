"""Units of work of the template service: CRUD with its audit entries, and what a
template is rendered with. Every function runs ON THE DB THREAD, inside `store.run`;
records out, never rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.domain import (
    ContactRecord,
    ConversationRecord,
    ConversationStatus,
    JsonValue,
)
from gateway.errors import Conflict, NotFound
from gateway.storage import queries
from gateway.storage.models import Conversation, User
from gateway.storage.notification_models import TemplateRow
from gateway.templates.records import TemplateRecord

MAX_TEMPLATES = 500  # the list is one page: the composer's picker filters it


def _record(row: Any) -> TemplateRecord:
    return TemplateRecord(
        id=row.id,
        name=row.name,
        shortcut=row.shortcut,
        body=row.body,
        description=row.description,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _row(template_id: int) -> Any:
    row = TemplateRow.get_or_none(TemplateRow.id == template_id)
    if row is None:
        raise NotFound("template", template_id)
    return row


def _shortcut_free(shortcut: str, template_id: int | None) -> None:
    other = TemplateRow.get_or_none(TemplateRow.shortcut == shortcut)
    if other is not None and other.id != template_id:
        raise Conflict(f"the shortcut {shortcut!r} is template {other.id}'s")


def list_templates() -> list[TemplateRecord]:
    """Every template, by name."""
    rows = TemplateRow.select().order_by(TemplateRow.name, TemplateRow.id)
    return [_record(row) for row in rows.limit(MAX_TEMPLATES)]


def get_template(template_id: int) -> TemplateRecord:
    return _record(_row(template_id))


def find_template(shortcut: str) -> TemplateRecord:
    """The template with this shortcut; NotFound otherwise."""
    row = TemplateRow.get_or_none(TemplateRow.shortcut == shortcut)
    if row is None:
        raise NotFound("template", shortcut)
    return _record(row)


def create_template(
    *,
    name: str,
    shortcut: str,
    body: str,
    description: str | None,
    actor: str,
    now: datetime,
) -> TemplateRecord:
    """A new template (Conflict when its shortcut is taken), audited."""
    _shortcut_free(shortcut, None)
    if TemplateRow.select().count() >= MAX_TEMPLATES:
        raise Conflict(f"at most {MAX_TEMPLATES} templates: delete one first")
    row = TemplateRow.create(
        name=name,
        shortcut=shortcut,
        body=body,
        description=description,
        created_at=now,
        updated_at=now,
        updated_by=actor,
    )
    queries.record_audit(
        actor,
        "template.create",
        f"template:{row.id}",
        now=now,
        detail={"shortcut": shortcut},
    )
    return _record(row)


def update_template(
    template_id: int,
    *,
    name: str | None,
    shortcut: str | None,
    body: str | None,
    description: str | None,
    actor: str,
    now: datetime,
) -> TemplateRecord:
    """Change what is given (None: leave it; an empty description clears it), audited."""
    row = _row(template_id)
    changed: list[JsonValue] = []
    if shortcut is not None and shortcut != row.shortcut:
        _shortcut_free(shortcut, template_id)
        row.shortcut = shortcut
        changed.append("shortcut")
    for key, value in (("name", name), ("body", body)):
        if value is not None and value != getattr(row, key):
            setattr(row, key, value)
            changed.append(key)
    if description is not None and (description or None) != row.description:
        row.description = description or None
        changed.append("description")
    if changed:
        row.updated_at = now
        row.updated_by = actor
        row.save()
        queries.record_audit(
            actor,
            "template.update",
            f"template:{template_id}",
            now=now,
            detail={"changed": changed},
        )
    return _record(row)


def delete_template(template_id: int, *, actor: str, now: datetime) -> TemplateRecord:
    row = _row(template_id)
    record = _record(row)
    row.delete_instance()
    queries.record_audit(
        actor,
        "template.delete",
        f"template:{template_id}",
        now=now,
        detail={"shortcut": record.shortcut},
    )
    return record


def conversation_facts(
    conversation_id: int,
) -> tuple[ConversationRecord, ContactRecord]:
    """A conversation and its contact, for rendering a template in it."""
    conversation = queries.get_conversation(conversation_id)
    return conversation, queries.get_contact(conversation.contact_id)


def contact_facts(
    number: str,
) -> tuple[ContactRecord | None, ConversationRecord | None]:
    """The contact with this number, if any, and their active conversation, if any."""
    contact = queries.find_contact(number)
    if contact is None:
        return None, None
    row = (
        Conversation.select()
        .where(
            (Conversation.contact == contact.id)
            & (Conversation.status != ConversationStatus.RESOLVED)
        )
        .first()
    )
    return contact, (None if row is None else queries.get_conversation(row.id))


def user_name(user_id: int) -> str | None:
    row = User.get_or_none(User.id == user_id)
    return None if row is None else str(row.display_name)
