"""Handlers of the JSON endpoints: /healthz and the REST API under /api/v1."""
