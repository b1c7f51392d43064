"""Values of the template service (no storage imports: storage builds them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TemplateRecord:
    id: int
    name: str
    shortcut: str
    body: str
    description: str | None
    created_at: datetime
    updated_at: datetime
    updated_by: str
