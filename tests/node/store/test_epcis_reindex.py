"""Migration 7 on SQLite and PostgreSQL: events indexed at schema version 6 (migration
4's columns only) get action, error reason, corrective eventIDs and record time once the
node re-derives the rows an older index wrote; their capture job is kept."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, datetime

from sqlalchemy import inspect, select

from vntrace.node.demo import season_events
from vntrace.node.epcis.hashid import event_hash_id
from vntrace.node.epcis.index import INDEX_VERSION, index_entry, parse_query
from vntrace.node.epcis.mapping import to_epcis
from vntrace.node.epcis.store import EpcisStore
from vntrace.node.profile import default_profile
from vntrace.node.records import canonicalize
from vntrace.node.services.epcis import refresh_index
from vntrace.node.store import Store, migrate
from vntrace.node.store import m0004_epcis as v4
from vntrace.node.store.migrations import MIGRATIONS
from vntrace.node.store.schema import epcis_corrective_ids, epcis_epcs, epcis_events

from .helpers import make_world

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
CORRECTIVE = "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"


def _v4_row(leaf: bytes, entry: object) -> dict[str, object]:
    """An ``epcis_events`` row as migration 4's code wrote it."""
    return {c.name: getattr(entry, c.name, None) for c in v4.epcis_events.columns} | {
        "leaf": leaf,
        "capture_id": "cap_before_7",
    }


def test_rows_indexed_before_migration_7_get_the_new_columns(store_url: str) -> None:
    profile = default_profile()
    gtin = profile.gtins[0]
    with Store.open(store_url, run_migrations=False) as store:
        assert migrate(store.engine, migrations=MIGRATIONS[:6]) == [1, 2, 3, 4, 5, 6]
        assert "epcis_corrective_ids" not in inspect(store.engine).get_table_names()
        world = make_world(store)
        lot = world.lot("EA-7")
        events = [to_epcis(profile, gtin, lot.lot_number, e) for e in season_events(NOW)]
        declaration = copy.deepcopy(events[-1])  # the shipping event, declared wrong
        declaration["errorDeclaration"] = {
            "declarationTime": "2026-03-02T00:00:00Z",
            "reason": "urn:epcglobal:cbv:er:incorrect_data",
            "correctiveEventIDs": [CORRECTIVE],
        }
        events.append(declaration)
        new = [
            dataclasses.replace(world.record(lot, i), event_json=canonicalize(e))
            for i, e in enumerate(events)
        ]
        rows = store.add_records(new)
        entries = [index_entry(e, event_hash_id(e), None) for e in events]
        with store.engine.begin() as conn:  # what migration 4's index wrote
            conn.execute(
                v4.epcis_events.insert(),
                [_v4_row(r.leaf, e) for r, e in zip(rows, entries, strict=True)],
            )
            conn.execute(
                v4.epcis_epcs.insert(),
                [
                    {"leaf": r.leaf, "role": role, "value": value}
                    for r, e in zip(rows, entries, strict=True)
                    for role, value in e.epcs
                ],
            )

        assert migrate(store.engine) == [7]
        s = EpcisStore(store.engine)
        assert [r.leaf for r in s.stale(0, 100)] == [r.leaf for r in rows]
        # Before the re-derivation the new parameters find nothing.
        assert s.query(parse_query({"EQ_action": "ADD"}), limit=100) == []
        assert s.query(parse_query({"EQ_correctiveEventID": CORRECTIVE}), limit=100) == []

        assert refresh_index(s) == len(rows)
        assert s.stale(0, 100) == []
        assert refresh_index(s) == 0  # idempotent

        def leaves(params: dict[str, str]) -> list[bytes]:
            return [r.leaf for r in s.query(parse_query(params), limit=100)]

        assert leaves({"EQ_action": "ADD"}) == [r.leaf for r in rows[:2]] + [rows[4].leaf]
        assert leaves({"EQ_action": "OBSERVE"}) == [rows[5].leaf, rows[6].leaf]
        assert leaves({"EQ_errorReason": "incorrect_data"}) == [rows[6].leaf]
        assert leaves({"EQ_correctiveEventID": CORRECTIVE}) == [rows[6].leaf]
        received = [int(r.received_at.timestamp() * 1000) for r in rows]
        ordered = s.query(parse_query({"orderBy": "recordTime", "orderDirection": "ASC"}), limit=99)
        assert [r.record_time for r in ordered] == received
        with store.engine.connect() as conn:
            got = conn.execute(
                select(
                    epcis_events.c.capture_id,
                    epcis_events.c.index_version,
                    epcis_events.c.action,
                    epcis_events.c.error_reason,
                ).where(epcis_events.c.leaf == rows[6].leaf)
            ).one()
            assert tuple(got) == ("cap_before_7", INDEX_VERSION, "OBSERVE", "incorrect_data")
            assert conn.execute(select(epcis_corrective_ids.c.event_id)).scalars().all() == [
                CORRECTIVE
            ]
            epcs = conn.execute(select(epcis_epcs.c.leaf, epcis_epcs.c.role)).all()
        assert len(epcs) == sum(len(e.epcs) for e in entries)  # re-derived, not doubled
