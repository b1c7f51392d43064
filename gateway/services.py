"""`Services`: what the daemon builds and the web layer (issue 4) will be handed.

The web app takes this object and calls services only; it never sees the store, peewee or
a modem (import-linter forbids it).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.audit import AuditLog
from gateway.auth.service import AuthService
from gateway.automation.service import AutomationService
from gateway.compliance import ComplianceService
from gateway.config import Settings
from gateway.events import EventBus
from gateway.inbound import InboundService
from gateway.inbox.contacts import ContactsService
from gateway.inbox.service import InboxService
from gateway.messages.service import MessageService
from gateway.metrics.prometheus import OpsMetrics
from gateway.metrics.service import MetricsService
from gateway.modems import ModemFleet
from gateway.notifications.service import NotificationService
from gateway.outbox.dispatcher import Dispatcher
from gateway.outbox.service import OutboundService
from gateway.overview.service import OverviewService
from gateway.templates.service import TemplateService
from gateway.twilio.service import TwilioService
from gateway.webhooks.service import WebhookService


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    bus: EventBus
    contacts: ContactsService  # the contact book: CRUD, search, CSV (a ContactService)
    outbound: OutboundService
    compliance: ComplianceService
    inbound: InboundService
    modems: ModemFleet
    dispatcher: Dispatcher
    auth: AuthService  # users, sessions, API tokens
    audit: AuditLog
    overview: OverviewService  # modems with their queues, health, recent conversations
    webhooks: WebhookService  # endpoints, deliveries, replay, test events
    messages: MessageService  # messages of both directions, read by the API
    inbox: InboxService  # conversation lists, threads, assign/status/tags/notes/reply
    metrics: MetricsService  # support metrics reports; CSAT surveys going out
    ops: OpsMetrics  # the operations metrics for Prometheus (/metrics)
    automation: AutomationService  # rules, queues, availability, the rule tester
    templates: TemplateService  # canned texts: CRUD, checks, renders with segments
    notifications: NotificationService  # proactive texts with reply options
    twilio: TwilioService  # the Twilio-compatible API: accounts, Messages
