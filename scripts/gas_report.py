#!/usr/bin/env python3
"""Gas report for the VntraceRegistry contract, measured on anvil.

Deploys the committed artifact on a throw-away anvil (the npm package's binary, Prague hardfork,
a free 127.0.0.1 port, stopped by pid at the end) and measures:

- ``gasUsed`` from receipts: deployment, anchorer and producer registration, anchors (first and
  later epochs), revocation, recall;
- anchor gas per record for epochs of 10 .. 100,000 records (anchor gas does not depend on the
  record count, only on the calldata bytes of the count);
- proof verification (view functions, free through ``eth_call`` but paid by on-chain callers):
  ``verifyProof`` at tree depths 4..17, and ``verifyMultiProof`` of 64 leaves, contiguous vs
  scattered, in 1,024- and 65,536-leaf trees. Two figures each: *execution* gas (from a
  ``debug_traceCall`` struct log: what a contract calling the registry pays, roughly, plus its
  own call overhead) and ``eth_estimateGas`` (what a transaction would be charged, intrinsic gas
  and the EIP-7623 calldata floor included; proofs are incompressible random bytes, so the
  floor usually dominates).

Trees are built here with a minimal OpenZeppelin StandardMerkleTree layout (``sortLeaves:
false``, leaves ``keccak(keccak(lot_key || digest))``), independent of the node's engine.

Usage: ``python scripts/gas_report.py [--out results/gas] [--anvil PATH]``.
Writes ``gas_report.json`` and ``gas_report.md`` into ``--out`` and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sha3
from web3 import HTTPProvider, Web3

from vntrace.contracts import load_artifact

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
HARDFORK = "prague"
MULTIPROOF_LEAVES = 64
PROOF_DEPTHS = range(4, 18)
MULTIPROOF_TREES = (1024, 65536)
EPOCH_SIZES = (10, 100, 1_000, 10_000, 100_000)

# Realistic string arguments (their length changes the gas).
ANCHORER_METADATA = json.dumps(
    {"ed25519": "ab" * 32, "url": "https://node.example.vn", "name": "vntrace node 1"},
    separators=(",", ":"),
)
PRODUCER_URI = "https://registry.example.vn/producers/coop-0001.json"
REASON = "aflatoxin above EU limit, lab report 2025-117"


# ---------------------------------------------------------------------------- OZ tree (minimal)


def keccak(data: bytes) -> bytes:
    return sha3.keccak_256(data).digest()


def build_tree(leaves: list[bytes]) -> list[bytes]:
    """OpenZeppelin layout: leaf k at len-1-k, node i = hash of sorted (2i+1, 2i+2)."""
    n = len(leaves)
    tree: list[bytes] = [b""] * (2 * n - 1)
    tree[n - 1 :] = leaves[::-1]
    for i in range(n - 2, -1, -1):
        a, b = tree[2 * i + 1], tree[2 * i + 2]
        tree[i] = keccak(a + b) if a < b else keccak(b + a)
    return tree


def get_proof(tree: list[bytes], k: int) -> list[bytes]:
    i = len(tree) - 1 - k
    out = []
    while i > 0:
        out.append(tree[i + 1 if i % 2 else i - 1])
        i = (i - 1) // 2
    return out


def get_multiproof(tree: list[bytes], ks: list[int]) -> tuple[list[bytes], list[bytes], list[bool]]:
    """OpenZeppelin's getMultiProof: returns (leaves, proof, proof_flags)."""
    indices = sorted((len(tree) - 1 - k for k in ks), reverse=True)
    stack = list(indices)
    proof: list[bytes] = []
    flags: list[bool] = []
    while stack and stack[0] > 0:
        j = stack.pop(0)
        s = j + 1 if j % 2 else j - 1
        if stack and stack[0] == s:
            flags.append(True)
            stack.pop(0)
        else:
            flags.append(False)
            proof.append(tree[s])
        stack.append((j - 1) // 2)
    return [tree[i] for i in indices], proof, flags


def random_leaves(n: int, rng: random.Random) -> list[bytes]:
    lot = keccak(b"/01/08934567890128/10/GAS")
    return [keccak(keccak(lot + rng.randbytes(32))) for _ in range(n)]


# ---------------------------------------------------------------------------- anvil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_anvil(binary: Path) -> tuple[subprocess.Popen[bytes], Web3]:
    if not binary.is_file():
        sys.exit(
            f"anvil not found at {binary}: run 'npm ci' (package @foundry-rs/anvil-linux-amd64)"
        )
    port = free_port()
    proc = subprocess.Popen(
        [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--silent",
            "--hardfork",
            HARDFORK,
        ]
    )
    w3 = Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 120}))
    deadline = time.monotonic() + 15
    while True:
        try:
            w3.eth.chain_id  # noqa: B018 - probe
            return proc, w3
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                sys.exit("anvil did not start")
            time.sleep(0.05)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------- measuring


