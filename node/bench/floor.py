"""What bounds the end-to-end figures: the node's per-record costs in one Python process.

Each step of intake and verification is timed on its own, in this process, on records
of the benchmark's workload (best of several rounds), and so are the node's service
calls without HTTP (``TraceNode.submit``, ``verify_bundles``, ``bundle``) on a node
opened in a temporary folder (embedded chain, SQLite). A single node process holds the
GIL for all of them, so ``1e6 / (µs per record)`` is what one process can reach, whatever
its HTTP layer does; the report sets the targets against these floors.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account

from .signing import EventSigner


def _best(fn: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best


def _per_item_us(fn: Callable[[], int], rounds: int) -> float:
    """µs per item of the fastest round (``fn`` returns the items it did)."""
    best = float("inf")
    for _ in range(rounds):
        began = time.perf_counter()
        items = fn()
        best = min(best, (time.perf_counter() - began) / max(1, items))
    return best * 1e6


def measure_floor(quick: bool = False, work_dir: Path | None = None) -> dict[str, Any]:
    """Per-record costs of the intake and verification steps, and of the service calls."""
    from vntrace.node.config import Settings
    from vntrace.node.receipts import issue_receipt
    from vntrace.node.records import (
        canonicalize,
        digest_canonical,
        validate_event,
        verify_record_signature,
    )
    from vntrace.node.records.canonical import parse_json
    from vntrace.node.service import Submission, TraceNode

    batch = 100 if quick else 500
    rounds = 2 if quick else 5
    tmp = Path(tempfile.mkdtemp(prefix="vntrace-bench-floor-", dir=work_dir))
    steps: dict[str, float] = {}
    service: dict[str, float] = {}
    try:
        node = TraceNode.open(Settings(data_dir=tmp, rate_limit_per_second=0))
        try:
            account = Account.create()
            producer = node.register_producer(account.address, "floor")
            chain_id, registry = node.chain.chain_id, node.chain.registry_address
            signer = EventSigner("0x" + bytes(account.key).hex(), chain_id, registry)
            gtin = node.profile.gtins[0]
            lots = [f"FLOOR-{k}" for k in range(rounds + 1)]
            work = {lot: signer.submissions(gtin, lot, batch) for lot in lots}
            items, ids = work[lots[0]]
            lot_key = node.lot_identity(gtin, lots[0])[2]
            signatures = [(i["event"], bytes.fromhex(i["salt"][2:]), i["signature"]) for i in items]
            digests = [digest_canonical(s, canonicalize(e)) for e, s, _ in signatures]
            now = datetime.now(UTC)

            def recover() -> int:
                for (_, _, sig), digest in zip(signatures, digests, strict=True):
                    verify_record_signature(
                        chain_id, registry, lot_key, digest, sig, account.address
                    )
                return len(digests)

            def validate() -> int:
                for event, _, _ in signatures:
                    validate_event(node.profile, event, now=now, private="committed")
                return len(signatures)

            def jcs() -> int:
                for event, _, _ in signatures:
                    canonicalize(event)
                return len(signatures)

            def receipts() -> int:
                for digest in digests:
                    issue_receipt(
                        node.identity,
                        leaf=digest,
                        lot_key=lot_key,
                        received_at=now,
                        anchor_deadline=now,
                        chain_id=chain_id,
                        registry=registry,
                    )
                return len(digests)

            text = json.dumps({"events": items})

            def parse() -> int:
                parse_json(text)
                return len(items)

            steps["eip712_recovery"] = _per_item_us(recover, rounds)
            steps["profile_validation"] = _per_item_us(validate, rounds)
            steps["jcs"] = _per_item_us(jcs, rounds)
            steps["ed25519_receipt"] = _per_item_us(receipts, rounds)
            steps["strict_json_parse"] = _per_item_us(parse, rounds)

            pending = iter(lots)

            def submit() -> int:
                lot = next(pending)
                subs = [Submission(i["event"], i["salt"], i["signature"]) for i in work[lot][0]]
                node.submit(producer, gtin, lot, subs)
                return len(subs)

            service["submit_per_record"] = _per_item_us(submit, rounds)
            node.store.put_idempotency(producer.id, "floor-warm", b"\0" * 32, "{}", 201)
            keys = iter(range(rounds))
            service["write_transaction_ms"] = (
                _best(
                    lambda: node.store.put_idempotency(
                        producer.id, f"floor-{next(keys)}", b"\0" * 32, "{}", 201
                    ),
                    rounds,
                )
                * 1e3
            )
            node.anchor_now()
            bundles = [node.bundle(rid) for rid in ids]
            service["bundle_ms"] = _best(lambda: node.bundle(ids[0]), rounds * 4) * 1e3
            service["verify_bundles_per_record"] = _per_item_us(
                lambda: len(node.verify_bundles(bundles)), rounds
            )
            service["verify_one_bundle_ms"] = (
                _best(lambda: node.verify_bundles(bundles[:1]), rounds * 4) * 1e3
            )
            service["verify_records_per_record"] = _per_item_us(
                lambda: len(node.verify_records(ids[: batch // 5])), max(2, rounds // 2)
            )
        finally:
            node.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {"batch": batch, "rounds": rounds, "steps_us": steps, "service": service}
