"""Gas of the VntraceRegistry contract, on anvil and on the embedded chain.

On **anvil** (the npm package's binary, Prague) the committed artifact is deployed on a
throw-away chain and measured:

- ``gasUsed`` from receipts: deployment, anchorer and producer registration, anchors,
  revocation, recall;
- anchor gas per record for epochs of 10 .. 100,000 records (an anchor stores one root
  whatever the epoch's size; only the calldata bytes of the count change);
- proof verification (view functions: free through ``eth_call``, paid by on-chain
  callers): ``verifyProof`` at tree depths 4..17, and ``verifyMultiProof`` of 16, 64 and
  256 leaves, adjacent in the tree (one lot's records) or scattered, in 1,024- and
  65,536-leaf trees. Two figures each: *execution* gas (from a ``debug_traceCall``
  struct log: what a contract calling the registry pays, plus its own call overhead)
  and ``eth_estimateGas`` (a standalone transaction: intrinsic gas and the EIP-7623
  calldata floor included; proofs are incompressible, so the floor usually dominates).

On the **embedded** chain (py-evm through eth-tester, what ``vntrace serve`` runs by
default) the anchors are measured again from its receipts' ``gasUsed``: the same EVM
rules, so the same figures are expected, and the suite shows both.

Trees are built here with a minimal OpenZeppelin StandardMerkleTree layout
(``sortLeaves: false``, leaves ``keccak(keccak(lot_key || digest))``), independent of the
node's engine.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sha3

from .procs import AnvilProcess, ProcessError, anvil_binary

HARDFORK = "prague"
PROOF_DEPTHS = range(4, 18)
MULTIPROOF_TREES = (1024, 65536)
MULTIPROOF_LEAVES = (16, 64, 256)
QUICK_DEPTHS = range(4, 9)
QUICK_TREES = (256,)
QUICK_LEAVES = (16,)
EPOCH_SIZES = (10, 100, 1_000, 10_000, 100_000)

# Realistic string arguments (their length changes the gas).
ANCHORER_METADATA = json.dumps(
    {"ed25519": "ab" * 32, "url": "https://node.example.vn", "name": "vntrace node 1"},
    separators=(",", ":"),
)
PRODUCER_URI = "https://registry.example.vn/producers/coop-0001.json"
REASON = "aflatoxin above EU limit, lab report 2025-117"


# -- OZ tree (minimal) ---------------------------------------------------------------


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


# -- anvil -----------------------------------------------------------------------------


class Meter:
    """The registry deployed on a web3 connection, and gas read from receipts/traces."""

    def __init__(self, w3: Any) -> None:
        from vntrace.contracts import load_artifact

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
        if fn.call() is not True:
            raise RuntimeError("proof did not verify: the figure would be meaningless")
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


def measure_anvil(w3: Any, quick: bool = False) -> dict[str, Any]:
    """Every anvil figure (see the module docstring)."""
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
    depths = QUICK_DEPTHS if quick else PROOF_DEPTHS
    for depth in depths:
        n = 1 << depth
        tree = trees[n] = build_tree(random_leaves(n, rng))
        m.anchor(tree[0], n)
        k = rng.randrange(n)
        proof = get_proof(tree, k)
        row: dict[str, Any] = {"depth": depth, "tree_leaves": n}
        row.update(m.view(f.verifyProof(tree[0], tree[len(tree) - 1 - k], proof)))
        single.append(row)
    exec_by_depth = {r["depth"]: r["execution_gas"] for r in single}

    multi = []
    for n in QUICK_TREES if quick else MULTIPROOF_TREES:
        tree = trees[n]
        depth = n.bit_length() - 1
        for count in QUICK_LEAVES if quick else MULTIPROOF_LEAVES:
            if count * 4 > n:
                continue
            start = n // 3
            layouts = {
                "contiguous": list(range(start, start + count)),
                "scattered": [i * (n // count) + 1 for i in range(count)],
            }
            for layout, ks in layouts.items():
                leaves, proof, flags = get_multiproof(tree, ks)
                mrow: dict[str, Any] = {
                    "tree_leaves": n,
                    "depth": depth,
                    "layout": layout,
                    "leaves": len(leaves),
                    "proof_len": len(proof),
                }
                mrow.update(m.view(f.verifyMultiProof(tree[0], leaves, proof, flags)))
                mrow["execution_per_leaf"] = mrow["execution_gas"] / len(leaves)
                mrow["estimate_per_leaf"] = mrow["estimate_gas"] / len(leaves)
                mrow["single_proofs_execution"] = exec_by_depth[depth] * len(leaves)
                multi.append(mrow)

    return {
        "transactions": txs,
        "anchor_per_record": per_record,
        "verify_proof": single,
        "verify_multiproof": multi,
    }


def run_anvil(quick: bool = False, binary: Path | None = None) -> dict[str, Any]:
    """Start anvil, measure, stop it; ``{"skipped": reason}`` when anvil is missing."""
    from web3 import HTTPProvider, Web3

    from vntrace.contracts import load_artifact

    if (binary or anvil_binary()) is None:
        return {"skipped": "anvil is not installed (npm ci)"}
    anvil = AnvilProcess(binary)
    art = load_artifact()
    began = time.perf_counter()
    with anvil:
        w3 = Web3(HTTPProvider(anvil.url, request_kwargs={"timeout": 120}))
        body = measure_anvil(w3, quick)
        chain_id = int(w3.eth.chain_id)
        version = anvil.version()
    opt = art.settings.get("optimizer", {})
    return {
        "meta": {
            "anvil": version,
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
            "seconds": round(time.perf_counter() - began, 1),
        },
        **body,
    }


# -- the embedded chain ------------------------------------------------------------------


def run_embedded(work_dir: Path | None = None) -> dict[str, Any]:
    """Anchor gas on the embedded chain (py-evm), from its receipts."""
    from vntrace.node.chain import open_backend

    rng = random.Random(11)
    tmp = Path(tempfile.mkdtemp(prefix="vntrace-bench-gas-", dir=work_dir))
    began = time.perf_counter()
    try:
        chain = open_backend("embedded", data_dir=tmp, durable=False)
        try:
            deployed = json.loads((tmp / "chain" / "registry.json").read_text())
            receipt = chain.rpc_request("eth_getTransactionReceipt", [deployed["tx_hash"]])
            deploy_gas = int(receipt["gasUsed"], 16)
            epoch = chain.last_epoch()
            rows = []
            for size in EPOCH_SIZES:
                epoch += 1
                result = chain.anchor(rng.randbytes(32), epoch, size)
                rows.append(
                    {
                        "records": size,
                        "anchor_gas": result.gas_used,
                        "gas_per_record": result.gas_used / size,
                    }
                )
        finally:
            chain.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "meta": {"backend": "py-evm (eth-tester), Prague", "seconds": time.perf_counter() - began},
        "transactions": {"deploy": deploy_gas},
        "anchor_per_record": rows,
    }


def run_gas(
    quick: bool = False,
    say: Callable[[str], None] | None = None,
    work_dir: Path | None = None,
) -> dict[str, Any]:
    """The chain suite: anvil, then the embedded chain (each reports its own failure)."""
    say = say or (lambda _m: None)
    out: dict[str, Any] = {"schema": "vntrace.bench.chain/1"}
    say("chain: gas on anvil (deploy, anchors, verifyProof, verifyMultiProof)")
    try:
        out["anvil"] = run_anvil(quick)
    except (ProcessError, RuntimeError, OSError) as exc:
        out["anvil"] = {"error": f"{type(exc).__name__}: {exc}"}
    say("chain: anchor gas on the embedded chain (py-evm receipts)")
    try:
        out["embedded"] = run_embedded(work_dir)
    except Exception as exc:  # a broken chain backend is reported, not fatal to the suite
        out["embedded"] = {"error": f"{type(exc).__name__}: {exc}"}
    return out
