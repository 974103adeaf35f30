"""The registry on any Ethereum JSON-RPC node (anvil, geth, Besu) over HTTP.

Requests go through web3's ``HTTPProvider`` but bypass web3's middleware and its
own retry loop: the raw JSON-RPC response is what the shared backend decodes,
and retries follow :class:`RetryPolicy` (bounded exponential backoff with
jitter on connection errors, timeouts, HTTP 5xx and 429). Transactions are
signed locally; the node never sees a key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import requests
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import HTTPProvider

from .base import ChainBackend, RegistryArtifactLike
from .errors import ChainError, ConfigurationError, RpcError, TransientChainError
from .gas import GasPolicy
from .retry import RetryPolicy

__all__ = ["RpcChain"]

log = logging.getLogger(__name__)

#: JSON-RPC error codes that mean "try again" (rate limited / resource busy).
_TRANSIENT_RPC_CODES = frozenset({-32005, 429})


class RpcChain(ChainBackend):
    """A :class:`ChainBackend` over JSON-RPC at ``url``.

    ``account`` (the operator) signs anchors; ``admin`` (optional) signs admin-only
    calls by default, else ``account`` does. Without ``registry_address`` the
    registry is deployed (``admin`` or ``account`` becomes its admin) and the
    operator is registered as anchorer. ``confirmations`` is the depth a receipt
    needs (1 = mined); ``expected_chain_id`` guards against signing for the wrong
    network.
    """

    kind = "rpc"

    def __init__(
        self,
        url: str,
        account: LocalAccount,
        registry_address: str | None = None,
        *,
        admin: LocalAccount | None = None,
        artifact: RegistryArtifactLike | None = None,
        confirmations: int = 1,
        expected_chain_id: int | None = None,
        retry: RetryPolicy | None = None,
        request_timeout: float = 10.0,
        receipt_timeout: float = 120.0,
        poll_interval: float = 0.5,
        gas_policy: GasPolicy | None = None,
        default_priority_fee: int = 1_000_000_000,
        max_fee_per_gas_cap: int | None = None,
        logs_block_range: int = 5_000,
        anchorer_metadata: str = "vntrace node",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if artifact is None:
            from vntrace.contracts import load_artifact

            artifact = load_artifact()
        super().__init__(
            account=account,
            admin=admin,
            artifact=artifact,
            registry_address=registry_address,
            gas_policy=gas_policy,
            confirmations=confirmations,
            receipt_timeout=receipt_timeout,
            poll_interval=poll_interval,
            default_priority_fee=default_priority_fee,
            max_fee_per_gas_cap=max_fee_per_gas_cap,
            logs_block_range=logs_block_range,
        )
        self.url = url
        self.retry = retry or RetryPolicy()
        self._session: requests.Session | None = requests.Session()
        self._session.headers.update(headers or {})  # e.g. a provider's or host's token
        self._provider = HTTPProvider(
            url,
            request_kwargs={"timeout": request_timeout},
            session=self._session,
            exception_retry_configuration=None,
        )
        try:
            if expected_chain_id is not None and self.chain_id != expected_chain_id:
                raise ConfigurationError(
                    f"{url} serves chain id {self.chain_id}, expected {expected_chain_id}"
                )
            if registry_address is None:
                result = self.deploy_registry(self.admin_account.address)
                log.info(
                    "deployed registry at %s (block %d)", self.registry_address, result.block_number
                )
            elif not self.get_code(self.registry_address):
                raise ConfigurationError(f"no contract code at {self.registry_address} on {url}")
            if not self.is_anchorer(self.operator_address):
                if registry_address is not None and self.admin is None:
                    log.warning("%s lacks ANCHORER_ROLE on %s", self.operator_address, url)
                else:
                    self.register_anchorer(self.operator_address, anchorer_metadata)
        except BaseException:
            self.close()
            raise

    def _request(self, method: str, params: Sequence[Any]) -> Any:
        return self.retry.call(lambda: self._request_once(method, list(params)), what=method)

    def _request_once(self, method: str, params: list[Any]) -> Any:
        if self._session is None:
            raise ChainError("the RPC backend is closed")
        try:
            response = self._provider.make_request(method, params)  # type: ignore[arg-type]
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise TransientChainError(f"{self.url}: {type(exc).__name__}") from exc
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500 or status == 429:
                raise TransientChainError(f"{self.url}: HTTP {status}") from exc
            raise ChainError(f"{self.url}: HTTP {status} for {method}") from exc
        except ValueError as exc:  # not JSON: a proxy's error page during a restart
            raise TransientChainError(f"{self.url}: malformed response to {method}") from exc
        error = response.get("error")
        if error is not None:
            if not isinstance(error, dict):
                raise RpcError(-32603, str(error))
            code = int(error.get("code", -32603))
            message = str(error.get("message", ""))
            if code in _TRANSIENT_RPC_CODES:
                raise TransientChainError(f"{self.url}: {message}")
            raise RpcError(code, message, error.get("data"))
        return response.get("result")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __repr__(self) -> str:
        registry = to_checksum_address(self._registry) if self._registry else None
        return f"RpcChain({self.url!r}, operator={self.operator_address}, registry={registry})"
