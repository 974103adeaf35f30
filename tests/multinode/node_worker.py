"""One real node process of the multi-node tests: intake from its own thread, anchoring
only while it holds the anchorer lock.

Run as ``python -m tests.multinode.node_worker NAME PRODUCER_KEY RECORDS BATCH PAUSE
LOOP_DELAY`` with the node's settings in ``VNTRACE_*`` variables (PostgreSQL URL, rpc chain, the
one operator key and registry address every process shares). ``PRODUCER_KEY`` signs
the records, as a producer's own device would; the anchoring loop starts LOOP_DELAY
seconds after the node opened (so a test can choose who leads first).

Its standard output is the parent's evidence, one line per fact, each flushed before
the next: ``ACK <leaf>`` once ``TraceNode.submit`` returned (committed), ``LOG <t>
<message>`` for every anchoring log line (leadership changes, anchored epochs), and
``INTAKE-DONE`` when all its batches are in. It then keeps anchoring (or standing by)
until SIGTERM, which stops the loop cleanly and releases the lock.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime

from eth_account import Account

from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.records import prepare_record
from vntrace.node.service import Submission, TraceNode

_out = threading.Lock()


def say(line: str) -> None:
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class _Evidence(logging.Handler):
    """Anchoring log lines, timestamped, to stdout (leadership and anchored epochs)."""

    def emit(self, record: logging.LogRecord) -> None:
        say(f"LOG {record.created:.6f} {record.getMessage()}")


def main() -> None:
    name, key, count, batch, pause, loop_delay = sys.argv[1:7]
    handler = _Evidence(level=logging.INFO)
    anchoring_log = logging.getLogger("vntrace.anchoring")
    anchoring_log.addHandler(handler)
    anchoring_log.setLevel(logging.INFO)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    node = TraceNode.open(Settings())
    node.loop.tick = 0.05
    node.loop.leader_retry = 0.2  # fail-over within a fifth of a second in the tests
    timer = threading.Timer(float(loop_delay), node.start)
    timer.start()
    try:
        account = Account.from_key(key)
        producer = node.producer(account.address)
        info = node.info()
        gtin = node.profile.gtins[0]
        packing = season_events(datetime.now(UTC))[4]
        total, size = int(count), int(batch)
        for start in range(0, total, size):
            if stop.is_set():
                break
            lot = f"MN-{(start // size) % 3}"  # lots shared by every process
            subs = []
            for i in range(start, min(start + size, total)):
                event = {**packing, "packageCount": 1 + i, "packageType": f"bag {name}"}
                signed = prepare_record(node.profile, gtin, lot, event).sign(
                    account, info["chainId"], info["registry"]
                )
                subs.append(Submission(signed.event, signed.salt, signed.signature))
            acks = node.submit(producer, gtin, lot, subs)
            say("".join(f"ACK {a.record_id}\n" for a in acks).rstrip("\n"))
            time.sleep(float(pause))
        say("INTAKE-DONE")
        stop.wait()
    finally:
        timer.cancel()
        node.close()
        say("CLOSED")


if __name__ == "__main__":
    main()
