"""``vntrace demo``: a demo cooperative with signed, anchored, verifiable records.

Seeds the node with two producers (a Đắk Lắk coffee cooperative and an exporter),
their keys, two lots and a season of events (harvest on two plots, drying, hulling,
packing, shipping with a confidential price), anchors them, and shows a newcomer what
a consumer's verification says, including for a tampered copy. Producer keys are kept
in ``<data_dir>/demo-producers.json`` (mode 0600, demo only) so later commands can sign
as them. Running it again adds a new season of lots.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account import Account

from vntrace.node.config import Settings
from vntrace.node.records import digital_link_uri, prepare_record
from vntrace.node.service import Submission, TraceNode

KEYS_FILE = "demo-producers.json"


def _keys(data_dir: Path) -> dict[str, str]:
    path = data_dir / KEYS_FILE
    if path.exists():
        return json.loads(path.read_text())
    keys = {"coop": "0x" + secrets.token_hex(32), "exporter": "0x" + secrets.token_hex(32)}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(keys, f)
    return keys


def season_events(now: datetime) -> list[dict[str, Any]]:
    """One lot's events, oldest first, valid under the default Robusta profile."""

    def at(days: float, hour: int = 8) -> str:
        t = (now - timedelta(days=days)).astimezone(UTC).replace(hour=hour, minute=0, second=0)
        return t.isoformat().replace("+00:00", "Z")

    def day(days: float) -> str:
        return (now - timedelta(days=days)).date().isoformat()

    coop = {"name": "HTX Nông nghiệp Ea Tu", "gln": "8936099000008"}
    return [
        {
            "kind": "harvest",
            "eventTime": at(30),
            "countryOfProduction": "VN",
            "province": "Đắk Lắk",
            "plotId": "EA-TU-017",
            "geolocation": {"type": "Point", "coordinates": [108.051234, 12.681234]},
            "plotAreaHa": 1.8,
            "harvestDate": day(32),
            "quantity": {"value": 5200, "unit": "KGM"},
            "producer": coop,
            "variety": "Robusta TR4",
        },
        {
            "kind": "harvest",
            "eventTime": at(29),
            "countryOfProduction": "VN",
            "province": "Đắk Lắk",
            "plotId": "EA-TU-042",
            "geolocation": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [108.061234, 12.691234],
                        [108.063584, 12.691234],
                        [108.063584, 12.693534],
                        [108.061234, 12.693534],
                        [108.061234, 12.691234],
                    ]
                ],
            },
            "plotAreaHa": 6.5,
            "harvestDate": day(31),
            "quantity": {"value": 9.4, "unit": "TNE"},
            "producer": coop,
        },
        {
            "kind": "drying",
            "eventTime": at(20),
            "inputQuantity": {"value": 14.6, "unit": "TNE"},
            "outputQuantity": {"value": 6800, "unit": "KGM"},
            "method": "raised_bed",
            "moisturePercent": 12.5,
            "startDate": day(28),
        },
        {
            "kind": "hulling",
            "eventTime": at(15),
            "inputQuantity": {"value": 6800, "unit": "KGM"},
            "outputQuantity": {"value": 3700, "unit": "KGM"},
            "grade": "R1 S18",
        },
        {
            "kind": "packing",
            "eventTime": at(10),
            "packageCount": 60,
            "packageType": "jute bag 60 kg",
            "netQuantity": {"value": 3600, "unit": "KGM"},
        },
        {
            "kind": "shipping",
            "eventTime": at(5),
            "quantity": {"value": 3600, "unit": "KGM"},
            "destinationCountry": "DE",
            "shipper": {"name": "Simexco Đắk Lắk"},
            "buyer": {"name": "Hamburg Kaffee Import GmbH"},
            "price": {"amount": "16740.00", "currency": "USD"},
            "transportMode": "sea",
            "portOfLoading": "VNSGN",
        },
    ]


def run_demo(data_dir: Path | None = None, *, out: Any = print) -> int:
    """Seed, anchor and verify; prints a short tour. Returns a process exit code."""
    settings = Settings(**({"data_dir": data_dir} if data_dir else {}))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = _keys(settings.data_dir)
    with TraceNode.open(settings) as node:
        info = node.info()
        coop_acct = Account.from_key(keys["coop"])
        coop = node.register_producer(
            coop_acct.address, "HTX Nông nghiệp Ea Tu", "https://example.org/ea-tu"
        )
        out(f"producer  {coop.name}  {coop_acct.address}")
        gtin = node.profile.gtins[0]
        now = datetime.now(UTC)
        lots = [f"EA-{now:%Y%m%d-%H%M%S}-{i}" for i in (1, 2)]
        for lot in lots:
            subs = []
            for event in season_events(now):
                prepared = prepare_record(node.profile, gtin, lot, event)
                signed = prepared.sign(coop_acct, info["chainId"], info["registry"])
                subs.append(Submission(signed.event, signed.salt, signed.signature))
            acks = node.submit(coop, gtin, lot, subs)
            out(f"lot       {lot}: {len(acks)} records acknowledged")
        epochs = node.anchor_now()
        out(f"anchored  {epochs} epoch(s) on chain {info['chainId']} (registry {info['registry']})")
        for lot in lots:
            prov = node.provenance(gtin, lot)
            ids = [r["recordId"] for r in prov["records"]]
            verdicts = node.verify_records(ids)
            ok = sum(v.ok for v in verdicts)
            out(
                f"verify    {digital_link_uri(settings.base_url, gtin, lot)}: "
                f"{ok}/{len(verdicts)} records verified and anchored"
            )
        bundle = node.bundle(ids[0])
        tampered = json.loads(json.dumps(bundle))
        tampered["event"]["plotAreaHa"] = 1.7
        bad = node.verify_bundles([tampered])[0]
        out(
            f"tamper    changed plotAreaHa in a copy of {ids[0][:18]}…: {bad.status} "
            f"({', '.join(bad.reasons)})"
        )
        out(f"data      {settings.data_dir.resolve()}")
        return 0 if ok == len(verdicts) and bad.status == "failed" else 1
