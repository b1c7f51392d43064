"""`python -m modem.sim`."""

from __future__ import annotations

import sys

from modem.sim.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
