"""Read-only views the web console shows that no other service owns (yet): the modems with
their queue depth, the box's health, and a plain list of recent conversations.

`records` holds the values (no storage imports, so storage can return them);
`service.OverviewService` is what the web layer calls.
"""
