"""``vntrace serve``: run the node until Ctrl-C.

Opens the node described by the settings (embedded chain by default), starts the
anchoring loop and says where its data lives. SIGINT and SIGTERM stop it cleanly:
the loop finishes its current step, then the store and the chain are closed.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from vntrace.node.config import Settings
from vntrace.node.service import TraceNode


def serve(data_dir: Path | None = None, *, out: Any = print) -> int:
    """Run the node in the foreground; returns the process exit code."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with TraceNode.open(settings) as node:
        info = node.info()
        out(
            f"vntrace node: profile {info['profile']}, chain {info['chain']} "
            f"(id {info['chainId']}), registry {info['registry']}"
        )
        out(f"data folder:  {Path(settings.data_dir).resolve()}")
        out(
            f"anchoring:    every {settings.epoch_seconds:g}s or {settings.epoch_max_records} "
            "records; Ctrl-C to stop"
        )
        node.start()
        stop.wait()
        out("stopping: finishing the current anchoring step")
    return 0
