"""A cursor over PDU octets whose every shortfall is a PduDecodeError naming field and offset."""

from __future__ import annotations

from modem.errors import PduDecodeError


class Reader:
    """Reads fields front to back; never raises IndexError."""

    __slots__ = ("_data", "pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.pos = 0

    @property
    def remaining(self) -> int:
        """Octets not read yet."""
        return len(self._data) - self.pos

    def octet(self, field: str) -> int:
        """The next octet as an int."""
        if self.pos >= len(self._data):
            raise PduDecodeError(field, self.pos, "PDU ends before this field")
        value = self._data[self.pos]
        self.pos += 1
        return value

    def take(self, count: int, field: str) -> bytes:
        """The next `count` octets."""
        if count > self.remaining:
            raise PduDecodeError(
                field,
                self.pos,
                f"needs {count} octets, only {self.remaining} left",
            )
        chunk = self._data[self.pos : self.pos + count]
        self.pos += count
        return chunk
