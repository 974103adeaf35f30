"""EPCIS 2.0 for vntrace: mapping, CBV 2.0 event hash IDs, validation, corrections.

Pure cores (dicts in, values or typed errors out); docs/epcis.md describes the mapping,
what is signed and what is not supported yet.
"""
