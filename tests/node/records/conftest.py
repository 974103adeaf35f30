"""Shared fixtures: the two profiles, a fixed clock and one valid event per kind."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vntrace.node.profile import Profile, default_profile, load_profile

PEPPER_PATH = Path(__file__).resolve().parents[1] / "profiles" / "pepper-vn.json"
NOW = datetime(2024, 11, 20, 3, 0, tzinfo=UTC)
GTIN = "08936099000015"
LOT = "EA-2024/11"
REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 131277322940537
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")

PLOT_POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [
            [108.051234, 12.681234],
            [108.061234, 12.681234],
            [108.061234, 12.691234],
            [108.051234, 12.691234],
            [108.051234, 12.681234],
        ]
    ],
}

_EVENTS: dict[str, dict[str, Any]] = {
    "harvest": {
        "kind": "harvest",
        "eventTime": "2024-11-02T07:30:00+07:00",
        "countryOfProduction": "VN",
        "province": "Đắk Lắk",
        "geolocation": {"type": "Point", "coordinates": [108.051234, 12.681234]},
        "plotAreaHa": 1.8,
        "harvestDate": "2024-10-28",
        "harvestEndDate": "2024-11-01",
        "quantity": {"value": 5200, "unit": "KGM"},
        "producer": {"name": "HTX Nông nghiệp Ea Tu", "gln": "8936099000008"},
        "farmer": {"name": "Y Bhiông Niê", "id": "066090001234"},
    },
    "drying": {
        "kind": "drying",
        "eventTime": "2024-11-15T16:00:00+07:00",
        "inputQuantity": {"value": 5.2, "unit": "TNE"},
        "outputQuantity": {"value": 2400, "unit": "KGM"},
        "method": "raised_bed",
        "moisturePercent": 12.5,
        "startDate": "2024-11-03",
    },
    "hulling": {
        "kind": "hulling",
        "eventTime": "2024-11-18T09:00:00+07:00",
        "inputQuantity": {"value": 2400, "unit": "KGM"},
        "outputQuantity": {"value": 1300, "unit": "KGM"},
        "grade": "R1 S18",
    },
    "roasting": {
        "kind": "roasting",
        "eventTime": "2024-11-19T09:00:00+07:00",
        "inputQuantity": {"value": 100, "unit": "KGM"},
        "outputQuantity": {"value": 84, "unit": "KGM"},
        "roastLevel": "medium_dark",
    },
    "packing": {
        "kind": "packing",
        "eventTime": "2024-11-19T10:00:00+07:00",
        "packageCount": 20,
        "packageType": "jute bag 60 kg",
        "netQuantity": {"value": 1200, "unit": "KGM"},
        "sscc": "089360990000000015",
    },
    "shipping": {
        "kind": "shipping",
        "eventTime": "2024-11-19T14:00:00+07:00",
        "quantity": {"value": 1.2, "unit": "TNE"},
        "destinationCountry": "DE",
        "shipper": {"name": "Simexco Đắk Lắk"},
        "buyer": {"name": "Hamburg Kaffee GmbH"},
        "price": {"amount": "5150.00", "currency": "USD"},
        "transportMode": "sea",
        "containerNumber": "MSCU1234565",
        "portOfLoading": "VNSGN",
    },
    "receiving": {
        "kind": "receiving",
        "eventTime": "2024-11-19T20:00:00+01:00",
        "quantity": {"value": 1200, "unit": "KGM"},
        "receiver": {"name": "Hamburg Kaffee GmbH"},
        "country": "DE",
        "conditionOk": True,
    },
    "recall": {
        "kind": "recall",
        "eventTime": "2024-11-20T08:00:00+07:00",
        "reason": "Ochratoxin A above 5 µg/kg in retained sample",
        "reasonCode": "contamination",
    },
}


def sample_event(kind: str) -> dict[str, Any]:
    """A fresh, valid robusta-vn event of ``kind`` (deep copy: tests may mutate it)."""
    return copy.deepcopy(_EVENTS[kind])


@pytest.fixture(scope="session")
def robusta() -> Profile:
    return default_profile()


@pytest.fixture(scope="session")
def pepper() -> Profile:
    return load_profile(PEPPER_PATH)
