"""What bounds the end-to-end figures: the node's per-record costs in one Python process.

Each step of intake and verification is timed on its own, in this process, on records
of the benchmark's workload (best of several rounds), and so are the node's service
calls without HTTP (``TraceNode.submit``, ``verify_bundles``, ``bundle``) on a node
opened in a temporary folder (embedded chain, SQLite). A single node process holds the
GIL for all of them, so ``1e6 / (µs per record)`` is what one process can reach, whatever
its HTTP layer does; the report sets the targets against these floors.

:func:`machine_limits` turns the same steps into issue 17's limit per path: the work a
path cannot skip, spread over every usable core (docs/benchmarks.md has the formulas).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from sha3 import keccak_256

from vntrace.node.config import usable_cores

from .signing import EventSigner
from .timing import best_seconds as _best

PROOF_NODES = 16
"""Nodes of the synthetic proof timed per node (any nodes: following a proof only hashes)."""
KECCAK_CALLS = 20_000


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
    from vntrace.node.merkle import process_proof
    from vntrace.node.receipts import ReceiptEntry, issue_batch_receipts
    from vntrace.node.records import (
        canonicalize,
        digest_canonical,
        record_leaf,
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

            entries = [ReceiptEntry(d, lot_key, now, now) for d in digests]

            def receipts() -> int:  # as intake issues them: one signature per request
                issue_batch_receipts(node.identity, entries, chain_id=chain_id, registry=registry)
                return len(entries)

            text = json.dumps({"events": items})

            def parse() -> int:
                parse_json(text)
                return len(items)

            canon = [(salt, canonicalize(e)) for e, salt, _ in signatures]

            def digest() -> int:
                for salt, body in canon:
                    digest_canonical(salt, body)
                return len(canon)

            def leaf() -> int:
                for d in digests:
                    record_leaf(lot_key, d)
                return len(digests)

            # A proof as bundles carry it (0x-hex nodes): the per-node cost of following it.
            nodes = ["0x" + os.urandom(32).hex() for _ in range(PROOF_NODES)]
            first = record_leaf(lot_key, digests[0])

            def proof() -> int:
                for _ in range(len(digests)):
                    process_proof(first, nodes)
                return len(digests) * PROOF_NODES

            block = os.urandom(64)

            def keccak() -> int:
                for _ in range(KECCAK_CALLS):
                    keccak_256(block).digest()
                return KECCAK_CALLS

            steps["eip712_recovery"] = _per_item_us(recover, rounds)
            steps["profile_validation"] = _per_item_us(validate, rounds)
            steps["jcs"] = _per_item_us(jcs, rounds)
            steps["batch_receipt"] = _per_item_us(receipts, rounds)
            steps["strict_json_parse"] = _per_item_us(parse, rounds)
            steps["digest"] = _per_item_us(digest, rounds)
            steps["leaf"] = _per_item_us(leaf, rounds)
            steps["proof_node"] = _per_item_us(proof, rounds)
            steps["keccak64"] = _per_item_us(keccak, rounds)

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
    return {
        "batch": batch,
        "rounds": rounds,
        "cores": usable_cores(),
        "steps_us": steps,
        "service": service,
    }


# -- the machine's limit per path (issue 17) ---------------------------------------------

KECCAKS_PER_LEAF = 3
"""Keccak-256 calls per leaf of a ``(bytes32, bytes32)`` standard tree: two for the leaf,
``keccak256(keccak256(a || b))``, and about one for the ``n - 1`` internal nodes of
``n`` leaves. Decoding the hex values and sorting are not counted."""
DEFAULT_PROOF_LENGTH = 14.0
"""Proof nodes per bundle when the run read none: about log2 of a 10,000-record epoch."""
LATENCY_CLIENTS = 32


def _limit(
    value: float | None, unit: str, formula: str, computed: str, at_least: bool = True
) -> dict[str, Any]:
    return {
        "value": value,
        "unit": unit,
        "formula": formula,
        "computed": computed if value is not None else "inputs not measured",
        "at_least": at_least,
    }


def machine_limits(
    floor: dict[str, Any],
    cores: int | None = None,
    proof_length: float | None = None,
    clients: int = LATENCY_CLIENTS,
) -> dict[str, dict[str, Any]]:
    """The best each issue-17 path could do on every usable core, from the floor's steps.

    Each limit takes only the work that path cannot skip, timed in one process, and
    spreads it over ``cores`` with nothing else running (no HTTP, store, client or
    chain reads): a ceiling the measured figure is set against, not a forecast.
    """
    steps = floor.get("steps_us") or {}
    service = floor.get("service") or {}
    n = int(cores or floor.get("cores") or usable_cores())
    depth = float(proof_length or DEFAULT_PROOF_LENGTH)
    rec, jcs, dig = steps.get("eip712_recovery"), steps.get("jcs"), steps.get("digest")
    leaf, node, kec = steps.get("leaf"), steps.get("proof_node"), steps.get("keccak64")
    one_ms = service.get("verify_one_bundle_ms")

    def rate(*costs: float | None) -> tuple[float | None, float | None]:
        if any(c is None or c <= 0 for c in costs):
            return None, None
        per = sum(c for c in costs if c is not None)
        return n * 1e6 / per, per

    proof = None if node is None else depth * node
    out: dict[str, dict[str, Any]] = {}
    value, _ = rate(rec)
    out["ingestion"] = _limit(
        value,
        "records/s",
        "cores · 10⁶ ÷ EIP-712 recovery µs (every record needs one recovery)",
        f"{n} · 10⁶ ÷ {_g(rec)} µs",
    )
    value, per = rate(jcs, dig, leaf, proof)
    out["verify_api"] = _limit(
        value,
        "records/s",
        "cores · 10⁶ ÷ (RFC 8785 canonicalisation + digest + leaf hash + mean proof "
        "length · one proof node) µs: the work no stored verdict can skip",
        f"{n} · 10⁶ ÷ ({_g(jcs)} + {_g(dig)} + {_g(leaf)} + {depth:.1f} · {_g(node)} "
        f"= {_g(per)} µs)",
    )
    value = None if one_ms is None else clients * one_ms / n
    out["latency_p99"] = _limit(
        value,
        "ms",
        f"{clients} closed-loop clients · in-process cost of one single-bundle "
        "verification (`verify_bundles` of one bundle) ÷ cores: the queue's wait when "
        "every core does nothing else",
        f"{clients} · {_g(one_ms)} ms ÷ {n}",
        at_least=False,
    )
    value, per = rate(rec, jcs, dig, leaf, proof)
    out["sdk_verify"] = _limit(
        value,
        "records/s",
        "cores · 10⁶ ÷ (EIP-712 recovery + RFC 8785 + digest + leaf hash + mean proof "
        "length · one proof node) µs: an independent verifier recovers every signature",
        f"{n} · 10⁶ ÷ ({_g(rec)} + {_g(jcs)} + {_g(dig)} + {_g(leaf)} + {depth:.1f} · "
        f"{_g(node)} = {_g(per)} µs)",
    )
    value = None if not kec else n * (1e6 / kec) / KECCAKS_PER_LEAF
    out["tree_hex"] = _limit(
        value,
        "leaves/s",
        f"cores · raw keccak-256 calls/s (64 bytes) ÷ {KECCAKS_PER_LEAF} keccaks per leaf "
        "(two for the leaf, about one per leaf for the internal nodes)",
        f"{n} · {_g(None if not kec else 1e6 / kec)}/s ÷ {KECCAKS_PER_LEAF}",
    )
    for entry in out.values():
        entry["cores"] = n
    out["verify_api"]["proof_length"] = out["sdk_verify"]["proof_length"] = depth
    return out


def _g(value: float | None) -> str:
    if value is None:
        return "?"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"
