"""vntrace.client: the SDK producers and buyers import.

- :class:`Client` / :class:`AsyncClient`: every resource of a node's gateway.
- :class:`ProducerSigner`: validates, commits, salts, digests and signs events on the
  producer's machine, exactly as the node checks them; keys from the environment or an
  encrypted keystore (:func:`create_keystore`).
- :func:`verify_bundle` / :func:`verify_provenance` (and ``*_async``): independent
  verification, offline and then against the registry over any JSON-RPC, returning a
  :class:`VerificationResult`; the gateway's own verdict is never used.
- Accountability: :meth:`Client.audit` / :func:`audit_receipts` hold the node to its
  signed intake receipts (:func:`save_receipts`, :func:`load_receipts`);
  :meth:`Client.disclosures` / :func:`check_disclosures` check confidential values
  against the commitments the producer signed.

Light on purpose: importing it loads no py-evm, eth-tester, web3, FastAPI or SQLAlchemy.
See docs/client.md.
"""

from ._client import AsyncClient, Client, Progress
from .audit import AuditReport, NodeKey, audit_receipts, audit_receipts_async
from .chain import AnchorFacts, AsyncChainReader, ChainReader, ProducerFacts, RecallFacts
from .disclosures import DisclosureResult, check_disclosures
from .errors import (
    AnchorTimeoutError,
    ApiError,
    AuthError,
    ChainReadError,
    ConfigurationError,
    ConflictError,
    DisclosureError,
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
    NodeIdentity,
    NodeInfo,
    Producer,
    Recall,
    RecordAck,
    RecordStatus,
    ServerVerdict,
)
from .receipts import load_receipts, save_receipts
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
from .witness import WitnessPolicy

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
    "WitnessPolicy",
    "verify_bundle",
    "verify_bundle_async",
    "verify_bundles",
    "verify_bundles_async",
    "verify_provenance",
    "verify_provenance_async",
    # accountability: receipts, audit, confidential values
    "AuditReport",
    "DisclosureResult",
    "NodeKey",
    "audit_receipts",
    "audit_receipts_async",
    "check_disclosures",
    "load_receipts",
    "save_receipts",
    # models
    "ApiKey",
    "Epoch",
    "EpochPage",
    "LotWritten",
    "Me",
    "NodeIdentity",
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
    "DisclosureError",
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
