"""The node's settings: one pydantic-settings class, read from ``VNTRACE_*`` variables.

Every knob the node, the gateway and the CLI read lives here, so nothing else calls
``os.getenv``. Secrets are ``SecretStr`` (never printed, never logged). Values can also
come from a ``.env`` file in the working directory.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Configuration of one vntrace node (defaults: a dev node on the embedded chain)."""

    model_config = SettingsConfigDict(
        env_prefix="VNTRACE_", env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("vntrace-data"),
        description="Folder holding the database, the embedded chain and the node's keys.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite (WAL) at <data_dir>/vntrace.db.",
    )
    profile: str = Field(default="robusta-vn", description="Product profile name or path.")

    chain: Literal["embedded", "rpc"] = "embedded"
    rpc_url: str | None = Field(default=None, description="JSON-RPC URL when chain=rpc.")
    registry_address: str | None = Field(
        default=None, description="Registry contract on the rpc chain; deployed if unset."
    )
    operator_key: SecretStr | None = Field(
        default=None, description="Hex private key of the anchoring account (rpc chain)."
    )
    keystore_path: Path | None = Field(
        default=None, description="Encrypted JSON keystore of the anchoring account."
    )
    keystore_password: SecretStr | None = None
    admin_key: SecretStr | None = Field(
        default=None,
        description="Hex key of the registry admin (the regulator), for dev and test chains "
        "where the node may register producers itself. Never set this in production.",
    )
    confirmations: int = Field(
        default=0, ge=0, description="Blocks to wait after an anchor's receipt (rpc chain)."
    )
    workers: int = Field(
        default_factory=usable_cores,
        ge=1,
        le=64,
        description="Gateway processes of vntrace serve, default one per usable core (one "
        "node: one store, one anchorer; on the embedded chain the serving process holds "
        "the chain for the workers). 1 serves from the process itself.",
    )
    chain_host: str | None = Field(
        default=None,
        description="Internal, set by vntrace serve --workers: the local URL of the process "
        "holding the embedded chain (its token is in <data_dir>/chain/host-token).",
    )

    epoch_seconds: float = Field(
        default=2.0, gt=0, description="Seal pending records at least this often."
    )
    epoch_max_records: int = Field(
        default=10_000, ge=1, description="Seal as soon as this many records are pending."
    )

    identity_passphrase: SecretStr | None = Field(
        default=None,
        description="Passphrase encrypting the node's Ed25519 identity key on disk.",
    )
    vault_keys: SecretStr | None = Field(
        default=None,
        description="AES-256 keys for confidential field values, 'kid:hex64[,kid:hex64...]'; "
        "the last one encrypts new values. Default: a key created in <data_dir>/vault-keys.",
    )
    fault_points: str | None = Field(
        default=None,
        description="Test only: crash points for fault injection (see vntrace.node.faults).",
    )

    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For/"
        "-Proto headers are trusted (e.g. '127.0.0.1' behind a local nginx). Unset: no "
        "forwarded header is trusted, so clients cannot spoof their address.",
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    public_base_url: str | None = Field(
        default=None,
        description="Base of the GS1 Digital Link URIs printed on packages; default: the "
        "node's own address.",
    )

    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the gateway's administrator (at least 32 characters). "
        "Unset: an admin API key is issued on first start and written to "
        "<data_dir>/admin-token (mode 0600).",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body of most endpoints."
    )
    max_batch_body_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Largest request body of the batch endpoints (lots, events, verify, rpc).",
    )
    max_events_per_request: int = Field(
        default=1000, ge=1, description="Most events one lot or events request may carry."
    )
    max_verify_items: int = Field(
        default=1000, ge=1, description="Most bundles plus record ids in one verify request."
    )
    rate_limit_per_second: float = Field(
        default=50.0,
        ge=0,
        description="Sustained requests per second per API key (or per client address when "
        "anonymous); 0 turns rate limiting off.",
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, description="Requests a caller may send at once above the rate."
    )
    eudr_boundaries: Path | None = Field(
        default=None,
        description="GeoJSON FeatureCollection of country boundaries (features with "
        "properties.iso2 or ISO_A2, WGS 84): EUDR checks then require each plot inside "
        "its declared countryOfProduction. None ships (docs/eudr.md).",
    )
    log_origin: str | None = Field(
        default=None,
        description="Origin line of the epoch log's checkpoints (default: host of "
        "public_base_url + /vntrace-log, else vntrace/<node id>); fixed at first use.",
    )
    log_witnesses: list[str] = Field(
        default_factory=list,
        description='Witnesses to push checkpoints to, each "URL VKEY" (JSON list in env).',
    )
    log_witness_retry_seconds: float = Field(
        default=30.0, gt=0, description="How often to retry witnesses that did not cosign."
    )
    epcis_webhook_allow_private: bool = Field(
        default=False,
        description="Let EPCIS subscriptions deliver to loopback, private and link-local "
        "addresses (tests, closed networks). Off: such a dest is refused.",
    )
    epcis_subscription_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the EPCIS subscription worker looks for work."
    )
    epcis_webhook_retry_seconds: float = Field(
        default=5.0, gt=0, description="First retry delay of a failed webhook (doubles each time)."
    )
    epcis_webhook_max_attempts: int = Field(
        default=12, ge=1, description="Attempts before a webhook delivery is marked failed."
    )

    @model_validator(mode="after")
    def _check_chain(self) -> Settings:
        if self.chain == "rpc" and not self.rpc_url:
            raise ValueError("VNTRACE_RPC_URL is required when VNTRACE_CHAIN=rpc")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite inside the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vntrace.db').resolve()}"

    @cached_property
    def base_url(self) -> str:
        """Where the node is reached, for Digital Link URIs and printed hints."""
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/")
