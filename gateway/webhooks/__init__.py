"""The webhook relay: events recorded with the change they report, signed, delivered in
order per conversation, retried, dead-lettered and replayable (docs/internals.md)."""
