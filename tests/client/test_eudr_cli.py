"""``vntrace eudr check|export`` as real processes against a real node, and the SDK's
export verification: output, exit codes, files written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geojson

from vntrace.client import eudr
from vntrace.node.eudr.geometry import check_geometry

from .conftest import Node, Producer, anchored_lot, clean_env, events, new_lot
from .test_cli import vntrace


def env_of(node: Node) -> dict[str, str]:
    return clean_env(VNTRACE_NODE_URL=node.url)


def test_check_clean_lot_exits_0(node: Node, producer: Producer) -> None:
    lot = anchored_lot(producer, count=6)
    r = vntrace("eudr", "check", lot.gtin, lot.lot, env=env_of(node))
    assert r.returncode == 0, r.stderr
    assert "2 plot(s), nothing the EU would refuse" in r.stdout


def test_check_lists_problems_and_exits_1(node: Node, producer: Producer) -> None:
    client = producer.client
    gtin, lot = client.info().gtins[0], new_lot()
    # drying and hulling only: no plots, and not anchored yet
    signed = producer.signer.sign_many(gtin, lot, events(4)[2:4])
    client.register_lot(gtin, lot, signed)
    r = vntrace("eudr", "check", gtin, lot, env=env_of(node))
    assert r.returncode == 1, r.stderr
    assert "no_plots" in r.stdout and "problem(s)" in r.stdout
    j = vntrace("eudr", "check", gtin, lot, "--json", env=env_of(node))
    assert j.returncode == 1 and json.loads(j.stdout)["ok"] is False


def test_export_writes_a_verified_dds(node: Node, producer: Producer, tmp_path: Path) -> None:
    lots = [anchored_lot(producer, count=6) for _ in range(2)]
    out = tmp_path / "dds"
    r = vntrace(
        "eudr", "export", lots[0].gtin, lots[0].lot, lots[1].lot, "--out", str(out),
        "--country-of-activity", "DE", env=env_of(node),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "4 plot(s) verified on chain" in r.stderr
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert {"statement.json", "plots.geojson", "manifest.json"} <= set(names)
    assert len([n for n in names if n.startswith("bundles/")]) == 4
    plots = geojson.loads((out / "plots.geojson").read_text())
    assert plots.is_valid and len(plots["features"]) == 4
    for f in plots["features"]:
        area = f["properties"]["plotAreaHa"]
        assert check_geometry(dict(f["geometry"]), plot="x", declared_area_ha=area) == []
    statement = json.loads((out / "statement.json").read_text())["statement"]
    assert statement["countryOfActivity"] == "DE"
    assert not list(tmp_path.glob(".dds.*"))  # no temporary folder left
    # a second export into the same folder is refused and leaves it untouched
    before = (out / "statement.json").read_bytes()
    again = vntrace("eudr", "export", lots[0].gtin, lots[0].lot, "--out", str(out),
                    env=env_of(node))  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    assert (out / "statement.json").read_bytes() == before


def test_sdk_verifies_every_plot_and_refuses_a_tampered_one(
    node: Node, producer: Producer, tmp_path: Path
) -> None:
    lot = anchored_lot(producer, count=6)
    with node.admin() as client:
        doc: dict[str, Any] = eudr.export(client, lot.gtin, [lot.lot])
        results = eudr.verify_export(client, doc)
        assert [r.status for r in results] == ["verified", "verified"]
        doc["bundles"][0]["event"]["plotAreaHa"] = 1.7
        (bad, good) = eudr.verify_export(client, doc)
        assert bad.status == "failed" and good.status == "verified"


def test_export_of_a_lot_without_plots_is_refused(node: Node, producer: Producer,
                                                  tmp_path: Path) -> None:  # fmt: skip
    lot = anchored_lot(producer, count=1)  # one harvest: fine
    assert vntrace("eudr", "check", lot.gtin, lot.lot, env=env_of(node)).returncode == 0
    r = vntrace("eudr", "export", lot.gtin, "NOPE-" + lot.lot, "--out", str(tmp_path / "x"),
                env=env_of(node))  # fmt: skip
    assert r.returncode == 5 and "404" in r.stderr
    assert not (tmp_path / "x").exists()
