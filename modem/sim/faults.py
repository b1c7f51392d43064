"""Fault injection as data: what a misbehaving modem, cable or network does to the host."""

# `Faults` holds the standing knobs (latency, split reads, errors for the next k commands,
# ...); `FaultSpec` is what the control API and scenario files send: knobs to change plus
# one-shot actions (reboot, the port vanishing). Loading names the offending field.

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class FaultSpecError(ValueError):
    """A fault spec that cannot be applied; names the field."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(slots=True)
class Faults:
    """The standing faults of one simulated modem (all off by default)."""

    # bytes towards the host
    latency_ms: float = 0.0  # before every reply
    chunk_size: int = 0  # split output into reads of this many bytes (0: whole)
    random_split: bool = False  # split output at random points (seeded)
    chunk_delay_ms: float = 0.0  # between the chunks of a split write
    merge_ms: float = (
        0.0  # hold output this long so consecutive writes arrive as one read
    )
    drop_rate: float = 0.0  # probability that an output byte is lost
    garbage_hex: str = ""  # bytes injected before the next `garbage_count` replies
    garbage_count: int = 0
    urc_mid_response: str = ""  # a URC line put inside the next multi-line response
    seed: int = 0
    # command level
    cms_error: int = 0  # +CMS ERROR: <cms_error> ...
    cms_error_count: int = 0  # ... for this many commands
    cms_error_command: str = ""  # ... only for this command ("AT+CMGS"); "" for any
    hang: bool = False  # swallow every reply (no final result) until cleared
    hang_commands: int = 0  # or only for this many commands
    # state
    storage_full: bool = False
    no_network: bool = False

    @property
    def shapes_output(self) -> bool:
        """True when host-bound bytes are not simply written as they come."""
        return bool(
            self.latency_ms
            or self.chunk_size
            or self.random_split
            or self.chunk_delay_ms
            or self.merge_ms
            or self.drop_rate
            or self.garbage_count
            or self.urc_mid_response
        )

    @property
    def hanging(self) -> bool:
        return self.hang or self.hang_commands > 0

    def as_dict(self) -> dict[str, Any]:
        """The knobs that differ from the defaults (what GET /state shows)."""
        default = Faults()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }


_KNOBS: dict[str, type] = {
    f.name: type(getattr(Faults(), f.name)) for f in dataclasses.fields(Faults)
}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """A change of faults and one-shot actions, as sent to POST /faults."""

    knobs: dict[str, Any] = field(default_factory=dict)
    reboot: bool = False
    vanish_s: float = 0.0  # the port disappears for this long, then returns
    inject_urc: str = ""  # print this URC once, now

    @classmethod
    def from_dict(cls, data: object) -> FaultSpec:
        """Validate a JSON object; raises FaultSpecError naming the bad field."""
        if not isinstance(data, dict):
            raise FaultSpecError("(body)", "expected a JSON object")
        knobs: dict[str, Any] = {}
        reboot = False
        vanish_s = 0.0
        inject_urc = ""
        for key, value in data.items():
            if key == "reboot":
                reboot = _as(key, value, bool)
            elif key == "vanish_s":
                vanish_s = float(_as(key, value, float))
                if vanish_s < 0:
                    raise FaultSpecError(key, "must not be negative")
            elif key == "inject_urc":
                inject_urc = _as(key, value, str)
            elif key in _KNOBS:
                knobs[key] = _knob(key, value)
            else:
                raise FaultSpecError(str(key), "unknown fault")
        return cls(knobs, reboot, vanish_s, inject_urc)

    def apply_to(self, faults: Faults) -> None:
        """Set the knobs this spec names, leaving the others as they are."""
        for key, value in self.knobs.items():
            setattr(faults, key, value)


def _as(key: str, value: object, kind: type) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is int and isinstance(value, bool):
        raise FaultSpecError(key, "expected an integer")
    if not isinstance(value, kind):
        raise FaultSpecError(
            key, f"expected {kind.__name__}, got {type(value).__name__}"
        )
    return value


def _knob(key: str, value: object) -> Any:
    result = _as(key, value, _KNOBS[key])
    if isinstance(result, (int, float)) and not isinstance(result, bool) and result < 0:
        raise FaultSpecError(key, "must not be negative")
    if key == "drop_rate" and not 0.0 <= result <= 1.0:
        raise FaultSpecError(key, "must be between 0 and 1")
    if key == "garbage_hex":
        try:
            bytes.fromhex(result)
        except ValueError:
            raise FaultSpecError(key, "expected hex digits") from None
    return result


def load_scenario(path: Path) -> list[FaultSpec]:
    """A scenario file: one fault spec (a JSON object) or a list of them, applied in order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FaultSpecError(str(path), f"not JSON: {exc}") from exc
    items = data if isinstance(data, list) else [data]
    return [FaultSpec.from_dict(item) for item in items]
