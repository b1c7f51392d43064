"""Messages as the API reads them: one with its parts, or a filtered list."""

from __future__ import annotations
