"""The README's few lines for checking a signature work on what the relay sends."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.webhooks import signing

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_verify() -> Any:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Webhooks") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the Webhooks section has a Python example"
    namespace: dict[str, Any] = {}
    exec(match[1], namespace)  # our own README, the code under test
    return namespace["verify"]


def test_the_readme_example_verifies_and_refuses() -> None:
    verify = readme_verify()
    secret, other = signing.new_secret(), signing.new_secret()
    body = b'{"id":"evt_1","type":"webhook.test","timestamp":"2026-03-01T09:00:00Z"}'
    headers = signing.headers("evt_1", int(time.time()), body, [other, secret])
    assert verify(secret, headers, body) == "evt_1"
    with pytest.raises(ValueError, match="bad signature"):
        verify(secret, headers, body + b" ")
    with pytest.raises(ValueError, match="bad signature"):
        verify(signing.new_secret(), headers, body)
    old = signing.headers("evt_1", int(time.time()) - 600, body, [secret])
    with pytest.raises(ValueError, match="too old"):
        verify(secret, old, body)
