"""Support automation: triage, collection of details, takeover, routing, business hours.

`rules` and `schedule` are PURE (no I/O: the import-linter contract "automation rules are
pure" pins it); `runner` applies their decisions inside the inbound unit of work.
"""
