"""Records: the events producers sign, and everything needed to check them.

Pure and light: standard library, safe-pysha3, rfc8785, eth-account/eth-keys/coincurve
only (no web3, py-evm, FastAPI or SQLAlchemy), so the client SDK reuses it as is.

- identifiers: GTIN, lot number (GS1 AI 10), Digital Link URI, ``lot_key``.
- canonical: RFC 8785 JCS with strict parsing and limits.
- digest: ``record_digest = keccak256(salt || JCS(event))`` and ``record_leaf``.
- validation: an event against its product profile, every error with its field path.
- confidential: salted commitments for private fields, and disclosures to open them.
- signing: EIP-712 ``Record(bytes32 lot, bytes32 digest)`` signatures, fast recovery.
- model: ``prepare_record`` (signer), ``build_signed_record`` (SDK and node signing a
  checked EPCIS event) and ``verify_signed_record`` (node, verifiers).

The hashing rules are those of "Hashing and proofs" in shared/DESIGN.md; docs/records.md
describes the event and profile formats and the decisions taken here.
"""

from .canonical import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    canonicalize,
    check_canonicalizable,
    parse_event_json,
    parse_json,
    parse_stored,
)
from .confidential import (
    check_disclosure,
    commit_private_fields,
    commitment_of,
    open_private_fields,
)
from .digest import as_bytes32, digest_canonical, new_salt, record_digest, record_leaf
from .errors import (
    CanonicalizationError,
    ConfidentialFieldError,
    EventValidationError,
    FieldError,
    IdentifierError,
    RecordError,
    RecordIntegrityError,
    SignatureError,
)
from .identifiers import (
    digital_link_uri,
    encode_lot,
    gs1_check_digit,
    is_valid_gtin,
    lot_key,
    lot_path,
    normalize_gtin,
    parse_digital_link,
    validate_gln,
    validate_lot,
    validate_sscc,
)
from .model import (
    PreparedRecord,
    RecordSigner,
    SignedRecord,
    build_signed_record,
    prepare_record,
    verify_record,
    verify_signed_record,
)
from .signing import (
    domain_separator,
    parse_signature,
    private_key_address,
    record_hash,
    record_typed_data,
    recover_record_signer,
    sign_record,
    to_checksum_address,
    verify_record_signature,
)
from .validation import ValidatedEvent, is_commitment, parse_rfc3339, validate_event

__all__ = [
    # identifiers
    "digital_link_uri",
    "encode_lot",
    "gs1_check_digit",
    "is_valid_gtin",
    "lot_key",
    "lot_path",
    "normalize_gtin",
    "parse_digital_link",
    "validate_gln",
    "validate_lot",
    "validate_sscc",
    # canonical JSON
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_SAFE_INTEGER",
    "canonicalize",
    "check_canonicalizable",
    "parse_event_json",
    "parse_json",
    "parse_stored",
    # digest and leaf
    "as_bytes32",
    "digest_canonical",
    "new_salt",
    "record_digest",
    "record_leaf",
    # validation
    "ValidatedEvent",
    "is_commitment",
    "parse_rfc3339",
    "validate_event",
    # confidential fields
    "check_disclosure",
    "commit_private_fields",
    "commitment_of",
    "open_private_fields",
    # signatures
    "domain_separator",
    "parse_signature",
    "private_key_address",
    "record_hash",
    "record_typed_data",
    "recover_record_signer",
    "sign_record",
    "to_checksum_address",
    "verify_record_signature",
    # records
    "PreparedRecord",
    "RecordSigner",
    "SignedRecord",
    "build_signed_record",
    "prepare_record",
    "verify_record",
    "verify_signed_record",
    # errors
    "CanonicalizationError",
    "ConfidentialFieldError",
    "EventValidationError",
    "FieldError",
    "IdentifierError",
    "RecordError",
    "RecordIntegrityError",
    "SignatureError",
]
