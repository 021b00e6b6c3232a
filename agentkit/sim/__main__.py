"""`python -m agentkit.sim [--port N] [--api-key KEY] ...`: serve the simulated Grok API.

The same as `python -m agentkit.sim.server`, without runpy's warning about running a module
that the package has already imported.
"""

from __future__ import annotations

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
