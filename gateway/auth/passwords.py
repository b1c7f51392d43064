"""Password hashing with argon2id (argon2-cffi), off the event loop, and the password rules."""

from __future__ import annotations

import asyncio
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.errors import InvalidInput

# argon2-cffi's defaults (RFC 9106's second recommended profile: 64 MiB, 3 passes): about
# 50 ms on a desktop and a few hundred on a Raspberry Pi, per sign-in. Tests patch these.
TIME_COST = 3
MEMORY_COST_KIB = 65536
PARALLELISM = 4
# Hashing a megabyte of "password" would let one request burn the CPU.
MAX_PASSWORD_LENGTH = 1024


class Passwords:
    """Hashes and verifies passwords; the CPU-heavy work runs in a worker thread."""

    def __init__(self, *, min_length: int) -> None:
        self.min_length = min_length
        self._hasher = PasswordHasher(
            time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM
        )
        self._dummy_hash: str | None = None

    def check_rules(self, password: str, *, field: str = "password") -> None:
        """Raise InvalidInput naming `field` unless `password` is acceptable."""
        length = len(unicodedata.normalize("NFC", password))
        if length < self.min_length:
            raise InvalidInput(field, f"at least {self.min_length} characters")
        if length > MAX_PASSWORD_LENGTH:
            raise InvalidInput(field, f"at most {MAX_PASSWORD_LENGTH} characters")
        if password != password.strip():
            raise InvalidInput(field, "no spaces at the start or the end")

    async def hash(self, password: str) -> str:
        """The argon2id hash (with its own salt and parameters) of `password`."""
        return await asyncio.to_thread(self._hasher.hash, _normal(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether `password` matches; with no hash, spends the same time and says no."""
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        if stored_hash is None:
            # An unknown username costs what a known one does: timing tells nothing.
            if self._dummy_hash is None:
                self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
            stored_hash = self._dummy_hash
            await asyncio.to_thread(self._verify, stored_hash, password)
            return False
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with other parameters than today's."""
        return self._hasher.check_needs_rehash(stored_hash)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, _normal(password))
        except (VerificationError, InvalidHashError):
            return False


def _normal(password: str) -> str:
    # The same password typed on two keyboards may arrive composed or decomposed.
    return unicodedata.normalize("NFC", password)
