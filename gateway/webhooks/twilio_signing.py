"""PURE: X-Twilio-Signature, computed as Twilio computes it.

The string signed is the URL exactly as configured (scheme, host, port, path, query)
followed by every POST parameter, sorted by name, each as its name then its value with
nothing between; the signature is base64 of HMAC-SHA1 over it with the account's auth
token as the key. Receivers check it with Twilio's own helper libraries
(`twilio.request_validator.RequestValidator`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

SIGNATURE_HEADER = "X-Twilio-Signature"


def signed_text(url: str, params: Mapping[str, str]) -> str:
    """What is signed: the URL, then name + value of each parameter in name order."""
    return url + "".join(name + params[name] for name in sorted(params))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature value of a form POST of `params` to `url`."""
    mac = hmac.new(
        auth_token.encode("utf-8"),
        signed_text(url, params).encode("utf-8"),
        hashlib.sha1,
    )
    return base64.b64encode(mac.digest()).decode("ascii")
