"""One exception tree for everything the chain seam can raise.

Callers catch :class:`ChainError` for "the chain said no or is unreachable" and
the subclasses when they act differently: a :class:`ContractRevertError` is
final (the contract refused, retrying will not help), a
:class:`ChainUnavailableError` means retry later, a
:class:`TransactionFailedError` means the transaction was mined and reverted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .types import TxResult

__all__ = [
    "ChainError",
    "ChainUnavailableError",
    "ConfigurationError",
    "ContractRevertError",
    "RpcError",
    "TransactionFailedError",
    "TransactionRejectedError",
    "TransientChainError",
]


class ChainError(Exception):
    """Base of every error raised by ``vntrace.node.chain``."""


class ConfigurationError(ChainError):
    """The backend cannot start as configured (no registry code, wrong chain id, locked dir)."""


class RpcError(ChainError):
    """A JSON-RPC error object returned by the node (``code``, ``message``, ``data``)."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(f"JSON-RPC error {code}: {message}")
        self.code = code
        self.message = message
        self.data = data

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.code, self.message, self.data))


class ContractRevertError(ChainError):
    """The contract reverted; the revert data is decoded with the registry ABI.

    ``error_name`` is the Solidity error (``VntraceUnexpectedEpoch``,
    ``AccessControlUnauthorizedAccount``, ``Error`` for ``Error(string)``,
    ``Panic`` for ``Panic(uint256)``; ``None`` for an empty or unknown revert),
    ``args`` its decoded arguments in order and ``named_args`` the same by name.
    """

    def __init__(
        self,
        error_name: str | None,
        args: tuple[Any, ...] = (),
        *,
        named_args: Mapping[str, Any] | None = None,
        data: bytes = b"",
    ) -> None:
        super().__init__()
        self.error_name = error_name
        self.args = tuple(args)  # the decoded error arguments, not a message
        self.named_args: dict[str, Any] = dict(named_args or {})
        self.data = bytes(data)

    def __str__(self) -> str:
        if self.error_name is None:
            return "empty revert" if not self.data else f"unknown error 0x{self.data[:4].hex()}"
        return f"{self.error_name}({', '.join(_render(a) for a in self.args)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_revert, (self.error_name, self.args, self.named_args, self.data))


def _rebuild_revert(
    error_name: str | None, args: tuple[Any, ...], named_args: dict[str, Any], data: bytes
) -> ContractRevertError:
    return ContractRevertError(error_name, args, named_args=named_args, data=data)


def _render(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and not (value.startswith("0x") and len(value) == 42):
        return repr(value)  # a reason string; addresses print bare
    return str(value)


class TransientChainError(ChainError):
    """A failure that may pass on retry: connection refused, timeout, HTTP 5xx or 429."""


class ChainUnavailableError(ChainError):
    """The chain stayed unreachable through every retry (or a receipt never came)."""


class TransactionRejectedError(ChainError):
    """The node refused the transaction (nonce too low, underpriced, insufficient funds)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransactionFailedError(ChainError):
    """The transaction was mined with status 0.

    ``result`` is the mined :class:`~vntrace.node.chain.types.TxResult`;
    ``revert`` the decoded reason when the node could replay it, else ``None``.
    """

    def __init__(self, result: TxResult, revert: ContractRevertError | None = None) -> None:
        reason = f": {revert}" if revert is not None else ""
        super().__init__(f"transaction 0x{result.tx_hash.hex()} failed{reason}")
        self.result = result
        self.revert = revert
