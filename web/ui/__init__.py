"""Handlers of the console's pages (HTML)."""
