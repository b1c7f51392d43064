"""The route table: every path, its method, handler, name and who may call it.

Add a page or an endpoint with one line here. Access is required: PUBLIC routes are
pinned by tests/web/test_access.py, so a new public route is a deliberate change.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from aiohttp import web
from aiohttp.typedefs import Handler

from web import prometheus
from web.access import STATIC_ROUTE, Access
from web.api import (
    contacts,
    conversations,
    docs,
    health,
    messages,
    modems,
    segments,
    v1,
)
from web.api import metrics as api_metrics
from web.api import notifications as api_notifications
from web.api import templates as api_templates
from web.api import webhooks as api_webhooks
from web.keys import ACCESS
from web.twilio import messages as twilio_messages
from web.ui import admin, dashboard, inbox, live, session
from web.ui import automation as ui_automation
from web.ui import contacts as ui_contacts
from web.ui import modems as ui_modems
from web.ui import templates as ui_templates
from web.ui import twilio as ui_twilio
from web.ui import webhooks as ui_webhooks


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    name: str
    access: Access


CONVERSATION = "/api/v1/conversations/{id}"
UI_CONVERSATION = r"/conversations/{id:\d+}"
UI_CONTACT = r"/contacts/{id:\d+}"

UI_HOOK = "/webhooks/endpoints/{id}"
API_HOOK = "/api/v1/webhooks/endpoints/{id}"
API_TEMPLATE = "/api/v1/templates/{id}"
UI_TWILIO = "/twilio/accounts/{sid}"
UI_OPTION = r"/automation/triage/options/{id:\d+}"
UI_FLOW = r"/automation/flows/{id:\d+}"
UI_RULE = r"/automation/routing/{id:\d+}"
UI_QUEUE = r"/automation/queues/{id:\d+}"
UI_TEMPLATE = r"/templates/{id:\d+}"
TWILIO_MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages"

# fmt: off
ROUTES: tuple[Route, ...] = (
    # signing in
    Route("GET", "/login", session.login_form, "login", Access.PUBLIC),
    Route("POST", "/login", session.login_submit, "login.submit", Access.PUBLIC),
    Route("POST", "/logout", session.logout, "logout", Access.USER),
    # the console
    Route("GET", "/", inbox.inbox, "inbox", Access.USER),
    Route("GET", "/inbox/list", inbox.list_fragment, "inbox.list", Access.USER),
    Route("GET", UI_CONVERSATION, inbox.conversation, "inbox.conversation", Access.USER),
    Route("GET", f"{UI_CONVERSATION}/thread", inbox.thread_fragment, "inbox.thread",
          Access.USER),
    Route("POST", f"{UI_CONVERSATION}/reply", inbox.reply, "inbox.reply", Access.USER),
    Route("POST", f"{UI_CONVERSATION}/template", inbox.use_template, "inbox.template",
          Access.USER),
    Route("POST", f"{UI_CONVERSATION}/notes", inbox.add_note, "inbox.note", Access.USER),
    Route("POST", f"{UI_CONVERSATION}/assign", inbox.assign, "inbox.assign", Access.USER),
    Route("POST", f"{UI_CONVERSATION}/status", inbox.set_status, "inbox.status", Access.USER),
    Route("POST", f"{UI_CONVERSATION}/priority", inbox.set_priority, "inbox.priority",
          Access.USER),
    Route("POST", f"{UI_CONVERSATION}/tags", inbox.add_tags, "inbox.tag", Access.USER),
    Route("POST", f"{UI_CONVERSATION}/tags/remove", inbox.remove_tag, "inbox.untag",
          Access.USER),
    Route("POST", f"{UI_CONVERSATION}/read", inbox.mark_read, "inbox.read", Access.USER),
    Route("GET", "/events/inbox", live.inbox_events, "events.inbox", Access.USER),
    Route("GET", "/dashboard", dashboard.page, "dashboard", Access.USER),
    Route("GET", "/dashboard/export.csv", dashboard.export_csv, "dashboard.export",
          Access.USER),
    Route("GET", "/contacts", ui_contacts.index, "contacts", Access.USER),
    Route("POST", "/contacts", ui_contacts.create, "contacts.create", Access.USER),
    Route("GET", "/contacts/export.csv", ui_contacts.export_csv, "contacts.export",
          Access.USER),
    Route("POST", "/contacts/import", ui_contacts.import_csv, "contacts.upload", Access.USER),
    Route("GET", UI_CONTACT, ui_contacts.show, "contact", Access.USER),
    Route("POST", UI_CONTACT, ui_contacts.update, "contact.update", Access.USER),
    Route("GET", "/modems", ui_modems.index, "modems", Access.USER),
    Route("POST", "/modems/test", ui_modems.send_test, "modems.test", Access.USER),
    Route("GET", "/templates", ui_templates.index, "templates", Access.USER),
    Route("POST", "/templates", ui_templates.create, "templates.create", Access.ADMIN),
    Route("GET", UI_TEMPLATE, ui_templates.show, "template", Access.USER),
    Route("POST", UI_TEMPLATE, ui_templates.update, "template.update", Access.ADMIN),
    Route("POST", f"{UI_TEMPLATE}/delete", ui_templates.delete, "template.delete",
          Access.ADMIN),
    Route("GET", "/webhooks", ui_webhooks.page, "webhooks", Access.ADMIN),
    Route("POST", "/webhooks/endpoints", ui_webhooks.create, "webhooks.create", Access.ADMIN),
    Route("GET", UI_HOOK, ui_webhooks.endpoint, "webhooks.endpoint", Access.ADMIN),
    Route("POST", UI_HOOK, ui_webhooks.update, "webhooks.update", Access.ADMIN),
    Route("POST", f"{UI_HOOK}/rotate", ui_webhooks.rotate, "webhooks.rotate", Access.ADMIN),
    Route("POST", f"{UI_HOOK}/test", ui_webhooks.send_test, "webhooks.test", Access.ADMIN),
    Route("POST", f"{UI_HOOK}/replay-dead", ui_webhooks.replay_dead, "webhooks.replay_dead",
          Access.ADMIN),
    Route("POST", f"{UI_HOOK}/delete", ui_webhooks.delete, "webhooks.delete", Access.ADMIN),
    Route("GET", "/webhooks/deliveries/{id}", ui_webhooks.delivery, "webhooks.delivery",
          Access.ADMIN),
    Route("POST", "/webhooks/deliveries/{id}/replay", ui_webhooks.replay,
          "webhooks.delivery.replay", Access.ADMIN),
    Route("GET", "/twilio", ui_twilio.page, "twilio", Access.ADMIN),
    Route("POST", "/twilio/accounts", ui_twilio.create, "twilio.create", Access.ADMIN),
    Route("GET", UI_TWILIO, ui_twilio.account, "twilio.account", Access.ADMIN),
    Route("POST", UI_TWILIO, ui_twilio.update, "twilio.update", Access.ADMIN),
    Route("POST", f"{UI_TWILIO}/rotate", ui_twilio.rotate, "twilio.rotate", Access.ADMIN),
    # automation (admins): web/ui/automation.py; the availability toggle is everyone's
    Route("GET", "/automation", ui_automation.page, "automation", Access.ADMIN),
    Route("POST", "/automation/settings", ui_automation.save_settings,
          "automation.settings", Access.ADMIN),
    Route("POST", "/automation/settings/reset", ui_automation.reset_settings,
          "automation.settings.reset", Access.ADMIN),
    Route("POST", "/automation/triage", ui_automation.save_triage, "automation.triage",
          Access.ADMIN),
    Route("POST", "/automation/triage/options", ui_automation.create_option,
          "automation.option.create", Access.ADMIN),
    Route("POST", UI_OPTION, ui_automation.update_option, "automation.option.update",
          Access.ADMIN),
    Route("POST", f"{UI_OPTION}/delete", ui_automation.delete_option,
          "automation.option.delete", Access.ADMIN),
    Route("POST", "/automation/flows", ui_automation.create_flow, "automation.flow.create",
          Access.ADMIN),
    Route("POST", UI_FLOW, ui_automation.update_flow, "automation.flow.update", Access.ADMIN),
    Route("POST", f"{UI_FLOW}/delete", ui_automation.delete_flow, "automation.flow.delete",
          Access.ADMIN),
    Route("POST", "/automation/routing", ui_automation.create_rule, "automation.rule.create",
          Access.ADMIN),
    Route("POST", UI_RULE, ui_automation.update_rule, "automation.rule.update", Access.ADMIN),
    Route("POST", f"{UI_RULE}/delete", ui_automation.delete_rule, "automation.rule.delete",
          Access.ADMIN),
    Route("POST", "/automation/queues", ui_automation.create_queue,
          "automation.queue.create", Access.ADMIN),
    Route("POST", UI_QUEUE, ui_automation.update_queue, "automation.queue.update",
          Access.ADMIN),
    Route("POST", f"{UI_QUEUE}/delete", ui_automation.delete_queue,
          "automation.queue.delete", Access.ADMIN),
    Route("POST", "/automation/test", ui_automation.run_test, "automation.test",
          Access.ADMIN),
    Route("POST", "/me/availability", ui_automation.set_availability, "availability",
          Access.USER),
    Route("GET", "/users", admin.users, "users", Access.ADMIN),
    Route("POST", "/users", admin.add_user, "users.add", Access.ADMIN),
    Route("POST", "/users/{username}/disable", admin.disable_user, "users.disable", Access.ADMIN),
    Route("POST", "/users/{username}/enable", admin.enable_user, "users.enable", Access.ADMIN),
    Route("GET", "/tokens", admin.tokens, "tokens", Access.ADMIN),
    Route("POST", "/tokens/{id}/revoke", admin.revoke_token, "tokens.revoke", Access.ADMIN),
    Route("GET", "/audit", admin.audit, "audit", Access.ADMIN),
    # JSON
    Route("GET", "/healthz", health.healthz, "healthz", Access.PUBLIC),
    Route("GET", prometheus.METRICS_PATH, prometheus.metrics, "metrics", Access.SCRAPE),
    Route("GET", "/api/v1/openapi.json", docs.openapi, "api.openapi", Access.PUBLIC),
    Route("GET", "/api/v1/me", v1.me, "api.me", Access.USER),
    Route("POST", "/api/v1/messages", messages.send, "api.messages.send", Access.USER),
    Route("GET", "/api/v1/messages", messages.list_messages, "api.messages", Access.USER),
    Route("GET", "/api/v1/messages/{id}", messages.get, "api.message", Access.USER),
    Route("POST", "/api/v1/segments", segments.count, "api.segments", Access.USER),
    Route("GET", "/api/v1/modems", modems.list_modems, "api.modems", Access.USER),
    Route("GET", "/api/v1/modems/{name}", modems.get, "api.modem", Access.USER),
    Route("POST", "/api/v1/modems/{name}/test", modems.send_test, "api.modem.test", Access.USER),
    Route("GET", "/api/v1/conversations", conversations.list_conversations,
          "api.conversations", Access.USER),
    Route("GET", "/api/v1/conversations/{id}", conversations.get, "api.conversation", Access.USER),
    Route("POST", f"{CONVERSATION}/assign", conversations.assign,
          "api.conversation.assign", Access.USER),
    Route("POST", f"{CONVERSATION}/status", conversations.set_status,
          "api.conversation.status", Access.USER),
    Route("POST", f"{CONVERSATION}/priority", conversations.set_priority,
          "api.conversation.priority", Access.USER),
    Route("POST", f"{CONVERSATION}/notes", conversations.add_note,
          "api.conversation.notes", Access.USER),
    Route("POST", f"{CONVERSATION}/tags", conversations.add_tags,
          "api.conversation.tags.add", Access.USER),
    Route("DELETE", f"{CONVERSATION}/tags", conversations.remove_tags,
          "api.conversation.tags.remove", Access.USER),
    Route("POST", f"{CONVERSATION}/reply", conversations.reply,
          "api.conversation.reply", Access.USER),
    Route("GET", "/api/v1/contacts", contacts.list_contacts, "api.contacts", Access.USER),
    Route("POST", "/api/v1/contacts", contacts.create, "api.contacts.create", Access.USER),
    Route("GET", "/api/v1/contacts/lookup", contacts.lookup, "api.contacts.lookup", Access.USER),
    Route("GET", "/api/v1/contacts/{id}", contacts.get, "api.contact", Access.USER),
    Route("PATCH", "/api/v1/contacts/{id}", contacts.update, "api.contact.update", Access.USER),
    Route("DELETE", "/api/v1/contacts/{id}", contacts.delete, "api.contact.delete", Access.USER),
    Route("GET", "/api/v1/users", v1.users, "api.users", Access.ADMIN),
    Route("GET", "/api/v1/users/{id}", v1.user, "api.user", Access.ADMIN),
    Route("GET", "/api/v1/audit", v1.audit, "api.audit", Access.ADMIN),
    Route("GET", "/api/v1/metrics", api_metrics.report, "api.metrics", Access.USER),
    # webhooks (admins): web/api/webhooks.py
    Route("GET", "/api/v1/webhooks/endpoints", api_webhooks.list_endpoints,
          "api.webhooks.endpoints", Access.ADMIN),
    Route("POST", "/api/v1/webhooks/endpoints", api_webhooks.create_endpoint,
          "api.webhooks.endpoints.create", Access.ADMIN),
    Route("GET", API_HOOK, api_webhooks.get_endpoint, "api.webhooks.endpoint", Access.ADMIN),
    Route("PATCH", API_HOOK, api_webhooks.update_endpoint, "api.webhooks.endpoint.update",
          Access.ADMIN),
    Route("DELETE", API_HOOK, api_webhooks.delete_endpoint, "api.webhooks.endpoint.delete",
          Access.ADMIN),
    Route("POST", f"{API_HOOK}/rotate-secret", api_webhooks.rotate_secret,
          "api.webhooks.endpoint.rotate", Access.ADMIN),
    Route("POST", f"{API_HOOK}/test", api_webhooks.send_test, "api.webhooks.endpoint.test",
          Access.ADMIN),
    Route("POST", f"{API_HOOK}/replay-dead", api_webhooks.replay_dead,
          "api.webhooks.endpoint.replay_dead", Access.ADMIN),
    Route("GET", "/api/v1/webhooks/deliveries", api_webhooks.list_deliveries,
          "api.webhooks.deliveries", Access.ADMIN),
    Route("GET", "/api/v1/webhooks/deliveries/{id}", api_webhooks.get_delivery,
          "api.webhooks.delivery", Access.ADMIN),
    Route("POST", "/api/v1/webhooks/deliveries/{id}/replay", api_webhooks.replay_delivery,
          "api.webhooks.delivery.replay", Access.ADMIN),
    # templates and notifications: web/api/templates.py, web/api/notifications.py
    Route("GET", "/api/v1/templates", api_templates.list_templates, "api.templates",
          Access.USER),
    Route("POST", "/api/v1/templates", api_templates.create_template,
          "api.templates.create", Access.ADMIN),
    Route("POST", "/api/v1/templates/preview", api_templates.preview_template,
          "api.templates.preview", Access.USER),
    Route("GET", API_TEMPLATE, api_templates.get_template, "api.template", Access.USER),
    Route("PATCH", API_TEMPLATE, api_templates.update_template, "api.template.update",
          Access.ADMIN),
    Route("DELETE", API_TEMPLATE, api_templates.delete_template, "api.template.delete",
          Access.ADMIN),
    Route("POST", f"{API_TEMPLATE}/render", api_templates.render_template,
          "api.template.render", Access.USER),
    Route("POST", "/api/v1/notifications", api_notifications.send,
          "api.notifications.send", Access.USER),
    Route("GET", "/api/v1/notifications", api_notifications.list_notifications,
          "api.notifications", Access.USER),
    Route("GET", "/api/v1/notifications/{id}", api_notifications.get, "api.notification",
          Access.USER),
    # Twilio's Messaging API (HTTP Basic with a Twilio account): web/twilio/
    Route("POST", f"{TWILIO_MESSAGES}.json", twilio_messages.create,
          "twilio.messages.create", Access.TWILIO),
    Route("GET", f"{TWILIO_MESSAGES}.json", twilio_messages.list_messages,
          "twilio.messages", Access.TWILIO),
    Route("GET", TWILIO_MESSAGES + "/{Sid}.json", twilio_messages.fetch, "twilio.message",
          Access.TWILIO),
)
# fmt: on


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES) -> None:
    """Add the routes and the static files; record each route's Access for the auth
    middleware."""
    access: dict[str, Access] = {}
    for route in routes:
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
        access[route.name] = route.access
    static_dir = resources.files("web") / "static"
    app.router.add_static(
        "/static/", str(static_dir), name=STATIC_ROUTE, append_version=True
    )
    access[STATIC_ROUTE] = Access.PUBLIC
    app[ACCESS] = access
