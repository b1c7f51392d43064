"""The README's Twilio example runs as written against the box (its base URL and the
account's credentials swapped in)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from twiliohelpers import call, twilio_box

README = Path(__file__).resolve().parents[3] / "README.md"
EXAMPLE_URL = "http://smsgw.local:8080"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Twilio-compatible API") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "the Twilio section has a Python example"
    assert EXAMPLE_URL in match[1]
    return match[1]


async def test_the_readme_example_sends_and_lists(tmp_path: Path) -> None:
    code = readme_example()
    async with twilio_box(tmp_path) as box:
        printed: list[tuple[Any, ...]] = []
        namespace: dict[str, Any] = {
            "ACCOUNT_SID": box.account.account.sid,
            "AUTH_TOKEN": box.account.auth_token,
            "print": lambda *args: printed.append(args),
        }
        # our own README, the code under test; only the base URL is the test's
        await call(lambda: exec(code.replace(EXAMPLE_URL, box.base_url), namespace))
        message = namespace["message"]
        assert (message.status, message.to) == ("queued", "+447700900123")
        assert printed[0] == (message.sid, "queued")
        assert [args[2] for args in printed[1:]] == ["Your order A-1042 has shipped."]
