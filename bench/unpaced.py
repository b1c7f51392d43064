"""`smsgw run` with per-SIM pacing lifted: what the pipeline can do, not what a SIM may.

    python -m bench.unpaced run --config PATH

The same daemon, code path and settings as `smsgw run`, except that each sender's token
bucket never runs dry. A real SIM is paced ([outbound] parts_per_minute, at most 600),
which would make a throughput benchmark measure the pacing. Benchmarks only.
"""

from __future__ import annotations

import sys

from gateway import cli
from gateway.outbox import pacing

UNPACED_PARTS_PER_MINUTE = 1e12
UNPACED_BURST_PARTS = 1_000_000


def _unpaced(
    cls: type[pacing.TokenBucket], parts_per_minute: float, now: float
) -> pacing.TokenBucket:
    del parts_per_minute
    return cls(UNPACED_PARTS_PER_MINUTE, UNPACED_BURST_PARTS, now)


if __name__ == "__main__":
    pacing.TokenBucket.for_parts_per_minute = classmethod(_unpaced)  # type: ignore[assignment]
    sys.exit(cli.main())
