"""Twilio's Messaging API on the box's own messages (gateway.twilio): HTTP Basic with a
Twilio account, form-encoded requests, Twilio's JSON and error codes."""
