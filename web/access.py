"""Who may call a route: every route in web/routes.py declares one of these."""

from __future__ import annotations

import enum


class Access(enum.StrEnum):
    PUBLIC = "public"  # no sign-in: the login form, /healthz, static files
    USER = "user"  # any signed-in user or API token (admin or agent)
    ADMIN = "admin"  # admins only (users, tokens, audit)
    # Twilio's API: HTTP Basic with a Twilio account's SID and auth token, never a session
    # or a bearer token (web/twilio/guard.py)
    TWILIO = "twilio"
    # Prometheus: [metrics] scrape_token as a bearer token, or a loopback client that came
    # through no proxy; never a session (web/prometheus.py)
    SCRAPE = "scrape"


# The route name of web/static: public, and served without looking up a session.
STATIC_ROUTE = "static"
