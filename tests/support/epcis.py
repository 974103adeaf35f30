"""EPCIS capture documents for the tests: GS1's own example, adapted to a coffee lot,
and the demo season; both signed by the SDK (client/epcis.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from vntrace.node.epcis.gs1keys import lot_class_uri
from vntrace.node.epcis.mapping import profile_namespace
from vntrace.node.profile import Profile

GS1_EXAMPLES = Path(__file__).resolve().parents[1] / "vectors" / "epcis" / "gs1"
EPCIS_2_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


def gs1_example(profile: Profile, gtin: str, lot: str) -> dict[str, Any]:
    """GS1's EPCIS 2.0 Example 9.6.1 (a shipping and a receiving ObjectEvent) with what
    the coffee profile needs: the lot as ``quantityList`` instead of instance-level SGTINs,
    the profile's required fields, the 2.0.0 context URL (same terms, works offline).
    Everything else stays GS1's: readPoint, bizLocation, bizTransactionList, the vendor
    extension ``example:myField``, the times."""
    doc = json.loads((GS1_EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text("utf-8"))
    doc = copy.deepcopy(doc)
    inline = [c for c in doc["@context"] if isinstance(c, dict)]
    doc["@context"] = [EPCIS_2_CONTEXT, *inline, {"vnt": profile_namespace(profile)}]
    shipping, receiving = doc["epcisBody"]["eventList"]
    for event, kg in ((shipping, 1200), (receiving, 1180)):
        del event["epcList"]
        event["quantityList"] = [
            {"epcClass": lot_class_uri(gtin, lot), "quantity": kg, "uom": "KGM"}
        ]
    shipping["vnt:destinationCountry"] = "DE"
    shipping["vnt:shipper"] = {"name": "Simexco Đắk Lắk"}
    receiving["vnt:receiver"] = {"name": "Hamburg Coffee Import GmbH"}
    return doc
