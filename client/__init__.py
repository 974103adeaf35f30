"""vntrace.client: the SDK producers and buyers import.

- :class:`Client` / :class:`AsyncClient`: every resource of a node's gateway.
- :class:`ProducerSigner`: validates, commits, salts, digests and signs events on the
  producer's machine, exactly as the node checks them; keys from the environment or an
  encrypted keystore (:func:`create_keystore`).
- :func:`verify_bundle` / :func:`verify_provenance` (and ``*_async``): independent
  verification, offline and then against the registry over any JSON-RPC, returning a
  :class:`VerificationResult`; the gateway's own verdict is never used.

Light on purpose: importing it loads no py-evm, eth-tester, web3, FastAPI or SQLAlchemy.
See docs/client.md.
"""

from ._client import AsyncClient, Client, Progress
from .chain import AnchorFacts, AsyncChainReader, ChainReader, ProducerFacts, RecallFacts
from .errors import (
    AnchorTimeoutError,
    ApiError,
    AuthError,
    ChainReadError,
    ConfigurationError,
    ConflictError,
    FieldIssue,
    KeystoreError,
    NotFoundError,
    RateLimitError,
    ServerError,
    SigningError,
    TransportError,
    UploadError,
    ValidationError,
    VerificationError,
    VntraceError,
)
from .models import (
    ApiKey,
    Epoch,
    EpochPage,
    LotWritten,
    Me,
    NodeInfo,
    Producer,
    Recall,
    RecordAck,
    RecordStatus,
    ServerVerdict,
)
from .settings import ClientSettings
from .signer import ProducerSigner, SignedEvent, create_keystore, load_keystore
from .verify import (
    ChainAnchor,
    VerificationResult,
    verify_bundle,
    verify_bundle_async,
    verify_bundles,
    verify_bundles_async,
    verify_provenance,
    verify_provenance_async,
)

__all__ = [
    # clients
    "AsyncClient",
    "Client",
    "ClientSettings",
    "Progress",
    # signing
    "ProducerSigner",
    "SignedEvent",
    "create_keystore",
    "load_keystore",
    # verification
    "AnchorFacts",
    "AsyncChainReader",
    "ChainAnchor",
    "ChainReader",
    "ProducerFacts",
    "RecallFacts",
    "VerificationResult",
    "verify_bundle",
    "verify_bundle_async",
    "verify_bundles",
    "verify_bundles_async",
    "verify_provenance",
    "verify_provenance_async",
    # models
    "ApiKey",
    "Epoch",
    "EpochPage",
    "LotWritten",
    "Me",
    "NodeInfo",
    "Producer",
    "Recall",
    "RecordAck",
    "RecordStatus",
    "ServerVerdict",
    # errors
    "AnchorTimeoutError",
    "ApiError",
    "AuthError",
    "ChainReadError",
    "ConfigurationError",
    "ConflictError",
    "FieldIssue",
    "KeystoreError",
    "NotFoundError",
    "RateLimitError",
    "ServerError",
    "SigningError",
    "TransportError",
    "UploadError",
    "ValidationError",
    "VerificationError",
    "VntraceError",
]
