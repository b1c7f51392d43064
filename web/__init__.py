"""The web layer: the agents' console (HTML), the REST API (JSON) and health, over aiohttp.

`web.app.create_app(services, settings)` builds it; the daemon serves it. Handlers are thin:
parse, one service call, render. See docs/internals.md ("web") for how to add a page, an
API route or an event stream.
"""
