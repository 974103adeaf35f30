"""eth-tester's py-evm backend over a persistent database.

eth-tester builds its chain in ``setup_tester_chain`` from whatever class the
process-wide ``CHAIN_DB_BACKEND_CLASS`` variable names, and always creates a new
genesis. :class:`PersistentPyEVMBackend` instead builds the same chain class on a
database passed explicitly, creates genesis only when the database has no
canonical head, and otherwise resumes from the stored head. No environment
variable, so several embedded chains can live in one process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eth.abc import AtomicDatabaseAPI, BlockHeaderAPI
from eth.chains.base import MiningChain
from eth.exceptions import CanonicalHeadNotFound
from eth.exceptions import TransactionNotFound as EVMTransactionNotFound
from eth.vm.forks import PragueVM
from eth_keys.datatypes import PrivateKey
from eth_tester.backends.pyevm.main import (
    PyEVMBackend,
    generate_genesis_state_for_keys,
    get_default_genesis_params,
)
from eth_tester.backends.pyevm.serializers import (
    serialize_transaction,
    serialize_transaction_receipt,
)
from eth_tester.exceptions import TransactionNotFound
from eth_utils import encode_hex
from eth_utils.toolz import assoc

__all__ = ["PersistentPyEVMBackend", "build_chain_class", "has_canonical_head"]


def build_chain_class(chain_id: int) -> type[MiningChain]:
    """The chain eth-tester builds (Prague from genesis, constant gas limit) for ``chain_id``."""

    class VntraceTesterChain(MiningChain):
        vm_configuration = ((0, PragueVM),)

        def create_header_from_parent(
            self, parent_header: BlockHeaderAPI, **header_params: Any
        ) -> BlockHeaderAPI:
            # Keep the gas limit constant, as eth-tester does.
            return super().create_header_from_parent(
                parent_header, **assoc(header_params, "gas_limit", parent_header.gas_limit)
            )

        def get_transaction_builder(self) -> Any:  # used by eth-tester
            return super().get_vm().get_transaction_builder()

    VntraceTesterChain.chain_id = chain_id
    return VntraceTesterChain


def has_canonical_head(db: AtomicDatabaseAPI, chain_class: type[MiningChain]) -> bool:
    try:
        chain_class.get_chaindb_class()(db).get_canonical_head()
    except CanonicalHeadNotFound:
        return False
    return True


class PersistentPyEVMBackend(PyEVMBackend):
    """A ``PyEVMBackend`` whose chain lives in ``db`` and resumes across restarts.

    ``account_keys`` are the accounts eth-tester reports (and funds at genesis);
    ``extra_genesis_state`` adds more funded accounts at genesis (the node's keys).
    Both only matter the first time; afterwards genesis is whatever is stored.
    """

    def __init__(
        self,
        db: AtomicDatabaseAPI,
        *,
        chain_id: int,
        account_keys: Sequence[PrivateKey],
        extra_genesis_state: Mapping[bytes, Mapping[str, Any]] | None = None,
    ) -> None:
        # PyEVMBackend.__init__ would create a fresh genesis: do not call it.
        self.account_keys = tuple(account_keys)
        chain_class = build_chain_class(chain_id)
        self.created_genesis = not has_canonical_head(db, chain_class)
        if self.created_genesis:
            state = dict(generate_genesis_state_for_keys(self.account_keys))
            state.update(extra_genesis_state or {})
            self.chain = chain_class.from_genesis(db, get_default_genesis_params(), state)
        else:
            self.chain = chain_class(db)

    def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("a persistent chain is never reset to genesis")

    # eth-tester finds transactions by scanning every block backwards: O(chain length).
    # py-evm indexes canonical transactions by hash; use that.

    def _locate(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
        try:
            number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
        except EVMTransactionNotFound:
            pending = self.chain.get_block()
            for i, txn in enumerate(pending.transactions):
                if txn.hash == transaction_hash:
                    return pending, txn, i
            raise TransactionNotFound(
                f"No transaction found for transaction hash: {encode_hex(transaction_hash)}"
            ) from None
        block = self.chain.get_canonical_block_by_number(number)
        return block, block.transactions[index], index

    def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
        block, txn, index = self._locate(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        return serialize_transaction(block, txn, index, is_pending)

    def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
        block, txn, index = self._locate(transaction_hash)
        is_pending = block.number == self.chain.get_block().number
        receipts = block.get_receipts(self.chain.chaindb)
        return serialize_transaction_receipt(
            block, receipts, txn, index, is_pending, self.chain.get_vm()
        )
