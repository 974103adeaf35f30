"""What the embedded chain answers to outside callers on ``/rpc``, as pure functions.

The method set is what Foundry's ``cast``, ethers v6, viem and web3.py ask with their
default settings for reads (chain and client identity, blocks, transactions, receipts,
logs, account state, calls, estimates, fees), in the wire format of the Ethereum
JSON-RPC specification (ethereum/execution-apis). Everything that writes, signs, holds
server-side state (filters, subscriptions) or administers a dev chain is refused with
-32601 and a message saying why: the node alone writes to its chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any, Final

from eth_utils import keccak

__all__ = [
    "MAX_FEE_HISTORY_BLOCKS",
    "READ_ONLY_METHODS",
    "blob_base_fee",
    "client_version",
    "fee_history",
    "logs_bloom",
    "next_base_fee",
    "refusal",
    "wire_transaction",
]

#: The JSON-RPC methods the embedded chain answers for outside callers.
READ_ONLY_METHODS: Final = frozenset(
    {
        # chain and client
        "eth_chainId",
        "net_version",
        "net_listening",
        "net_peerCount",
        "web3_clientVersion",
        "eth_syncing",
        "eth_accounts",
        # blocks
        "eth_blockNumber",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getBlockTransactionCountByNumber",
        "eth_getBlockTransactionCountByHash",
        "eth_getUncleCountByBlockNumber",
        "eth_getUncleCountByBlockHash",
        # transactions and receipts
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionByBlockHashAndIndex",
        "eth_getTransactionReceipt",
        "eth_getLogs",
        # account state, calls
        "eth_getBalance",
        "eth_getTransactionCount",
        "eth_getCode",
        "eth_getStorageAt",
        "eth_call",
        "eth_estimateGas",
        # fees
        "eth_gasPrice",
        "eth_maxPriorityFeePerGas",
        "eth_feeHistory",
        "eth_blobBaseFee",
    }
)

#: Methods that return transaction objects (eth-tester gives some in snake_case).
TRANSACTION_METHODS: Final = frozenset(
    {
        "eth_getTransactionByHash",
        "eth_getTransactionByBlockNumberAndIndex",
        "eth_getTransactionByBlockHashAndIndex",
    }
)

#: geth's cap on ``eth_feeHistory``'s block count.
MAX_FEE_HISTORY_BLOCKS: Final = 1024

_WRITES: Final = frozenset(
    {"eth_sendRawTransaction", "eth_sendTransaction", "eth_submitWork", "eth_submitHashrate"}
)
_WRITE_PREFIXES: Final = ("eth_sign", "eth_send", "personal_", "wallet_", "engine_")
_ADMIN_PREFIXES: Final = (
    "debug_",
    "anvil_",
    "evm_",
    "hardhat_",
    "ganache_",
    "admin_",
    "miner_",
    "txpool_",
    "testing_",
    "db_",
)
_STATEFUL: Final = frozenset(
    {
        "eth_newFilter",
        "eth_newBlockFilter",
        "eth_newPendingTransactionFilter",
        "eth_getFilterChanges",
        "eth_getFilterLogs",
        "eth_uninstallFilter",
        "eth_subscribe",
        "eth_unsubscribe",
    }
)

# EIP-1559 and EIP-4844/7691 (Prague) parameters of the embedded chain.
_ELASTICITY: Final = 2
_BASE_FEE_CHANGE_DENOMINATOR: Final = 8
_MIN_BLOB_BASE_FEE: Final = 1
_BLOB_BASE_FEE_UPDATE_FRACTION: Final = 5_007_716
_MAX_BLOB_GAS_PER_BLOCK: Final = 1_179_648


def refusal(method: str) -> str:
    """The -32601 message for a method ``/rpc`` does not serve, saying why."""
    if method == "eth_getProof":
        return (
            "method eth_getProof is not available: the embedded chain (py-evm) serves no "
            "Merkle-Patricia proofs; read the value itself with eth_call or eth_getStorageAt"
        )
    if method in _WRITES or method.startswith(_WRITE_PREFIXES):
        return (
            f"method {method} is not available: /rpc is read-only, and the node alone "
            "writes to its chain (it holds no keys for callers and relays no transactions)"
        )
    if method.startswith(_ADMIN_PREFIXES):
        return f"method {method} is not available: /rpc serves no debug or admin methods"
    if method in _STATEFUL:
        return (
            f"method {method} is not available: /rpc keeps no filters or subscriptions; "
            "poll eth_blockNumber and eth_getLogs instead"
        )
    return f"method {method} is not available on this read-only /rpc (see docs/api.md)"


def client_version() -> str:
    """``web3_clientVersion``: this node, then the EVM it runs."""
    return f"vntrace/v{_version('vntrace')}/py-evm-{_version('py-evm')} (embedded)"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)


def wire_transaction(tx: Any) -> Any:
    """A transaction object with the specification's keys (``blockHash``, ``input``,
    ``yParity``, ``accessList[].storageKeys``...); eth-tester returns some in snake_case."""
    if not isinstance(tx, Mapping):
        return tx
    out: dict[str, Any] = {}
    for key, value in tx.items():
        name = "input" if key == "data" else _camel(key)
        if name == "accessList" and isinstance(value, list):
            value = [
                {_camel(k): v for k, v in entry.items()} if isinstance(entry, Mapping) else entry
                for entry in value
            ]
        out.setdefault(name, value)
    return out


def logs_bloom(logs: Sequence[Mapping[str, Any]]) -> str:
    """A receipt's ``logsBloom`` from its logs (Yellow Paper 4.3.1: three 11-bit indices
    of the Keccak-256 of each log's address and topics); eth-tester's receipts omit it."""
    bloom = 0
    for log in logs:
        for item in (log["address"], *log.get("topics", ())):
            digest = keccak(bytes.fromhex(str(item)[2:]))
            for i in (0, 2, 4):
                bloom |= 1 << (int.from_bytes(digest[i : i + 2], "big") & 2047)
    return "0x" + bloom.to_bytes(256, "big").hex()


def next_base_fee(base_fee: int, gas_used: int, gas_limit: int) -> int:
    """The base fee of the block after one with these figures (EIP-1559)."""
    target = gas_limit // _ELASTICITY
    if target == 0 or gas_used == target:
        return base_fee
    if gas_used > target:
        delta = base_fee * (gas_used - target) // target // _BASE_FEE_CHANGE_DENOMINATOR
        return base_fee + max(delta, 1)
    delta = base_fee * (target - gas_used) // target // _BASE_FEE_CHANGE_DENOMINATOR
    return base_fee - delta


def blob_base_fee(excess_blob_gas: int) -> int:
    """EIP-4844's ``fake_exponential(MIN_BLOB_BASE_FEE, excess, UPDATE_FRACTION)``."""
    i, output, accum = 1, 0, _MIN_BLOB_BASE_FEE * _BLOB_BASE_FEE_UPDATE_FRACTION
    while accum > 0:
        output += accum
        accum = accum * excess_blob_gas // (_BLOB_BASE_FEE_UPDATE_FRACTION * i)
        i += 1
    return output // _BLOB_BASE_FEE_UPDATE_FRACTION


