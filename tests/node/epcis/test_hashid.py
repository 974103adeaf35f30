"""CBV 2.0 event hash IDs: ours against the vectors the reference implementation
publishes, against the reference package as an oracle, and on hand-checked rules."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vntrace.node.demo import season_events
from vntrace.node.epcis.errors import HashIdError
from vntrace.node.epcis.gs1keys import canonical_gs1_uri
from vntrace.node.epcis.hashid import (
    document_events,
    document_hash_ids,
    event_hash_id,
    hash_id_of_prehash,
    namespaces_of,
    prehash_string,
)
from vntrace.node.epcis.mapping import epcis_document, to_epcis
from vntrace.node.profile import default_profile

from .conftest import VECTORS, load, reference_prehashes, with_2_0_context

HASHGEN = VECTORS / "hashgen"
# The reference package itself warns (importlib.resources.open_text) on Python 3.11.
pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")
# Published vectors where we deliberately differ (docs/epcis.md, "Event hash ID").
SOURCE_DESTINATION_ORDER = {
    "ReferenceEventHashAlgorithm3",
    "epcisDocWithShippingAndTransportingEvent",
    "epcisDocWithVariousEventTypes",
}
REFERENCE_ONLY_IGNORE_FIELDS = {
    "epcisDocHavingEventWithIgnoreFields",
    "epcisQueryDocHavingEventWithIgnoreFields",
}
VECTOR_FILES = sorted(p for p in HASHGEN.glob("*.jsonld") if p.with_suffix(".hashes").exists())


def _swap_source_destination(prehash: str) -> str:
    """Our pre-hash with the sourceList and destinationList blocks in alphabetical order
    (destination first), which is what the reference emits."""
    m = re.search(r"sourceList.*?(?=destinationList)", prehash)
    if not m:
        return prehash
    source = m.group(0)
    rest = prehash[m.end() :]
    d = re.match(r"destinationList.*?(?=\{|sensorElementList|$)", rest)
    assert d is not None
    return prehash[: m.start()] + d.group(0) + source + rest[d.end() :]


def test_vectors_present() -> None:
    assert len(VECTOR_FILES) >= 20
    assert (HASHGEN / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.parametrize("path", VECTOR_FILES, ids=lambda p: p.stem)
def test_published_vectors(path: Path) -> None:
    doc = load(path)
    expected = path.with_suffix(".hashes").read_text().split()
    ours = document_hash_ids(doc)
    assert len(ours) == len(expected)
    if path.stem in REFERENCE_ONLY_IGNORE_FIELDS:
        # The reference drops fields listed under a private "ignoreFields" key of its own
        # (https://repository-x.example.com/); no standard says so, so we keep them.
        assert ours != expected
        return
    if path.stem in SOURCE_DESTINATION_ORDER:
        # CBV 2.0 §8.9.2 orders sourceList (21) before destinationList (22); the
        # reference sorts them. Differing only by that order is asserted exactly.
        assert ours != expected
        ns = namespaces_of(doc.get("@context"))
        fixed = [
            hash_id_of_prehash(_swap_source_destination(prehash_string(e, ns)))
            for e in document_events(doc)
        ]
        assert fixed == expected
        return
    assert ours == expected
    prehashes = path.with_suffix(".prehashes")
    if prehashes.exists():
        # Some upstream .prehashes files are stale (they no longer hash to .hashes); the
        # lines that do hash to the published ID must equal our pre-hash strings.
        ns = namespaces_of(doc.get("@context"))
        lines = [ln for ln in prehashes.read_text("utf-8").split("\n") if ln]
        mine = [prehash_string(e, ns) for e in document_events(doc)]
        for line, got, want in zip(lines, mine, expected, strict=False):
            if hash_id_of_prehash(line) == want:
                assert got == line


def test_gs1_examples_agree_with_reference(tmp_path: Path) -> None:
    checked = 0
    for path in sorted((VECTORS / "gs1").glob("*.jsonld")):
        doc = with_2_0_context(load(path))
        ns = namespaces_of(doc["@context"])
        ours = [prehash_string(e, ns) for e in document_events(doc)]
        ref = reference_prehashes(doc, tmp_path)
        assert [_swap_source_destination(p) for p in ours] == ref, path.name
        checked += len(ours)
    assert checked >= 8


def test_mapped_demo_events_agree_with_reference(tmp_path: Path) -> None:
    profile = default_profile()
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    events = [to_epcis(profile, profile.gtins[0], "EA-1", e) for e in season_events(now)]
    doc = epcis_document(events, profile, creation_date=now)
    ns = namespaces_of(doc["@context"])
    ours = [prehash_string(e, ns) for e in document_events(doc)]
    ref = reference_prehashes(doc, tmp_path)
    assert len(ours) == len(ref) == 6
    for mine, theirs, event in zip(ours, ref, doc["epcisBody"]["eventList"], strict=True):
        kind = event["vnt:kind"]
        if kind in ("packing", "shipping"):
            # The reference expands any string value equal to a CBV word used in the
            # event, even inside user extensions (vnt:kind "packing" -> BizStep-packing);
            # CBV 2.0 expands bare words of standard vocabulary fields only.
            word = f"}}kind={kind}"
            assert mine.replace(word, f"}}kind=https://ref.gs1.org/cbv/BizStep-{kind}") == theirs
        else:
            assert mine == theirs
        assert event["eventID"] == hash_id_of_prehash(mine)


def test_hash_id_format_and_sha256() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
    }
    pre = prehash_string(event)
    assert pre == (
        "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000ZeventTimeZoneOffset=+00:00"
        "action=OBSERVE"
    )
    digest = hashlib.sha256(pre.encode()).hexdigest()
    assert event_hash_id(event) == f"ni:///sha-256;{digest}?ver=CBV2.0"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2023-01-18T11:04:03.1415Z", "2023-01-18T11:04:03.142Z"),  # rule 9 example
        ("2023-01-18T11:04:03.1425Z", "2023-01-18T11:04:03.143Z"),  # half up, not even
        ("2023-01-18T23:59:59.9996+00:00", "2023-01-19T00:00:00.000Z"),
        ("2023-01-18T12:00:00+07:00", "2023-01-18T05:00:00.000Z"),
    ],
)
def test_time_normalisation(given: str, expected: str) -> None:
    event = {"type": "ObjectEvent", "eventTime": given, "action": "OBSERVE"}
    assert f"eventTime={expected}" in prehash_string(event)


def test_ignored_fields_and_corrections_share_the_hash() -> None:
    base = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "action": "OBSERVE",
        "bizStep": "shipping",
    }
    declared = {
        **base,
        "eventID": "urn:uuid:1",
        "recordTime": "2024-02-01T00:00:00Z",
        "errorDeclaration": {"declarationTime": "2024-03-01T00:00:00Z"},
    }
    assert event_hash_id(base) == event_hash_id(declared)
    assert event_hash_id(base) != event_hash_id({**base, "bizStep": "receiving"})


def test_vocabulary_forms_are_equivalent() -> None:
    bare = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "disposition": "in_transit",
    }
    urn = {
        **bare,
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
        "disposition": "urn:epcglobal:cbv:disp:in_transit",
    }
    web = {
        **bare,
        "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping",
        "disposition": "https://ref.gs1.org/cbv/Disp-in_transit",
    }
    assert event_hash_id(bare) == event_hash_id(urn) == event_hash_id(web)


def test_booleans_follow_xsd_not_python() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2024-01-01T00:00:00Z",
        "action": "OBSERVE",
        "@context": [{"ex": "https://ex.example/"}],
        "ex:ok": True,
    }
    assert prehash_string(event).endswith("{https://ex.example/}ok=true")


@pytest.mark.parametrize(
    ("uri", "canonical"),
    [
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
        (
            "urn:epc:class:lgtin:4012345.012345.998877",
            "https://id.gs1.org/01/04012345123456/10/998877",
        ),
        ("urn:epc:id:sgln:0614141.07346.1234", "https://id.gs1.org/414/0614141073467/254/1234"),
        ("urn:epc:id:sgln:0614141.00777.0", "https://id.gs1.org/414/0614141007776"),
        ("urn:epc:id:sscc:0614141.1234567890", "https://id.gs1.org/00/106141412345678908"),
        (
            "https://example.com/gtin/8936099000015/lot/L1?linkType=all",
            "https://id.gs1.org/01/08936099000015/10/L1",
        ),
        (
            "https://id.gs1.org/01/08936099000015/10/L1/21/S9",
            "https://id.gs1.org/01/08936099000015/21/S9",
        ),
        ("urn:uuid:374d95fc-9457-4a51-bd6a-0bba133845a8", None),
        ("https://example.com/no/key", None),
    ],
)
def test_gs1_key_normalisation(uri: str, canonical: str | None) -> None:
    assert canonical_gs1_uri(uri) == canonical


def test_bad_events_raise() -> None:
    with pytest.raises(HashIdError):
        prehash_string({"type": "Nope", "eventTime": "2024-01-01T00:00:00Z"})
    with pytest.raises(HashIdError):
        prehash_string({"type": "ObjectEvent"})
    with pytest.raises(HashIdError):
        document_hash_ids({"epcisBody": {}})
