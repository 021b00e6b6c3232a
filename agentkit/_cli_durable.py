"""DBOS for the command line: `agentkit batch --durable` and `agentkit worker`.

Both launch DBOS in this process with the agent made durable, and register the batch queue,
so that this process works on it: a worker on another machine, started with the same agent,
database and application version, shares the work. Imported only for those commands, so
that the rest of the CLI never imports DBOS.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ._version import __version__
from .agent import Agent

__all__ = ["BATCH_QUEUE", "add_durable_options", "batch_id_for", "durable_agent"]

BATCH_QUEUE = "agentkit-batch"
"""The DBOS queue that durable batches and workers share."""


def add_durable_options(parser: argparse.ArgumentParser) -> None:
    """The options every process of one durable deployment must agree on."""
    parser.add_argument(
        "--database", default=None, metavar="URL",
        help="the DBOS system database: postgresql://... for several machines, sqlite:///FILE "
        "for one (default: $DBOS_SYSTEM_DATABASE_URL, else sqlite in $AGENTKIT_HOME)")
    parser.add_argument(
        "--app-version", default=f"agentkit-{__version__}", metavar="V",
        help="pinned so that runs survive a deploy: only processes of the same version recover "
        "or take each other's runs (default: %(default)s)")
    parser.add_argument(
        "--executor-id", default=socket.gethostname(), metavar="ID",
        help="this worker's stable id: a restarted worker with the same id finishes the runs "
        "its predecessor left (default: the host name)")


def database_url(args: argparse.Namespace) -> str:
    """The system database the command line names, or the default one."""
    if args.database:
        return str(args.database)
    if os.environ.get("DBOS_SYSTEM_DATABASE_URL"):
        return os.environ["DBOS_SYSTEM_DATABASE_URL"]
    home = Path(os.environ.get("AGENTKIT_HOME") or "~/.agentkit").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'durable.sqlite'}"


def batch_id_for(out: str) -> str:
    """A batch's id from its results file: the same file is the same batch, so a rerun after
    a crash attaches to the runs already made."""
    path = str(Path(out).resolve())
    return f"batch-{hashlib.sha256(path.encode()).hexdigest()[:12]}"


@asynccontextmanager
async def durable_agent(
    agent: Agent[Any, Any], target: str, args: argparse.Namespace, *, concurrency: int
) -> AsyncIterator[tuple[Any, Any]]:
    """DBOS launched with `agent` made durable (named after `target` when it has no name),
    and the batch queue this process works on: `(durable_agent, queue)`; DBOS is shut down
    on leaving."""
    from dbos import DBOS

    from .durable import DurableAgent

    name = agent.name or re.sub(r"[^A-Za-z0-9_.-]", ".", target)
    DBOS(config={
        "name": "agentkit",
        "system_database_url": database_url(args),
        "application_version": args.app_version,
        "executor_id": args.executor_id,
        "log_level": "WARNING",  # DBOS's INFO lines would drown the progress display
    })
    try:
        durable = DurableAgent(agent, name=name)
        DBOS.launch()
        queue = await DBOS.register_queue_async(
            BATCH_QUEUE, worker_concurrency=concurrency, polling_interval_sec=0.2
        )
        yield durable, queue
    finally:
        DBOS.destroy()
