"""Child process for the crash tests: does one store operation, then dies by SIGKILL.

Usage: python crash_child.py DATA_DIR|URL SCENARIO [ARG] (a data folder for the embedded
SQLite store, or any store URL, e.g. a PostgreSQL one). Acknowledged leaves (after
``add_records`` returned) are printed as hex lines, flushed, before anything else.
"""

from __future__ import annotations

import os
import random
import signal
import sys

from vntrace.node.merkle import pair_leaf_hash
from vntrace.node.store import NewRecord, Store


def die(_point: str = "") -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at(point: str):
    return lambda p: die() if p == point else None


def records(store: Store, n: int, rng: random.Random) -> list[NewRecord]:
    producer = store.list_producers()[0]
    lots = store.list_lots()
    out = []
    for i in range(n):
        lot = lots[i % len(lots)]
        digest = rng.randbytes(32)
        out.append(
            NewRecord(
                leaf=pair_leaf_hash(lot.lot_key, digest),
                lot_id=lot.id,
                producer_id=producer.id,
                digest=digest,
                salt=rng.randbytes(32),
                event_json=b'{"type":"drying","n":%d}' % i,
                signature=rng.randbytes(65),
            )
        )
    return out


def main() -> None:
    target, scenario = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else ""
    store = Store.open(target) if "://" in target else Store.for_data_dir(target)
    rng = random.Random(int.from_bytes(os.urandom(8)))
    if scenario == "add":  # ack batches forever (the parent kills us) or ARG batches, then die
        batches = int(arg) if arg else None
        done = 0
        while batches is None or done < batches:
            rows = store.add_records(records(store, 25, rng))
            sys.stdout.write("".join(r.leaf.hex() + "\n" for r in rows))
            sys.stdout.flush()
            done += 1
        die()
    elif scenario == "add-crash":  # die inside add_records, before its commit
        store.fault_hook = kill_at("add_records:inserted")
        store.add_records(records(store, 25, rng))
    elif scenario == "seal":  # die at ARG inside seal_epoch, or right after it returns
        store.fault_hook = kill_at(arg)
        epoch = store.seal_epoch(10_000)
        print(epoch.number if epoch else 0, flush=True)
        die()
    elif scenario == "anchor":  # die inside mark_anchored of epoch 1
        store.fault_hook = kill_at(arg)
        store.mark_anchored(1, b"\x01" * 32, 10, 1_700_000_000)
    raise SystemExit(f"scenario {scenario!r} did not die")


if __name__ == "__main__":
    main()
