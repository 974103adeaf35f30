"""What a witness checks beyond the log's own consistency: that the chain agrees.

Configured with the log's node (for the new leaves) and a JSON-RPC of the chain the
witness can read, :class:`ChainMonitor` runs before a cosignature on every leaf the
checkpoint adds: the leaf's inclusion in the submitted checkpoint (RFC 9162), then on
the chain the anchoring transaction's receipt (succeeded, in the leaf's block, emitting
the registry's ``RootAnchored(root, anchorer, epoch)``), the block's hash and time, and
the chain id. A disagreement is refused with 422 (and kept as evidence); a node or
chain the witness cannot read now is refused with 503, so the log retries later and the
witness never cosigns what it could not check.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from vntrace.node.tlog.errors import TlogError
from vntrace.node.tlog.leaf import EpochLeaf
from vntrace.node.tlog.merkle import leaf_hash, verify_inclusion
from vntrace.node.tlog.note import Checkpoint, unb64

from .errors import ProtocolError

MAX_NEW_LEAVES = 4096
"""Leaves checked per request at most: a larger jump is refused (422) rather than
cosigned unchecked; the log then offers smaller steps or the witness catches up."""


def _topic() -> str:
    from eth_hash.auto import keccak

    return "0x" + keccak(b"RootAnchored(bytes32,address,uint64,uint32)").hex()


ROOT_ANCHORED = _topic()
"""The registry's event: ``RootAnchored(bytes32 indexed root, address indexed anchorer,
uint64 indexed epoch, uint32 recordCount)``."""


class ChainMonitor:
    """Checks new leaves against the node's log and the chain (see the module doc)."""

    def __init__(
        self,
        node_url: str,
        rpc_url: str,
        *,
        node_http: httpx.Client | None = None,
        rpc_http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.node_url = node_url.rstrip("/")
        self.rpc_url = rpc_url
        self._node = node_http or httpx.Client(timeout=timeout)
        self._rpc = rpc_http or httpx.Client(timeout=timeout)
        self._chain_id: int | None = None

    def close(self) -> None:
        self._node.close()
        self._rpc.close()

    # -- reads --------------------------------------------------------------------------

    def _leaf(self, index: int, size: int) -> tuple[bytes, list[bytes]]:
        url = f"{self.node_url}/v1/log/proof/inclusion"
        try:
            r = self._node.get(url, params={"epoch": index + 1, "size": size})
        except httpx.HTTPError as e:
            raise ProtocolError(503, f"cannot read leaf {index} from the log's node: {e}") from e
        if r.status_code != 200:
            raise ProtocolError(503, f"the log's node answered {r.status_code} for leaf {index}")
        try:
            data = r.json()
            leaf = unb64(str(data["leaf"]), "leaf")
            proof = [unb64(str(h), "proof hash", 32) for h in data["inclusionProof"]]
        except (ValueError, KeyError, TypeError, TlogError) as e:
            raise ProtocolError(422, f"the log's node served a malformed leaf {index}") from e
        return leaf, proof

    def _call(self, method: str, params: Sequence[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        try:
            r = self._rpc.post(self.rpc_url, json=body)
            answer = r.json()
        except (httpx.HTTPError, ValueError) as e:
            raise ProtocolError(503, f"cannot read the chain ({method}): {e}") from e
        if not isinstance(answer, dict) or "error" in answer:
            raise ProtocolError(503, f"the chain refused {method}: {answer!r:.200}")
        return answer.get("result")

    # -- the check ----------------------------------------------------------------------

    def check(self, cp: Checkpoint, old: int) -> None:
        """Raise :class:`ProtocolError` unless every leaf in ``[old, cp.size)`` agrees."""
        if cp.size - old > MAX_NEW_LEAVES:
            raise ProtocolError(
                422,
                f"{cp.size - old} new leaves at once; this witness checks at most "
                f"{MAX_NEW_LEAVES} per checkpoint",
            )
        for index in range(old, cp.size):
            data, proof = self._leaf(index, cp.size)
            try:
                verify_inclusion(leaf_hash(data), index, cp.size, proof, cp.root)
                leaf = EpochLeaf.decode(data)
            except TlogError as e:
                raise ProtocolError(422, f"leaf {index} is not in this checkpoint: {e}") from e
            if leaf.epoch != index + 1:
                raise ProtocolError(422, f"leaf {index} holds epoch {leaf.epoch}")
            self._check_chain(index, leaf)

    def _check_chain(self, index: int, leaf: EpochLeaf) -> None:
        if self._chain_id is None:
            self._chain_id = int(str(self._call("eth_chainId", [])), 16)
        wrong = f"leaf {index} (epoch {leaf.epoch}) disagrees with the chain"
        if self._chain_id != leaf.chain_id:
            raise ProtocolError(422, f"{wrong}: chain id {self._chain_id}, not {leaf.chain_id}")
        receipt = self._call("eth_getTransactionReceipt", ["0x" + leaf.tx_hash.hex()])
        if not isinstance(receipt, dict):
            raise ProtocolError(422, f"{wrong}: no transaction 0x{leaf.tx_hash.hex()}")
        if int(str(receipt.get("status", "0x0")), 16) != 1:
            raise ProtocolError(422, f"{wrong}: its transaction failed")
        if (
            str(receipt.get("blockHash", "")).lower() != "0x" + leaf.block_hash.hex()
            or int(str(receipt.get("blockNumber", "0x0")), 16) != leaf.block_number
        ):
            raise ProtocolError(422, f"{wrong}: the transaction is in another block")
        registry = "0x" + leaf.registry.hex()
        root = "0x" + leaf.root.hex()
        epoch = "0x" + leaf.epoch.to_bytes(32, "big").hex()
        logs = receipt.get("logs") or []
        if not any(
            str(lg.get("address", "")).lower() == registry
            and [str(t).lower() for t in (lg.get("topics") or [])][:2] == [ROOT_ANCHORED, root]
            and len(lg.get("topics") or []) > 3
            and str(lg["topics"][3]).lower() == epoch
            for lg in logs
            if isinstance(lg, dict)
        ):
            raise ProtocolError(422, f"{wrong}: no RootAnchored({root}) of epoch {leaf.epoch}")
        block = self._call("eth_getBlockByHash", ["0x" + leaf.block_hash.hex(), False])
        if not isinstance(block, dict) or int(str(block.get("timestamp", "0x0")), 16) != (
            leaf.block_timestamp
        ):
            raise ProtocolError(422, f"{wrong}: the block's time is not the leaf's")


__all__ = ["MAX_NEW_LEAVES", "ROOT_ANCHORED", "ChainMonitor"]
