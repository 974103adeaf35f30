"""The EPCIS tables (migration 4) on SQLite and PostgreSQL: capture jobs, the index,
exact-match queries with keyset paging, and the walk a rebuild takes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from vntrace.node.demo import season_events
from vntrace.node.epcis.hashid import event_hash_id
from vntrace.node.epcis.index import identifier, index_entry, parse_query
from vntrace.node.epcis.mapping import to_epcis
from vntrace.node.epcis.store import EpcisStore
from vntrace.node.profile import default_profile
from vntrace.node.records import canonicalize
from vntrace.node.store import Store

from .helpers import make_world

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_capture_jobs(store: Store) -> None:
    world = make_world(store)
    s = EpcisStore(store.engine)
    s.create_capture("cap_1", world.producer.id, 1000)
    job = s.get_capture("cap_1")
    assert job is not None and (job.state, job.errors, job.finished_at) == ("running", [], None)
    errors = [{"index": 2, "eventID": "urn:uuid:x", "rule": "schema", "path": "", "message": "é"}]
    s.finish_capture("cap_1", "failed", 2000, errors=errors)
    job = s.get_capture("cap_1")
    assert job is not None and (job.state, job.errors, job.finished_at) == ("failed", errors, 2000)
    assert s.get_capture("cap_2") is None


def test_index_query_and_paging(store: Store) -> None:
    world = make_world(store)
    profile = default_profile()
    gtin = profile.gtins[0]
    s = EpcisStore(store.engine)
    lots = [world.lot("EA-1"), world.lot("EA-2")]
    entries, new = [], []
    for lot in lots:
        for event in season_events(NOW):
            epcis = to_epcis(profile, gtin, lot.lot_number, event)
            rec = world.record(lot)
            new.append(dataclasses.replace(rec, event_json=canonicalize(epcis)))
            entries.append((rec.leaf, index_entry(epcis, event_hash_id(epcis), "cap_x")))
    rows = store.add_records(new)
    s.index(entries)
    s.index(entries[:2])  # indexing again changes nothing
    assert s.unindexed(0, 100) == []

    def leaves(params: dict[str, str], after: int = 0, limit: int = 100) -> list[bytes]:
        return [r.leaf for r in s.query(parse_query(params), after_id=after, limit=limit)]

    all_leaves = [r.leaf for r in rows]
    assert leaves({}) == all_leaves
    assert len(leaves({"EQ_bizStep": "shipping"})) == 2
    assert len(leaves({"EQ_bizStep": "shipping|packing"})) == 4
    lot1 = identifier(f"https://id.gs1.org/01/{gtin}/10/EA-1")
    assert leaves({"MATCH_anyEPCClass": lot1}) == all_leaves[:6]
    assert (
        leaves({"MATCH_anyEPCClass": lot1, "eventType": "TransformationEvent"}) == (all_leaves[2:4])
    )
    assert leaves({"EQ_eventID": entries[7][1].event_hash_id}) == [all_leaves[7]]
    times = sorted(e.event_time for _, e in entries)
    cut = datetime.fromtimestamp(times[6] / 1000, UTC).isoformat()
    assert len(leaves({"LT_eventTime": cut})) == sum(t < times[6] for t in times)
    # Keyset paging: pages of 5 cover everything exactly once, in id order.
    seen, after = [], 0
    while page := s.query(parse_query({}), after_id=after, limit=5):
        seen += [r.leaf for r in page]
        after = page[-1].record_id
    assert seen == all_leaves
    assert s.hash_ids(all_leaves[:1]) == {all_leaves[0]: entries[0][1].event_hash_id}


def test_unindexed_walks_records_not_in_the_index(store: Store) -> None:
    n = 3
    world = make_world(store)
    lot = world.lot("EA-9")
    rows = store.add_records([world.record(lot, i) for i in range(n)])
    s = EpcisStore(store.engine)
    assert [r.leaf for r in s.unindexed(0, 100)] == [r.leaf for r in rows]
    assert [r.leaf for r in s.unindexed(rows[0].id, 1)] == [rows[1].leaf]
