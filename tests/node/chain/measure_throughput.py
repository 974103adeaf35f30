"""Measure anchoring throughput and the eth-tester gas gap; write results/ JSON.

    python -m tests.node.chain.measure_throughput [--anchors 200] [--out FILE.json]

Not a test (figures depend on the machine); docs/chains.md quotes its output.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account

from tests.support.anvil import ANVIL_KEYS, anvil_binary, running_anvil
from vntrace.node.chain import ChainBackend, EmbeddedChain, RpcChain, calldata_floor


def rate(n: int, fn: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for i in range(n):
        fn(i)
    return round(n / (time.perf_counter() - started), 1)


def measure_backend(chain: ChainBackend, n: int) -> dict[str, float]:
    roots = [os.urandom(32) for _ in range(2 * n)]
    anchored = rate(n, lambda i: chain.anchor(roots[i], i + 1, 100))

    def two_step(i: int) -> None:
        # Pipeline style: fixed gas limit (no estimate), store-then-send, wait.
        signed = chain.build_anchor_tx(roots[n + i], n + i + 1, 100, gas_limit=120_000)
        chain.send_raw(signed)
        chain.wait_for_receipt(signed.tx_hash)

    pipelined = rate(n, two_step)
    reads = rate(n, lambda i: chain.is_root_valid(roots[i]))
    return {
        "anchor_per_s": anchored,
        "two_step_fixed_gas_per_s": pipelined,
        "is_root_valid_per_s": reads,
    }


def gas_gap(chain: EmbeddedChain) -> dict[str, Any]:
    """eth-tester's estimate vs what py-evm charges, for calldata-heavy and normal calls."""
    sender = Account.from_key((1).to_bytes(32, "big"))
    out: dict[str, Any] = {}
    for leaves in (100, 300, 600):
        args = (os.urandom(32), [os.urandom(32) for _ in range(leaves)], [], [])
        data = chain.codec.encode_call("verifyMultiProof", *args)
        tx = {"from": sender.address, "to": chain.registry_address, "data": "0x" + data.hex()}
        tester_estimate = chain.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
        result = chain.transact("verifyMultiProof", *args, sender=sender)
        out[f"verifyMultiProof_{leaves}_leaves"] = {
            "calldata_bytes": len(data),
            "eth_tester_estimate": tester_estimate,
            "calldata_floor": calldata_floor(data),
            "gas_limit_by_rule": result.gas_limit,
            "gas_used": result.gas_used,
        }
    root = os.urandom(32)
    data = chain.codec.encode_call("anchor", root, chain.last_epoch() + 1, 1)
    tx = {"from": chain.operator_address, "to": chain.registry_address, "data": "0x" + data.hex()}
    tester_estimate = chain.w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
    result = chain.anchor(root, chain.last_epoch() + 1, 1)
    out["anchor"] = {
        "eth_tester_estimate": tester_estimate,
        "gas_limit_by_rule": result.gas_limit,
        "gas_used": result.gas_used,
    }
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--anchors", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("results/chain_throughput.json"))
    args = parser.parse_args()

    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "eth_hash_backend": os.environ.get("ETH_HASH_BACKEND", "auto"),
        "anchors_per_run": args.anchors,
    }
    for durable in (True, False):
        with tempfile.TemporaryDirectory() as tmp:
            with EmbeddedChain(tmp, durable=durable) as chain:
                key = "embedded_durable" if durable else "embedded_no_fsync"
                report[key] = measure_backend(chain, args.anchors)
                if durable:
                    report["embedded_gas_gap"] = gas_gap(chain)
            size = sum(f.stat().st_size for f in Path(tmp, "chain", "db").iterdir())
            report[key]["lmdb_bytes_after_run"] = size
    if anvil_binary() is not None:
        with running_anvil() as anvil:
            chain = RpcChain(
                anvil.url,
                Account.from_key(ANVIL_KEYS[1]),
                admin=Account.from_key(ANVIL_KEYS[0]),
                poll_interval=0.005,
            )
            with chain:
                report["anvil"] = measure_backend(chain, args.anchors)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
