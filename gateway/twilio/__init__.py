"""Twilio's Messaging API, spoken by the box: accounts (SID + auth token), the Messages
resource over the gateway's own messages, and Twilio-shaped webhooks through the durable
outbox (docs/internals.md, "Twilio-compatible API")."""