def _percentile_rewards(
    tips: Sequence[tuple[int, int]], gas_used: int, percentiles: Sequence[float]
) -> list[int]:
    """geth's rule: sort ``(tip, gas)`` by tip and pick, for each percentile, the tip of
    the transaction whose cumulative gas reaches that share of the block's gas."""
    if not tips:
        return [0] * len(percentiles)
    ordered = sorted(tips)
    rewards, index, cumulative = [], 0, ordered[0][1]
    for p in percentiles:
        threshold = gas_used * p / 100
        while cumulative < threshold and index < len(ordered) - 1:
            index += 1
            cumulative += ordered[index][1]
        rewards.append(ordered[index][0])
    return rewards


def fee_history(
    blocks: Sequence[Mapping[str, Any]],
    percentiles: Sequence[float],
    tips: Sequence[Sequence[tuple[int, int]]],
    pending_base_fee: int,
) -> dict[str, Any]:
    """``eth_feeHistory``'s result for consecutive ``blocks`` (wire-format headers, oldest
    first), with per block the ``(effective tip, gas used)`` of its transactions and the
    base fee of the block after the newest."""
    base_fees = [int(b.get("baseFeePerGas") or "0x0", 16) for b in blocks] + [pending_base_fee]
    excess = [int(b.get("excessBlobGas") or "0x0", 16) for b in blocks]
    blob_used = [int(b.get("blobGasUsed") or "0x0", 16) for b in blocks]
    next_excess = max(0, excess[-1] + blob_used[-1] - _MAX_BLOB_GAS_PER_BLOCK * 2 // 3)
    result: dict[str, Any] = {
        "oldestBlock": blocks[0]["number"],
        "baseFeePerGas": [hex(fee) for fee in base_fees],
        "gasUsedRatio": [
            int(b["gasUsed"], 16) / int(b["gasLimit"], 16) if int(b["gasLimit"], 16) else 0.0
            for b in blocks
        ],
        "baseFeePerBlobGas": [hex(blob_base_fee(x)) for x in [*excess, next_excess]],
        "blobGasUsedRatio": [used / _MAX_BLOB_GAS_PER_BLOCK for used in blob_used],
    }
    if percentiles:
        result["reward"] = [
            [hex(r) for r in _percentile_rewards(t, int(b["gasUsed"], 16), percentiles)]
            for b, t in zip(blocks, tips, strict=True)
        ]
    return result
