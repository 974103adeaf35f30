"""The chain seam of the node: one typed interface, two backends.

The anchoring pipeline, the API and the SDK checks talk only to
:class:`ChainBackend`; :func:`open_backend` builds one:

- ``"embedded"`` — :class:`EmbeddedChain`: py-evm in process, persisted in LMDB
  under ``<data_dir>/chain``, registry deployed on first start;
- ``"rpc"`` — :class:`RpcChain`: any Ethereum JSON-RPC node (anvil, geth, Besu).

See ``docs/chains.md`` for the design (persistence, gas rule, keys, confirmations).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from eth_account.signers.local import LocalAccount

from .base import ANCHORER_ROLE, DEFAULT_ADMIN_ROLE, ChainBackend, RegistryArtifactLike
from .errors import (
    ChainError,
    ChainUnavailableError,
    ConfigurationError,
    ContractRevertError,
    RpcError,
    TransactionFailedError,
    TransactionRejectedError,
    TransientChainError,
)
from .gas import GasPolicy, calldata_floor, calldata_tokens
from .keys import load_account, save_keystore
from .retry import RetryPolicy
from .types import AnchorInfo, ProducerInfo, RecallInfo, RegistryEvent, SignedTx, TxResult

__all__ = [
    "ANCHORER_ROLE",
    "DEFAULT_ADMIN_ROLE",
    "AnchorInfo",
    "ChainBackend",
    "ChainError",
    "ChainUnavailableError",
    "ConfigurationError",
    "ContractRevertError",
    "EmbeddedChain",
    "GasPolicy",
    "ProducerInfo",
    "RecallInfo",
    "RegistryArtifactLike",
    "RegistryEvent",
    "RetryPolicy",
    "RpcChain",
    "RpcError",
    "SignedTx",
    "TransactionFailedError",
    "TransactionRejectedError",
    "TransientChainError",
    "TxResult",
    "calldata_floor",
    "calldata_tokens",
    "load_account",
    "open_backend",
    "save_keystore",
]

BackendKind = Literal["embedded", "rpc"]


def open_backend(
    kind: BackendKind,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    url: str | None = None,
    account: LocalAccount | None = None,
    admin: LocalAccount | None = None,
    registry_address: str | None = None,
    **options: Any,
) -> ChainBackend:
    """Open a backend by kind. ``embedded`` needs ``data_dir`` (``account``/``admin``
    optional); ``rpc`` needs ``url`` and ``account``. ``options`` go to the class."""
    if kind == "embedded":
        if data_dir is None:
            raise ConfigurationError("the embedded chain needs data_dir")
        if registry_address is not None:
            raise ConfigurationError("the embedded chain manages its own registry address")
        from .embedded import EmbeddedChain

        return EmbeddedChain(data_dir, account=account, admin=admin, **options)
    if kind == "rpc":
        if url is None or account is None:
            raise ConfigurationError("the rpc backend needs url and account")
        from .rpc import RpcChain

        return RpcChain(url, account, registry_address, admin=admin, **options)
    raise ConfigurationError(f"unknown chain backend {kind!r} (expected 'embedded' or 'rpc')")


def __getattr__(name: str) -> Any:
    # The backends import web3 and py-evm (slow); load them on first use.
    if name == "EmbeddedChain":
        from .embedded import EmbeddedChain

        return EmbeddedChain
    if name == "RpcChain":
        from .rpc import RpcChain

        return RpcChain
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