class Meter:
    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.admin, self.op = w3.eth.accounts[:2]
        art = load_artifact()
        factory = w3.eth.contract(abi=art.abi, bytecode=art.bytecode)
        receipt = self._wait(factory.constructor(self.admin).transact({"from": self.admin}))
        self.deploy_gas = int(receipt.gasUsed)
        self.reg = w3.eth.contract(address=receipt.contractAddress, abi=art.abi)
        self.epoch = 0

    def _wait(self, tx_hash: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash)
        if receipt.status != 1:
            raise RuntimeError(f"transaction failed: {tx_hash.hex()}")
        return receipt

    def tx(self, fn: Any, sender: str) -> int:
        """gasUsed of a transaction (anvil's estimate includes the EIP-7623 floor)."""
        return int(self._wait(fn.transact({"from": sender})).gasUsed)

    def anchor(self, root: bytes, count: int) -> int:
        self.epoch += 1
        return self.tx(self.reg.functions.anchor(root, self.epoch, count), self.op)

    def view(self, fn: Any) -> dict[str, int]:
        """Execution gas (struct-log trace) and eth_estimateGas of a view call; asserts true."""
        assert fn.call() is True, "proof did not verify: the report would be meaningless"
        data = fn.build_transaction({"from": self.admin, "gas": 30_000_000})["data"]
        call = {"from": self.admin, "to": self.reg.address, "data": data}
        trace = self.w3.provider.make_request(
            "debug_traceCall",
            [call, "latest", {"disableStack": True, "disableMemory": True, "disableStorage": True}],
        )["result"]
        logs = trace["structLogs"]
        execution = logs[0]["gas"] - logs[-1]["gas"] + logs[-1]["gasCost"]
        raw = bytes.fromhex(data.removeprefix("0x"))
        return {
            "execution_gas": int(execution),
            "estimate_gas": int(self.w3.eth.estimate_gas(call)),
            "calldata_bytes": len(raw),
        }


