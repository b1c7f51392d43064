"""Proactive texts with reply options, scheduled sends and quiet hours."""
