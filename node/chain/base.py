"""The chain seam: :class:`ChainBackend`, the one interface the node talks to.

Like a web3.py provider, a backend only has to answer raw JSON-RPC requests
(:meth:`ChainBackend._request`); everything about the registry — encoding
calls, decoding reverts and events, fees, nonces, the gas-limit rule, receipts
and confirmations — lives here once and is shared by the in-process chain
(:mod:`.embedded`) and any JSON-RPC node (:mod:`.rpc`).

Who signs: a backend holds the node operator's :class:`LocalAccount`
(``account``), which signs anchors and by default everything else, and
optionally the regulator's (``admin``), which by default signs admin-only calls.
Every write also takes ``sender=`` to sign with another account (tests, tools,
a regulator console). Keys never leave the process: transactions are signed
locally and sent raw.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, Protocol

from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from .abi import RegistryCodec
from .errors import (
    ChainError,
    ChainUnavailableError,
    ContractRevertError,
    RpcError,
    TransactionFailedError,
    TransactionRejectedError,
)
from .gas import GasPolicy
from .types import AnchorInfo, ProducerInfo, RecallInfo, RegistryEvent, SignedTx, TxResult

__all__ = ["ANCHORER_ROLE", "DEFAULT_ADMIN_ROLE", "ChainBackend", "RegistryArtifactLike"]

log = logging.getLogger(__name__)

ANCHORER_ROLE = keccak(text="ANCHORER_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32
_ZERO_ADDRESS = "0x" + "00" * 20

#: Revert names a malformed multiproof produces (OZ MerkleProof 5 and index-out-of-bounds).
_MALFORMED_MULTIPROOF = frozenset({"MerkleProofInvalidMultiproof", "Panic"})

#: Substrings of node errors meaning "this exact transaction is already known or mined".
_ALREADY_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown")
#: Substrings meaning "the nonce is stale": re-read it and sign again.
_NONCE_ERRORS = ("nonce too low", "invalid transaction nonce", "replacement transaction")


class RegistryArtifactLike(Protocol):
    """What a backend needs from the compiled registry (``vntrace.contracts.load_artifact()``)."""

    @property
    def abi(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def bytecode(self) -> bytes: ...


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def _int(value: Any) -> int:
    """A JSON-RPC quantity (hex string, or int from lenient nodes) as int."""
    if isinstance(value, int):
        return value
    return int(str(value), 16)


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return bytes.fromhex(str(value).removeprefix("0x"))


def _word(value: bytes, what: str) -> bytes:
    value = bytes(value)
    if len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes, got {len(value)}")
    return value


def revert_data_of(error: RpcError) -> bytes | None:
    """The revert payload carried by a JSON-RPC error, or ``None`` if it is no revert.

    Nodes disagree on the shape: geth and anvil put hex in ``data`` (code 3), some
    nest it (``{"data": "0x..."}``), some say ``"Reverted 0x..."``.
    """
    data: Any = error.data
    if isinstance(data, Mapping):
        data = data.get("data", data.get("result"))
    if isinstance(data, str):
        text = data.removeprefix("Reverted ").strip()
        if text.startswith("0x"):
            try:
                return bytes.fromhex(text[2:])
            except ValueError:
                return None
    message = (error.message or "").lower()
    if error.code == 3 or "revert" in message:
        return b""
    return None


class ChainBackend(ABC):
    """The registry on one chain, behind a narrow typed interface.

    Subclasses provide :meth:`_request` (one JSON-RPC call, wire format in and
    out, raising :class:`RpcError` for an error object and
    :class:`~.errors.TransientChainError` / :class:`ChainUnavailableError` for
    transport failures) and :meth:`close`.
    """

    kind: ClassVar[str] = "abstract"

    def __init__(
        self,
        *,
        account: LocalAccount,
        artifact: RegistryArtifactLike,
        admin: LocalAccount | None = None,
        registry_address: str | None = None,
        gas_policy: GasPolicy | None = None,
        confirmations: int = 1,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.5,
        default_priority_fee: int = 1_000_000_000,
        max_fee_per_gas_cap: int | None = None,
        logs_block_range: int | None = None,
    ) -> None:
        if confirmations < 0:
            raise ValueError("confirmations must be >= 0")
        self.account = account
        self.admin = admin
        self.artifact = artifact
        self.codec = RegistryCodec(artifact.abi)
        self.gas_policy = gas_policy or GasPolicy()
        self.confirmations = confirmations
        self.receipt_timeout = receipt_timeout
        self.poll_interval = poll_interval
        self.default_priority_fee = default_priority_fee
        self.max_fee_per_gas_cap = max_fee_per_gas_cap
        self.logs_block_range = logs_block_range
        self._registry: str | None = (
            to_checksum_address(registry_address) if registry_address else None
        )
        self._chain_id: int | None = None
        self._nonce_guard = threading.Lock()
        self._nonce_locks: dict[str, threading.Lock] = {}
        self._next_nonce: dict[str, int] = {}

    # -- transport -------------------------------------------------------------

    @abstractmethod
    def _request(self, method: str, params: Sequence[Any]) -> Any:
        """Send one JSON-RPC request; return its ``result`` in wire format."""

    @abstractmethod
    def close(self) -> None:
        """Release the backend's resources (idempotent)."""

    def __enter__(self) -> ChainBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- identity ----------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = _int(self._request("eth_chainId", []))
        return self._chain_id

    @property
    def registry_address(self) -> str:
        if self._registry is None:
            raise ChainError("no registry address: the backend has not deployed or found one")
        return self._registry

    @property
    def operator_address(self) -> str:
        return str(self.account.address)

    @property
    def admin_account(self) -> LocalAccount:
        """The account that signs admin-only calls by default."""
        return self.admin or self.account

    def block_number(self) -> int:
        return _int(self._request("eth_blockNumber", []))

    def get_code(self, address: str) -> bytes:
        return _bytes(self._request("eth_getCode", [to_checksum_address(address), "latest"]))

    def get_balance(self, address: str) -> int:
        return _int(self._request("eth_getBalance", [to_checksum_address(address), "latest"]))

    # -- registry reads ----------------------------------------------------------

    def call(self, function: str, *args: Any, block: int | str = "latest") -> tuple[Any, ...]:
        """``eth_call`` a registry function; a revert raises :class:`ContractRevertError`."""
        data = self.codec.encode_call(function, *args)
        tag = block if isinstance(block, str) else hex(block)
        request = {"to": self.registry_address, "data": _hex(data)}
        try:
            out = self._request("eth_call", [request, tag])
        except RpcError as exc:
            raise self._as_revert(exc) from None
        return self.codec.decode_output(function, _bytes(out))

    def get_anchor(self, root: bytes) -> AnchorInfo | None:
        """The anchor of ``root``, or ``None`` if it was never anchored."""
        anchorer, epoch, count, timestamp, revoked = self.call("getAnchor", _word(root, "root"))
        if epoch == 0:
            return None
        return AnchorInfo(bytes(root), anchorer, epoch, count, timestamp, revoked)

    def last_epoch(self, anchorer: str | None = None) -> int:
        """Last epoch anchored by ``anchorer`` (default: this node's operator)."""
        return int(self.call("lastEpoch", anchorer or self.operator_address)[0])

    def is_root_valid(self, root: bytes) -> bool:
        return bool(self.call("isRootValid", _word(root, "root"))[0])

    def get_producer(self, producer: str) -> ProducerInfo | None:
        registered, active, registered_at, uri = self.call("getProducer", producer)
        if not registered:
            return None
        return ProducerInfo(to_checksum_address(producer), active, registered_at, uri)

    def is_active_producer(self, producer: str) -> bool:
        return bool(self.call("isActiveProducer", producer)[0])

    def get_recall(self, lot_key: bytes) -> RecallInfo | None:
        recalled, timestamp, by, reason = self.call("getRecall", _word(lot_key, "lot key"))
        if not recalled:
            return None
        return RecallInfo(bytes(lot_key), timestamp, by, reason)

    def is_recalled(self, lot_key: bytes) -> bool:
        return bool(self.call("isRecalled", _word(lot_key, "lot key"))[0])

    def anchorer_metadata(self, anchorer: str) -> str:
        return str(self.call("anchorerMetadata", anchorer)[0])

    def has_role(self, role: bytes, account: str) -> bool:
        return bool(self.call("hasRole", _word(role, "role"), account)[0])

    def is_anchorer(self, account: str) -> bool:
        return self.has_role(ANCHORER_ROLE, account)

    def leaf_of(self, lot_key: bytes, digest: bytes) -> bytes:
        return bytes(self.call("leafOf", _word(lot_key, "lot key"), _word(digest, "digest"))[0])

    def verify_proof(self, root: bytes, leaf: bytes, proof: Sequence[bytes]) -> bool:
        """On-chain check: ``root`` is valid and ``proof`` proves ``leaf`` in it."""
        return bool(
            self.call("verifyProof", _word(root, "root"), _word(leaf, "leaf"), list(proof))[0]
        )

    def verify_multiproof(
        self,
        root: bytes,
        leaves: Sequence[bytes],
        proof: Sequence[bytes],
        proof_flags: Sequence[bool],
        *,
        strict: bool = False,
    ) -> bool:
        """On-chain multiproof check. A malformed multiproof makes the contract revert;
        that means "not proven", so it returns ``False`` unless ``strict``."""
        try:
            out = self.call(
                "verifyMultiProof",
                _word(root, "root"),
                list(leaves),
                list(proof),
                [bool(f) for f in proof_flags],
            )
        except ContractRevertError as exc:
            if strict or exc.error_name not in _MALFORMED_MULTIPROOF:
                raise
            return False
        return bool(out[0])

    # -- registry writes ----------------------------------------------------------

    def anchor(
        self, root: bytes, epoch: int, record_count: int, *, sender: LocalAccount | None = None
    ) -> TxResult:
        """Anchor ``root`` as ``epoch`` and wait for it (with confirmations)."""
        args = (_word(root, "root"), epoch, record_count)
        return self.transact("anchor", *args, sender=sender or self.account)

    def build_anchor_tx(
        self,
        root: bytes,
        epoch: int,
        record_count: int,
        *,
        gas_limit: int | None = None,
        sender: LocalAccount | None = None,
    ) -> SignedTx:
        """Sign (not send) an anchor transaction, reserving its nonce.

        Store the result before :meth:`send_raw`, so a crash between the two re-sends
        the same bytes. The estimate doubles as a pre-flight: a doomed anchor raises
        :class:`ContractRevertError` here. Pass ``gas_limit`` to skip it (for example
        to sign epoch ``n + 1`` before epoch ``n`` is mined). Every transaction built
        must be sent: its nonce is taken.
        """
        data = self.codec.encode_call("anchor", _word(root, "root"), epoch, record_count)
        return self.build_tx(data, self.registry_address, sender or self.account, gas_limit)

    def register_producer(
        self, producer: str, metadata_uri: str, *, sender: LocalAccount | None = None
    ) -> TxResult:
        return self.transact("registerProducer", producer, metadata_uri, sender=sender)

    def deactivate_producer(self, producer: str, *, sender: LocalAccount | None = None) -> TxResult:
        return self.transact("deactivateProducer", producer, sender=sender)

    def reactivate_producer(self, producer: str, *, sender: LocalAccount | None = None) -> TxResult:
        return self.transact("reactivateProducer", producer, sender=sender)

    def register_anchorer(
        self, anchorer: str, metadata: str = "", *, sender: LocalAccount | None = None
    ) -> TxResult:
        return self.transact("registerAnchorer", anchorer, metadata, sender=sender)

    def set_anchorer_metadata(
        self, metadata: str, *, sender: LocalAccount | None = None
    ) -> TxResult:
        return self.transact("setAnchorerMetadata", metadata, sender=sender or self.account)

    def revoke_root(
        self, root: bytes, reason: str, *, sender: LocalAccount | None = None
    ) -> TxResult:
        """Revoke ``root`` (the admin, or the operator that anchored it; default signer:
        the operator)."""
        args = (_word(root, "root"), reason)
        return self.transact("revokeRoot", *args, sender=sender or self.account)

    def recall_lot(
        self, lot_key: bytes, reason: str, *, sender: LocalAccount | None = None
    ) -> TxResult:
        """Record a lot recall (default signer: the operator, relaying the producer)."""
        args = (_word(lot_key, "lot key"), reason)
        return self.transact("recallLot", *args, sender=sender or self.account)

    def transact(
        self,
        function: str,
        *args: Any,
        sender: LocalAccount | None = None,
        gas_limit: int | None = None,
    ) -> TxResult:
        """Call any registry function in a transaction and wait for it.

        Default signer: the admin account. Raises :class:`ContractRevertError` if the
        pre-flight estimate reverts, :class:`TransactionFailedError` if it is mined
        with status 0.
        """
        data = self.codec.encode_call(function, *args)
        return self._transact(data, self.registry_address, sender or self.admin_account, gas_limit)

    def deploy_registry(self, admin: str, *, sender: LocalAccount | None = None) -> TxResult:
        """Deploy the registry with ``admin`` as regulator; adopt its address."""
        data = self.codec.encode_deploy(self.artifact.bytecode, admin)
        result = self._transact(data, None, sender or self.admin_account, None)
        if result.contract_address is None:
            raise ChainError("deployment receipt carries no contract address")
        self._registry = to_checksum_address(result.contract_address)
        return result

    # -- transactions -------------------------------------------------------------

    def build_tx(
        self,
        data: bytes,
        to: str | None,
        sender: LocalAccount,
        gas_limit: int | None = None,
        *,
        value: int = 0,
    ) -> SignedTx:
        """Estimate (unless ``gas_limit``), price and sign a transaction; reserve its nonce."""
        if gas_limit is None:
            gas_limit = self.gas_limit(data, to, sender.address, value=value)
        max_fee, tip = self._fees()
        with self._nonce_lock(sender.address):
            nonce = self._take_nonce(sender.address)
            return self._sign(sender, nonce, to, data, gas_limit, max_fee, tip, value)

    def estimate_gas(self, data: bytes, to: str | None, sender: str, *, value: int = 0) -> int:
        """The node's raw ``eth_estimateGas`` (a revert raises :class:`ContractRevertError`).
        Do not use it as a limit: see :meth:`gas_limit`."""
        request: dict[str, Any] = {"from": sender, "data": _hex(data), "value": hex(value)}
        if to is not None:
            request["to"] = to
        try:
            return _int(self._request("eth_estimateGas", [request]))
        except RpcError as exc:
            raise self._as_revert(exc) from None

    def gas_limit(self, data: bytes, to: str | None, sender: str, *, value: int = 0) -> int:
        """Gas limit by the shared rule (:class:`GasPolicy`): the padded estimate, and at
        least the EIP-7623 calldata floor that eth-tester's estimate ignores."""
        estimate = self.estimate_gas(data, to, sender, value=value)
        return self.gas_policy.limit(estimate, data, create=to is None)

    def send_raw(self, signed: SignedTx) -> bytes:
        """Broadcast a signed transaction; idempotent (re-sending a known or already
        mined transaction returns its hash). Raises :class:`TransactionRejectedError`
        if the node refuses it."""
        try:
            out = self._request("eth_sendRawTransaction", [_hex(signed.raw)])
        except RpcError as exc:
            message = exc.message.lower()
            if any(s in message for s in _ALREADY_KNOWN):
                return signed.tx_hash
            if any(s in message for s in _NONCE_ERRORS) and self._is_known(signed.tx_hash):
                return signed.tx_hash
            raise TransactionRejectedError(exc.message) from exc
        sent = _bytes(out)
        if sent != signed.tx_hash:
            raise ChainError(f"node returned hash {_hex(sent)} for {_hex(signed.tx_hash)}")
        return sent

    def wait_for_receipt(
        self,
        tx_hash: bytes,
        confirmations: int | None = None,
        *,
        timeout: float | None = None,
    ) -> TxResult | None:
        """The mined transaction once it has ``confirmations`` blocks (its own included)
        on the canonical chain, or ``None`` if that does not happen within ``timeout``.

        Returns status-0 results as they are (the high-level calls raise on them).
        """
        depth = self.confirmations if confirmations is None else confirmations
        deadline = time.monotonic() + (self.receipt_timeout if timeout is None else timeout)
        while True:
            result = self._confirmed_result(tx_hash, depth)
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                return None
            time.sleep(self.poll_interval)

    def events_since(self, from_block: int, to_block: int | None = None) -> list[RegistryEvent]:
        """Decoded registry events in ``[from_block, to_block]`` (default: up to the
        latest block), in chain order."""
        last = self.block_number() if to_block is None else to_block
        step = self.logs_block_range or max(1, last - from_block + 1)
        events: list[RegistryEvent] = []
        start = from_block
        while start <= last:
            end = min(last, start + step - 1)
            query = {"address": self.registry_address, "fromBlock": hex(start), "toBlock": hex(end)}
            for entry in self._request("eth_getLogs", [query]) or ():
                event = self._decode_log(entry)
                if event is not None:
                    events.append(event)
            start = end + 1
        events.sort(key=lambda e: e.position)
        return events

    # -- internals -----------------------------------------------------------------

    def _transact(
        self, data: bytes, to: str | None, sender: LocalAccount, gas_limit: int | None
    ) -> TxResult:
        if gas_limit is None:
            gas_limit = self.gas_limit(data, to, sender.address)
        max_fee, tip = self._fees()
        signed = self._sign_and_send(sender, to, data, gas_limit, max_fee, tip)
        result = self.wait_for_receipt(signed.tx_hash)
        if result is None:
            raise ChainUnavailableError(
                f"transaction {_hex(signed.tx_hash)} not confirmed within {self.receipt_timeout}s"
            )
        if not result.succeeded:
            raise TransactionFailedError(result, self._replay_revert(signed, result))
        return result

    def _sign_and_send(
        self,
        sender: LocalAccount,
        to: str | None,
        data: bytes,
        gas_limit: int,
        max_fee: int,
        tip: int,
        attempts: int = 3,
    ) -> SignedTx:
        # The nonce lock is held across sign + send so concurrent callers never
        # sign two transactions with one nonce; waiting happens outside it.
        for attempt in range(attempts):
            with self._nonce_lock(sender.address):
                nonce = self._take_nonce(sender.address)
                signed = self._sign(sender, nonce, to, data, gas_limit, max_fee, tip, 0)
                try:
                    self.send_raw(signed)
                except TransactionRejectedError as exc:
                    self._next_nonce.pop(sender.address, None)  # re-read from the chain
                    stale = any(s in exc.reason.lower() for s in _NONCE_ERRORS)
                    if stale and attempt + 1 < attempts:
                        log.info("nonce %d of %s was stale; retrying", nonce, sender.address)
                        continue
                    raise
                except ChainError:
                    # Unknown whether the node got it: the next nonce comes from the
                    # node's pending count, which includes it if it did.
                    self._next_nonce.pop(sender.address, None)
                    raise
                return signed
        raise AssertionError("unreachable")

    def _sign(
        self,
        sender: LocalAccount,
        nonce: int,
        to: str | None,
        data: bytes,
        gas_limit: int,
        max_fee: int,
        tip: int,
        value: int,
    ) -> SignedTx:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas_limit,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
            "value": value,
            "data": data,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = sender.sign_transaction(tx)
        return SignedTx(
            raw=bytes(signed.raw_transaction),
            tx_hash=bytes(signed.hash),
            nonce=nonce,
            sender=str(sender.address),
            to=tx.get("to"),
            gas_limit=gas_limit,
            max_fee_per_gas=max_fee,
            max_priority_fee_per_gas=tip,
            chain_id=self.chain_id,
        )

    def reset_nonces(self) -> None:
        """Forget locally reserved nonces; the next transaction re-reads the node's pending
        count (call it after deciding not to send a built transaction)."""
        with self._nonce_guard:
            self._next_nonce.clear()

    @contextmanager
    def _nonce_lock(self, address: str) -> Iterator[None]:
        with self._nonce_guard:
            lock = self._nonce_locks.setdefault(address, threading.Lock())
        with lock:
            yield

    def _take_nonce(self, address: str) -> int:
        """Next nonce: the node's pending count, or further if this process has already
        used it (the node may not show our last transaction as pending yet)."""
        pending = _int(self._request("eth_getTransactionCount", [address, "pending"]))
        nonce = max(pending, self._next_nonce.get(address, 0))
        self._next_nonce[address] = nonce + 1
        return nonce

    def _fees(self) -> tuple[int, int]:
        """EIP-1559 ``(maxFeePerGas, maxPriorityFeePerGas)``: twice the latest base fee
        plus the node's suggested tip (or ``default_priority_fee``)."""
        block = self._request("eth_getBlockByNumber", ["latest", False]) or {}
        base_fee = _int(block.get("baseFeePerGas", 0) or 0)
        try:
            tip = _int(self._request("eth_maxPriorityFeePerGas", []))
        except RpcError:
            tip = self.default_priority_fee
        max_fee = 2 * base_fee + tip
        if self.max_fee_per_gas_cap is not None:
            max_fee = min(max_fee, self.max_fee_per_gas_cap)
            tip = min(tip, max_fee)
        return max_fee, tip

    def _is_known(self, tx_hash: bytes) -> bool:
        try:
            return self._request("eth_getTransactionByHash", [_hex(tx_hash)]) is not None
        except RpcError:
            return False

    def _confirmed_result(self, tx_hash: bytes, depth: int) -> TxResult | None:
        receipt = self._request("eth_getTransactionReceipt", [_hex(tx_hash)])
        if not receipt or receipt.get("blockNumber") is None:
            return None
        number = _int(receipt["blockNumber"])
        if depth > 1 and self.block_number() - number + 1 < depth:
            return None
        block = self._request("eth_getBlockByNumber", [hex(number), False])
        if not block or _bytes(block["hash"]) != _bytes(receipt["blockHash"]):
            return None  # reorganised away meanwhile: keep waiting
        tx = self._request("eth_getTransactionByHash", [_hex(tx_hash)]) or {}
        events = tuple(
            e for e in (self._decode_log(entry) for entry in receipt.get("logs", ())) if e
        )
        contract = receipt.get("contractAddress")
        return TxResult(
            tx_hash=bytes(tx_hash),
            block_number=number,
            block_hash=_bytes(receipt["blockHash"]),
            block_timestamp=_int(block["timestamp"]),
            gas_used=_int(receipt["gasUsed"]),
            gas_limit=_int(tx.get("gas", 0)),
            status=_int(receipt.get("status", 1)),
            effective_gas_price=_int(receipt.get("effectiveGasPrice", 0) or 0),
            contract_address=to_checksum_address(contract) if contract else None,
            events=events,
        )

    def _decode_log(self, entry: Mapping[str, Any]) -> RegistryEvent | None:
        if self._registry is None or to_checksum_address(entry["address"]) != self._registry:
            return None
        return self.codec.decode_log(
            [_bytes(t) for t in entry.get("topics", ())],
            _bytes(entry.get("data", "0x")),
            block_number=_int(entry["blockNumber"]),
            tx_hash=_bytes(entry["transactionHash"]),
            log_index=_int(entry["logIndex"]),
            block_hash=_bytes(entry.get("blockHash") or "0x"),
        )

    def _as_revert(self, error: RpcError) -> ChainError:
        data = revert_data_of(error)
        if data is None:
            return error
        return self.codec.decode_revert(data)

    def _replay_revert(self, signed: SignedTx, result: TxResult) -> ContractRevertError | None:
        """Best effort: re-run a failed transaction as a call on its parent block."""
        if signed.to is None:
            return None
        tx = self._request("eth_getTransactionByHash", [_hex(signed.tx_hash)]) or {}
        request = {
            "from": signed.sender,
            "to": signed.to,
            "data": tx.get("input") or tx.get("data") or "0x",
            "gas": hex(signed.gas_limit),
        }
        try:
            self._request("eth_call", [request, hex(max(0, result.block_number - 1))])
        except RpcError as exc:
            revert = self._as_revert(exc)
            return revert if isinstance(revert, ContractRevertError) else None
        except ChainError:
            return None
        return None
