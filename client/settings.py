"""Client-side configuration: the one place the SDK and its commands read the environment.

| variable | meaning |
|---|---|
| ``VNTRACE_NODE_URL`` | the gateway (default ``http://127.0.0.1:8080``) |
| ``VNTRACE_API_KEY`` | bearer token ``vnt_...`` of a producer or the administrator |
| ``VNTRACE_RPC_URL`` | a chain JSON-RPC to verify against (default: the node's ``/rpc``) |
| ``VNTRACE_REGISTRY_ADDRESS`` | the registry you trust; bundles naming another one fail |
| ``VNTRACE_CHAIN_ID`` | the chain id you trust, likewise |
| ``VNTRACE_LOG_KEY`` | the witnessed log's vkey: require every epoch in its log |
| ``VNTRACE_WITNESSES`` | witness cosigner vkeys you trust (comma or space separated) |
| ``VNTRACE_MIN_WITNESSES`` | how many of them must have cosigned (default 1 with witnesses) |

Not from the environment: ``custodians_ttl`` (seconds, default
:data:`DEFAULT_CUSTODIANS_TTL`), how long a client keeps a node's verified custodians
statement of a producer before fetching it again (docs/epcis.md §6); ``0`` fetches it on
every verification.

The node reads the same ``VNTRACE_RPC_URL`` and ``VNTRACE_REGISTRY_ADDRESS`` for the
chain it anchors on: the meaning is the same, so one shell can drive both. The SDK's
constructors never look at the environment themselves; only :meth:`ClientSettings.from_env`
does, and the command line passes the result explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from .errors import ConfigurationError
from .witness import WitnessPolicy

DEFAULT_NODE_URL = "http://127.0.0.1:8080"
DEFAULT_CUSTODIANS_TTL = 60.0
"""Seconds a verified custodians statement is reused: a revoked custodial key stops
being accepted by a client at most this long after the node stops listing it."""


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Where the node is, who we are, and which chain and registry we trust."""

    node_url: str = DEFAULT_NODE_URL
    api_key: str | None = None
    rpc_url: str | None = None
    registry: str | None = None
    chain_id: int | None = None
    timeout: float = 30.0
    witness_policy: WitnessPolicy | None = None
    custodians_ttl: float = DEFAULT_CUSTODIANS_TTL
    """Seconds a verified custodians statement is reused (``0``: never)."""

    def __post_init__(self) -> None:
        if not self.custodians_ttl >= 0:  # also refuses NaN
            raise ConfigurationError(
                f"custodians_ttl must be 0 or more seconds, not {self.custodians_ttl!r}"
            )

    def __repr__(self) -> str:  # never show the API key
        key = "set" if self.api_key else None
        return (
            f"ClientSettings(node_url={self.node_url!r}, api_key={key!r}, "
            f"rpc_url={self.rpc_url!r}, registry={self.registry!r}, chain_id={self.chain_id!r}, "
            f"witness_policy={self.witness_policy!r}, custodians_ttl={self.custodians_ttl!r})"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ClientSettings:
        """Read the ``VNTRACE_*`` variables above (``environ`` defaults to ``os.environ``)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        chain_id = get("VNTRACE_CHAIN_ID")
        try:
            parsed_chain_id = int(chain_id, 0) if chain_id else None
        except ValueError:
            raise ConfigurationError(f"VNTRACE_CHAIN_ID is not a number: {chain_id!r}") from None
        return cls(
            witness_policy=_policy_from_env(get),
            node_url=get("VNTRACE_NODE_URL") or DEFAULT_NODE_URL,
            api_key=get("VNTRACE_API_KEY"),
            rpc_url=get("VNTRACE_RPC_URL"),
            registry=get("VNTRACE_REGISTRY_ADDRESS"),
            chain_id=parsed_chain_id,
        )

    def with_overrides(self, **values: object) -> ClientSettings:
        """A copy with the non-``None`` values replaced (command-line flags win)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]


def _policy_from_env(get: Callable[[str], str | None]) -> WitnessPolicy | None:
    log_key, witnesses, k = get("VNTRACE_LOG_KEY"), get("VNTRACE_WITNESSES"), None
    if (witnesses or get("VNTRACE_MIN_WITNESSES")) and not log_key:
        raise ConfigurationError("VNTRACE_WITNESSES needs VNTRACE_LOG_KEY (the log they witness)")
    if not log_key:
        return None
    if raw := get("VNTRACE_MIN_WITNESSES"):
        try:
            k = int(raw)
        except ValueError:
            raise ConfigurationError(f"VNTRACE_MIN_WITNESSES is not a number: {raw!r}") from None
    return WitnessPolicy(log_key, witnesses or (), k)


def read_env(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of a variable the user *named* (``--key-env``, ``--password-env``)."""
    env = os.environ if environ is None else environ
    return env.get(name)


__all__ = ["DEFAULT_CUSTODIANS_TTL", "DEFAULT_NODE_URL", "ClientSettings", "read_env"]
