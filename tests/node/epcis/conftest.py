"""Shared helpers for the EPCIS tests: vector paths, the reference hasher as an oracle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "epcis"
EPCIS_2_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def with_2_0_context(doc: dict[str, Any]) -> dict[str, Any]:
    """GS1's examples use the older simple-context URL; the reference hasher works offline
    only with the 2.0.0 one, which defines the same terms."""
    ctx = doc["@context"] if isinstance(doc["@context"], list) else [doc["@context"]]
    return {**doc, "@context": [EPCIS_2_CONTEXT] + [c for c in ctx if isinstance(c, dict)]}


def reference_prehashes(doc: dict[str, Any], tmp_path: Path) -> list[str]:
    """Pre-hash strings from the PyPI ``epcis-event-hash-generator`` (the oracle)."""
    from epcis_event_hash_generator import events_from_file_reader, hash_generator

    path = tmp_path / "doc.jsonld"
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
    events = events_from_file_reader.event_list_from_file(str(path))
    return hash_generator.derive_prehashes_from_events(events)
