"""EPCIS 2.0 for vntrace: mapping, CBV 2.0 event hash IDs, validation, corrections.

Pure cores (dicts in, values or typed errors out); docs/epcis.md describes the mapping,
what is signed and what is not supported yet.
"""

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
"""The one EPCIS and CBV version this node speaks (as GS1's OpenAPI writes them)."""
VERSION_HEADERS = {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION}
"""On every EPCIS answer and webhook delivery (the REST bindings' headers)."""
