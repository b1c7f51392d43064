"""Standard Webhooks signatures, checked against an independent reading of the spec:
signed content "{id}.{timestamp}.{body}", HMAC-SHA256 keyed with the base64 after
"whsec_", the header "v1," + base64 digest, several space-separated."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.webhooks import signing

# The key is 32 bytes 0x00..0x1f, so the secret is spelled out by hand, not by our code.
KEY = bytes(range(32))
SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def spec_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The spec, read independently: no code shared with gateway.webhooks.signing."""
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    mac = hmac.new(key, content, hashlib.sha256).digest()
    return "v1," + base64.standard_b64encode(mac).decode()


def test_the_secret_is_whsec_and_base64_of_the_key() -> None:
    assert signing.new_secret(KEY) == SECRET
    assert signing.secret_key(SECRET) == KEY
    made = signing.new_secret()
    assert made.startswith("whsec_")
    assert len(signing.secret_key(made)) == signing.SECRET_BYTES
    assert signing.new_secret() != made


@pytest.mark.parametrize(
    "bad", ["AAECAwQF", "whsec_", "whsec_not base64!", "WHSEC_AAECAwQF"]
)
def test_a_malformed_secret_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        signing.secret_key(bad)


def test_the_signature_is_the_specs() -> None:
    expected = spec_signature(KEY, MSG_ID, TIMESTAMP, BODY)
    assert signing.sign(SECRET, MSG_ID, TIMESTAMP, BODY) == expected
    headers = signing.headers(MSG_ID, TIMESTAMP, BODY, [SECRET])
    assert headers == {
        "webhook-id": MSG_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": expected,
    }


@given(
    key=st.binary(min_size=24, max_size=64),
    msg_id=st.text(
        st.characters(codec="ascii", exclude_categories=("Cc",)), min_size=1
    ),
    timestamp=st.integers(0, 2**40),
    body=st.binary(max_size=512),
)
def test_any_message_signs_as_the_spec_says(
    key: bytes, msg_id: str, timestamp: int, body: bytes
) -> None:
    secret = signing.new_secret(key)
    assert signing.sign(secret, msg_id, timestamp, body) == spec_signature(
        key, msg_id, timestamp, body
    )


def test_two_secrets_give_two_signatures_and_either_verifies() -> None:
    other = signing.new_secret(bytes(range(1, 33)))
    headers = signing.headers(MSG_ID, TIMESTAMP, BODY, [SECRET, other])
    first, second = headers["webhook-signature"].split(" ")
    assert first == spec_signature(KEY, MSG_ID, TIMESTAMP, BODY)
    assert second == spec_signature(bytes(range(1, 33)), MSG_ID, TIMESTAMP, BODY)
    for secret in (SECRET, other):
        assert signing.verify(secret, headers, BODY, now=TIMESTAMP) == MSG_ID


def test_verify_is_case_blind_about_header_names() -> None:
    headers = signing.headers(MSG_ID, TIMESTAMP, BODY, [SECRET])
    shouted = {k.title(): v for k, v in headers.items()}
    assert signing.verify(SECRET, shouted, BODY, now=TIMESTAMP + 299) == MSG_ID


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, b: (h, b + b" "), "no signature matches"),
        (lambda h, b: ({**h, "webhook-id": "msg_other"}, b), "no signature matches"),
        (lambda h, b: ({**h, "webhook-timestamp": "1614265331"}, b), "no signature"),
        (lambda h, b: ({**h, "webhook-timestamp": "soon"}, b), "not a number"),
        (
            lambda h, b: ({k: v for k, v in h.items() if k != "webhook-id"}, b),
            "missing header webhook-id",
        ),
        (
            lambda h, b: (
                {**h, "webhook-signature": "v2," + h["webhook-signature"][3:]},
                b,
            ),
            "no signature matches",
        ),
    ],
)
def test_verify_refuses_what_was_altered(change: object, reason: str) -> None:
    headers, body = change(  # type: ignore[operator]
        signing.headers(MSG_ID, TIMESTAMP, BODY, [SECRET]), BODY
    )
    with pytest.raises(signing.InvalidSignature, match=reason):
        signing.verify(SECRET, headers, body, now=TIMESTAMP)


def test_verify_refuses_a_wrong_secret_and_an_old_timestamp() -> None:
    headers = signing.headers(MSG_ID, TIMESTAMP, BODY, [SECRET])
    with pytest.raises(signing.InvalidSignature, match="no signature"):
        signing.verify(signing.new_secret(), headers, BODY, now=TIMESTAMP)
    with pytest.raises(signing.InvalidSignature, match="tolerance"):
        signing.verify(SECRET, headers, BODY, now=TIMESTAMP + 301)
    with pytest.raises(signing.InvalidSignature, match="tolerance"):
        signing.verify(SECRET, headers, BODY, now=TIMESTAMP - 301)
