"""A local, Grok-compatible server: a simulated model behind xAI's wire format.

`SimCore` turns requests into responses without I/O; `SimTransport` serves it in-process to
an httpx2 client; `serve` and `run_in_thread` put it on a loopback socket. The policy
(`SimulatedModel` by default, `scripted(...)` for fixed replies) decides what the assistant
says; `FaultPlan` and `Fault` make the server fail on demand.
"""

from __future__ import annotations

from .._server_limits import ServerLimits, ServerStats
from ._ratelimit import SimRateLimits
from .core import SimCore
from .faults import Fault, FaultPlan
from .policy import SimulatedModel, scripted
from .reply import Policy, SimReply, SimToolCall
from .server import run_in_thread, serve
from .transport import SimTransport

__all__ = [
    "Fault",
    "FaultPlan",
    "Policy",
    "ServerLimits",
    "ServerStats",
    "SimCore",
    "SimRateLimits",
    "SimReply",
    "SimToolCall",
    "SimTransport",
    "SimulatedModel",
    "run_in_thread",
    "scripted",
    "serve",
]
