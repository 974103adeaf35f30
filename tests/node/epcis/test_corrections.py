"""Error declarations are recognised as corrections and never deduplicated away."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vntrace.node.demo import season_events
from vntrace.node.epcis.corrections import correction_of, dedup_key
from vntrace.node.epcis.errors import EpcisError
from vntrace.node.epcis.hashid import document_events, event_hash_id
from vntrace.node.epcis.mapping import epcis_document, to_epcis
from vntrace.node.epcis.validate import validate_document
from vntrace.node.profile import default_profile

from .conftest import VECTORS, load

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_gs1_error_declaration_example() -> None:
    doc = load(VECTORS / "gs1" / "ErrorDeclarationAndCorrectiveEvent.jsonld")
    declared, corrective = document_events(doc)
    correction = correction_of(declared)
    assert correction is not None
    assert correction.reason == "incorrect_data"
    assert correction.corrected_event_id == "urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8"
    assert correction.corrective_event_ids == (corrective["eventID"],)
    assert correction.to_dict()["declarationTime"] == "2020-01-15T00:00:00+01:00"
    assert correction_of(corrective) is None


def test_a_correction_of_a_demo_event_is_captured_and_kept_apart() -> None:
    profile = default_profile()
    original = to_epcis(profile, profile.gtins[0], "EA-1", season_events(NOW)[5])
    declared = {
        **original,
        "errorDeclaration": {
            "declarationTime": "2026-03-01T13:00:00Z",
            "reason": "https://ref.gs1.org/cbv/ER-incorrect_data",
            "correctiveEventIDs": ["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"],
        },
    }
    captured = validate_document(epcis_document([original, declared], profile), profile, now=NOW)
    first, second = captured
    assert first.correction is None
    assert second.correction is not None and second.correction.reason == "incorrect_data"
    assert second.correction.corrected_event_id == original["eventID"]
    # Same CBV hash ID and eventID (EPCIS 2.0 §7.4.1.4), different dedup keys.
    assert first.hash_id == second.hash_id == event_hash_id(original)
    assert dedup_key(first.hash_id, first.event) != dedup_key(second.hash_id, second.event)
    assert dedup_key(first.hash_id, first.event) == dedup_key(first.hash_id, dict(original))


@pytest.mark.parametrize(
    "decl",
    [
        "yes",
        {"reason": "did_not_occur"},
        {"declarationTime": "2026-03-01T13:00:00Z", "reason": "oops"},
        {"declarationTime": "2026-03-01T13:00:00Z", "correctiveEventIDs": [1]},
    ],
)
def test_malformed_declarations_are_refused(decl: object) -> None:
    with pytest.raises(EpcisError):
        correction_of({"type": "ObjectEvent", "errorDeclaration": decl})
