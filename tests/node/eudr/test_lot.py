"""Lot checks and DDS building on provenance documents (pure cores, no node needed)."""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vntrace.node.demo import season_events
from vntrace.node.eudr.dds import ExportOptions, build_export
from vntrace.node.eudr.errors import EudrInputError, ExportTooLargeError, ExportWriteError
from vntrace.node.eudr.files import write_export
from vntrace.node.eudr.lot import check_lot, lot_facts
from vntrace.node.profile import default_profile

PROFILE = default_profile()
GTIN = PROFILE.gtins[0]


def provenance(events: list[dict[str, Any]], lot: str = "L1") -> dict[str, Any]:
    return {
        "gtin": GTIN,
        "lot": lot,
        "chainId": 1,
        "registry": "0x" + "11" * 20,
        "records": [
            {"recordId": f"0x{i:064x}", "status": "anchored", "event": e}
            for i, e in enumerate(events, start=1)
        ],
    }


def bundles_of(prov: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["recordId"]: {"leaf": r["recordId"], "event": r["event"]} for r in prov["records"]}


def season() -> list[dict[str, Any]]:
    return copy.deepcopy(season_events(datetime(2026, 11, 20, tzinfo=UTC)))


def rules(prov: dict[str, Any]) -> list[str]:
    return [i["rule"] for i in check_lot(PROFILE, prov).issues]


def test_demo_season_is_clean() -> None:
    assert rules(provenance(season())) == []


def test_mass_appearing_from_nowhere_is_questioned() -> None:
    events = season()
    events[2]["inputQuantity"] = {"value": 20, "unit": "TNE"}  # harvest gave 14.6 t
    assert rules(provenance(events)) == ["mass_balance"]


def test_harvest_after_production_and_mixed_countries() -> None:
    events = season()
    events[0]["harvestDate"] = events[3]["eventTime"][:10]
    events[1]["countryOfProduction"] = "LA"
    assert set(rules(provenance(events))) == {"harvest_after_production", "mixed_countries"}


def test_pending_and_missing_geolocation() -> None:
    prov = provenance(season())
    prov["records"][4]["status"] = "pending"
    prov["records"][0]["event"]["geolocation"] = {"commitment": "0x" + "ab" * 32}
    assert rules(prov) == ["no_geolocation", "not_anchored"]


def test_export_refuses_bad_plots_with_plot_and_rule() -> None:
    events = season()
    events[1]["plotAreaHa"] = 6.5 * 1.3
    prov = provenance(events)
    with pytest.raises(EudrInputError) as caught:
        build_export(PROFILE, [prov], bundles_of(prov))
    (err,) = caught.value.errors
    assert err["rule"] == "area_mismatch" and err["plot"].startswith("EA-TU-042")
    assert err["lot"] == "L1" and err["where"]


def test_export_size_limit() -> None:
    prov = provenance(season())
    doc = build_export(PROFILE, [prov], bundles_of(prov))
    with pytest.raises(ExportTooLargeError, match="split the shipment"):
        build_export(
            PROFILE, [prov], bundles_of(prov), ExportOptions(max_bytes=doc["statementBytes"] - 1)
        )


def test_facts_for_the_page() -> None:
    facts = lot_facts(PROFILE, provenance(season()))
    assert facts["plots"] == 2 and facts["countries"] == ["VN"]
    assert facts["totalAreaHa"] == pytest.approx(8.2947, abs=1e-3)
    assert [f["properties"]["ProductionPlace"] for f in facts["geojson"]["features"]] == [
        "EA-TU-017",
        "EA-TU-042",
    ]


def test_write_is_atomic(tmp_path: Path) -> None:
    prov = provenance(season())
    doc = build_export(PROFILE, [prov], bundles_of(prov))
    files = write_export(doc, tmp_path / "out")
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert len(manifest["files"]) == len(files) - 1 == 4
    # a folder that cannot be written: nothing is left behind
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):
            print("NOTE: running as root, permissions do not stop writes; checking rename only")
        else:
            with pytest.raises(ExportWriteError, match="cannot write"):
                write_export(doc, locked / "out")
            assert list(locked.iterdir()) == []
    finally:
        os.chmod(locked, 0o700)
    # an error half-way (a bundle that cannot be serialised) leaves no folder
    bad = dict(doc, bundles=[*doc["bundles"], {"leaf": "0xbad", "x": object()}])
    with pytest.raises(TypeError):
        write_export(bad, tmp_path / "half")
    assert not (tmp_path / "half").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