def measure(w3: Web3) -> dict[str, Any]:
    rng = random.Random(7)
    m = Meter(w3)
    f = m.reg.functions
    txs: dict[str, int] = {"deploy": m.deploy_gas}
    txs["registerAnchorer"] = m.tx(f.registerAnchorer(m.op, ANCHORER_METADATA), m.admin)
    txs["setAnchorerMetadata"] = m.tx(f.setAnchorerMetadata(ANCHORER_METADATA), m.op)
    producer = w3.eth.accounts[2]
    txs["registerProducer"] = m.tx(f.registerProducer(producer, PRODUCER_URI), m.admin)
    txs["deactivateProducer"] = m.tx(f.deactivateProducer(producer), m.admin)
    txs["reactivateProducer"] = m.tx(f.reactivateProducer(producer), m.admin)
    txs["anchor (epoch 1)"] = m.anchor(rng.randbytes(32), 10_000)
    txs["anchor (epoch 2)"] = m.anchor(rng.randbytes(32), 10_000)
    txs["anchor (epoch 3)"] = m.anchor(rng.randbytes(32), 10_000)
    root = rng.randbytes(32)
    m.anchor(root, 10_000)
    txs["revokeRoot (by its anchorer)"] = m.tx(f.revokeRoot(root, REASON), m.op)
    root = rng.randbytes(32)
    m.anchor(root, 10_000)
    txs["revokeRoot (by admin)"] = m.tx(f.revokeRoot(root, REASON), m.admin)
    txs["recallLot (by anchorer)"] = m.tx(f.recallLot(rng.randbytes(32), REASON), m.op)

    per_record = []
    for size in EPOCH_SIZES:
        gas = m.anchor(rng.randbytes(32), size)
        per_record.append({"records": size, "anchor_gas": gas, "gas_per_record": gas / size})

    trees: dict[int, list[bytes]] = {}
    single = []
    for depth in PROOF_DEPTHS:
        n = 1 << depth
        tree = trees[n] = build_tree(random_leaves(n, rng))
        m.anchor(tree[0], n)
        k = rng.randrange(n)
        proof = get_proof(tree, k)
        assert len(proof) == depth
        row = {"depth": depth, "tree_leaves": n}
        row.update(m.view(f.verifyProof(tree[0], tree[len(tree) - 1 - k], proof)))
        single.append(row)
    exec_by_depth = {r["depth"]: r["execution_gas"] for r in single}

    multi = []
    for n in MULTIPROOF_TREES:
        tree = trees[n]
        depth = n.bit_length() - 1
        start = n // 3
        layouts = {
            "contiguous": list(range(start, start + MULTIPROOF_LEAVES)),
            "scattered": [i * (n // MULTIPROOF_LEAVES) + 1 for i in range(MULTIPROOF_LEAVES)],
        }
        for layout, ks in layouts.items():
            leaves, proof, flags = get_multiproof(tree, ks)
            row: dict[str, Any] = {
                "tree_leaves": n,
                "layout": layout,
                "leaves": len(leaves),
                "proof_len": len(proof),
            }
            row.update(m.view(f.verifyMultiProof(tree[0], leaves, proof, flags)))
            row["execution_per_leaf"] = row["execution_gas"] / len(leaves)
            row["estimate_per_leaf"] = row["estimate_gas"] / len(leaves)
            row["single_proofs_execution"] = exec_by_depth[depth] * len(leaves)
            multi.append(row)

    return {
        "transactions": txs,
        "anchor_per_record": per_record,
        "verify_proof": single,
        "verify_multiproof": multi,
    }


# ---------------------------------------------------------------------------- output


def anvil_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.splitlines()[0].strip() if out.stdout else "unknown"


def to_markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    lines = [
        "# VntraceRegistry gas report",
        "",
        f"Measured on {meta['anvil']} (hardfork {meta['hardfork']}), solc {meta['solc']}, "
        f"optimizer {meta['optimizer']}, runtime code {meta['runtime_bytes']} bytes, "
        f"sourcesHash `{meta['sources_hash'][:16]}…`. Generated by `scripts/gas_report.py`.",
        "",
        "## Transactions (gasUsed from receipts)",
        "",
        "| transaction | gas |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {gas:,} |" for name, gas in report["transactions"].items()]
    lines += [
        "",
        f"String arguments: anchorer metadata {meta['string_bytes']['metadata']} bytes, "
        f"producer URI {meta['string_bytes']['producer_uri']} bytes, "
        f"reasons {meta['string_bytes']['reason']} bytes.",
        "",
        "## Anchor gas per record (one anchor per epoch, whatever its size)",
        "",
        "| records in epoch | anchor gas | gas / record |",
        "|---:|---:|---:|",
    ]
    lines += [
        f"| {r['records']:,} | {r['anchor_gas']:,} | {r['gas_per_record']:,.2f} |"
        for r in report["anchor_per_record"]
    ]
    lines += [
        "",
        "## verifyProof (single proof)",
        "",
        "Execution gas is what an on-chain caller pays inside its own transaction (plus its call "
        "overhead); the estimate is a standalone transaction, intrinsic gas and EIP-7623 "
        "calldata floor included. Through `eth_call` both are free.",
        "",
        "| depth | tree leaves | execution gas | eth_estimateGas | calldata bytes |",
        "|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['depth']} | {r['tree_leaves']:,} | {r['execution_gas']:,} | "
        f"{r['estimate_gas']:,} | {r['calldata_bytes']:,} |"
        for r in report["verify_proof"]
    ]
    lines += [
        "",
        f"## verifyMultiProof ({MULTIPROOF_LEAVES} leaves)",
        "",
        "| tree leaves | layout | proof nodes | execution gas | exec / leaf | "
        "64 single proofs (exec) | eth_estimateGas | estimate / leaf |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r['tree_leaves']:,} | {r['layout']} | {r['proof_len']} | {r['execution_gas']:,} | "
        f"{r['execution_per_leaf']:,.0f} | {r['single_proofs_execution']:,} | "
        f"{r['estimate_gas']:,} | {r['estimate_per_leaf']:,.0f} |"
        for r in report["verify_multiproof"]
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "gas", help="output folder")
    parser.add_argument("--anvil", type=Path, default=DEFAULT_ANVIL, help="anvil binary")
    args = parser.parse_args(argv)

    art = load_artifact()
    proc, w3 = start_anvil(args.anvil)
    try:
        started = time.perf_counter()
        body = measure(w3)
        chain_id = w3.eth.chain_id
    finally:
        stop(proc)
    opt = art.settings.get("optimizer", {})
    report = {
        "meta": {
            "anvil": anvil_version(args.anvil),
            "hardfork": HARDFORK,
            "chain_id": chain_id,
            "solc": art.compiler_version,
            "optimizer": f"{'on' if opt.get('enabled') else 'off'}, {opt.get('runs')} runs",
            "runtime_bytes": len(art.deployed_bytecode),
            "sources_hash": art.sources_hash,
            "string_bytes": {
                "metadata": len(ANCHORER_METADATA),
                "producer_uri": len(PRODUCER_URI),
                "reason": len(REASON),
            },
            "seconds": round(time.perf_counter() - started, 1),
        },
        **body,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gas_report.json").write_text(json.dumps(report, indent=2) + "\n")
    markdown = to_markdown(report)
    (args.out / "gas_report.md").write_text(markdown)
    print(markdown)
    print(f"wrote {args.out / 'gas_report.json'} and {args.out / 'gas_report.md'}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("ETH_HASH_BACKEND", "pysha3")
    raise SystemExit(main())
