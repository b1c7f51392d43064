"""The shape of a vendor profile: what differs between modem families, as data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RANGE = re.compile(r"\(([^)]*)\)")


def parse_ranges(test_reply: str) -> tuple[frozenset[int], ...]:
    """The allowed values per parameter of a test reply like `+CNMI: (0-2),(0,1)`."""
    allowed: list[frozenset[int]] = []
    for group in _RANGE.findall(test_reply):
        values: set[int] = set()
        for item in group.split(","):
            item = item.strip()
            if not item:
                continue
            low, _, high = item.partition("-")
            values.update(range(int(low), int(high or low) + 1))
        allowed.append(frozenset(values))
    return tuple(allowed)


@dataclass(frozen=True, slots=True)
class Profile:
    """One modem family: identity, defaults, reply formats and quirks."""

    name: str
    description: str
    manufacturer: str
    model: str
    revision: str
    echo_default: bool = True
    # storages in the order AT+CPMS=? lists them, with their capacity
    storages: tuple[tuple[str, int], ...] = (("SM", 30), ("ME", 100), ("SR", 20))
    mem1_choices: tuple[str, ...] = ("SM", "ME", "SR")
    mem2_choices: tuple[str, ...] = ("SM", "ME")
    mem3_choices: tuple[str, ...] = ("SM", "ME")
    cpms_default: tuple[str, str, str] = ("SM", "SM", "SM")
    first_index: int = 1
    cnmi_test: str = "+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"
    cnmi_default: tuple[int, int, int, int, int] = (2, 1, 0, 0, 0)
    cscs_choices: tuple[str, ...] = ("IRA", "GSM", "UCS2", "HEX", "8859-1", "PCCP437")
    # vendor ICCID commands: command name -> info line template
    iccid_commands: tuple[tuple[str, str], ...] = (("+CCID", "+CCID: {iccid}"),)
    # lines a freshly booted modem prints on its own; {cpin} is the SIM state
    boot_banners: tuple[str, ...] = ()
    # what a full message store prints; {mem} is the storage name
    memfull_urc: str | None = None
    # plain ERROR replacement for commands the family does not know
    unsupported_reply: str = "ERROR"
    # unsolicited noise printed after every `noise_every`-th command (Huawei's ^RSSI and friends)
    noise_urcs: tuple[str, ...] = ()
    noise_every: int = 0
    # vendor commands that just answer OK (power saving, URC routing switches)
    ok_commands: frozenset[str] = field(default_factory=frozenset)
    # where status reports go when CNMI ds=0 routes none to the host (gammu finds them by CMGL)
    ds0_storage: str = "SM"

    @property
    def cnmi_allowed(self) -> tuple[frozenset[int], ...]:
        """Per CNMI parameter, the values this family accepts."""
        return parse_ranges(self.cnmi_test)

    @property
    def cpms_test(self) -> str:
        """The AT+CPMS=? reply line."""
        groups = (self.mem1_choices, self.mem2_choices, self.mem3_choices)
        return "+CPMS: " + ",".join(
            "(" + ",".join(f'"{m}"' for m in g) + ")" for g in groups
        )
