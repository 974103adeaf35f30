"""``VNTRACE_EUDR_BOUNDARIES``: the node's EUDR checks require plots inside their country."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from shapely.geometry import box

from vntrace.node.config import Settings
from vntrace.node.demo import season_events
from vntrace.node.errors import InvalidInputError
from vntrace.node.records import prepare_record
from vntrace.node.service import Submission, TraceNode


def _boundaries(path: Path) -> Path:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"ISO_A2": "VN"},
                # a box over the Central Highlands only: the demo's plots are inside
                "geometry": box(107.5, 12.0, 109.0, 13.5).__geo_interface__,
            }
        ],
    }
    path.write_text(json.dumps(fc))
    return path


def test_plots_outside_the_configured_country_are_reported(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        eudr_boundaries=_boundaries(tmp_path / "vn.geojson"),
        _env_file=None,
    )
    with TraceNode.open(settings) as node:
        assert set(node.eudr.rules.boundaries) == {"VN"}
        coop = Account.create()
        producer = node.register_producer(coop.address, "HTX")
        gtin = node.profile.gtins[0]
        events = season_events(datetime.now(UTC))
        harvest = next(e for e in events if e["kind"] == "harvest")
        moved = json.loads(json.dumps(harvest))
        moved["geolocation"] = {"type": "Point", "coordinates": [100.523186, 13.736717]}
        moved["plotId"] = "PLOT-BKK"
        subs = []
        for e in (*events, moved):
            rec = prepare_record(node.profile, gtin, "L-1", e).sign(
                coop, node.chain.chain_id, node.chain.registry_address
            )
            subs.append(Submission(rec.event, rec.salt, rec.signature, rec.disclosures))
        node.submit(producer, gtin, "L-1", subs)
        node.anchor_now()
        report = node.eudr.check(gtin, "L-1")
        outside = [i for i in report["issues"] if i["rule"] == "outside_country"]
        assert len(outside) == 1 and outside[0]["where"] == [100.523186, 13.736717], report


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("not json", "not a readable GeoJSON"),
        ('{"type": "FeatureCollection", "features": []}', "no feature"),
    ],
)
def test_a_bad_boundary_file_is_refused_at_start(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "b.geojson"
    path.write_text(content)
    settings = Settings(data_dir=tmp_path / "d", eudr_boundaries=path, _env_file=None)
    with pytest.raises(InvalidInputError, match=match):
        TraceNode.open(settings)
