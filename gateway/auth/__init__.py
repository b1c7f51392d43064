"""Who may use the box: users and roles, passwords, sessions, API tokens, the audit log.

Service layer only (no HTTP): `service.AuthService` is what the web layer and the CLI call.
The modules are imported by name (`gateway.auth.service`); this package imports nothing, so
storage can use its records without an import cycle.
"""
