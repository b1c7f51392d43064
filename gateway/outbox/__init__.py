"""The outbound path: a durable queue (service), one sender per modem (dispatcher), and the
pure rules they follow (retry schedule, pacing, modem choice)."""
