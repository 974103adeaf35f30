"""A real node process for the crash tests: ingest records, then anchor, maybe dying.

Run as ``python -m tests.node.anchoring.crash_worker DATA_DIR RECORDS FAULTS``. Each
committed batch of records is printed as ``ACK <leaf hex>`` lines *after* its
transaction commits, so the parent knows exactly which records were acknowledged.
``FAULTS`` (e.g. ``after_sign:1``) makes the process SIGKILL itself at that point.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from vntrace.node.anchoring import AnchoringPipeline, EpochPolicy
from vntrace.node.chain import EmbeddedChain
from vntrace.node.faults import FaultPlan
from vntrace.node.merkle import pair_leaf_hash
from vntrace.node.store import Store
from vntrace.node.store.types import NewRecord


def main() -> None:
    data_dir, count, spec = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    faults = FaultPlan(spec)
    store = Store.for_data_dir(data_dir)
    store.fault_hook = faults.hit
    chain = EmbeddedChain(data_dir)
    address = bytes.fromhex("11" * 20)
    producer = store.get_producer_by_address(address) or store.add_producer(address, "Coop")
    lots = [
        store.create_or_get_lot(bytes([i]) * 32, "08930000000017", f"LOT-{i}", producer.id)[0]
        for i in range(1, 4)
    ]
    batch: list[NewRecord] = []
    for i in range(count):
        lot = lots[i % len(lots)]
        digest = os.urandom(32)
        batch.append(
            NewRecord(
                leaf=pair_leaf_hash(lot.lot_key, digest),
                lot_id=lot.id,
                producer_id=producer.id,
                digest=digest,
                salt=os.urandom(32),
                event_json=b"{}",
                signature=bytes(65),
            )
        )
        if len(batch) == 3 or i == count - 1:
            for row in store.add_records(batch):
                print("ACK", row.leaf.hex(), flush=True)
            batch = []
    pipeline = AnchoringPipeline(
        store, chain, EpochPolicy(seconds=0.0, max_records=4), faults=faults
    )
    pipeline.drain()
    print("DONE", flush=True)
    chain.close()


if __name__ == "__main__":
    main()
