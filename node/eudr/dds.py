"""The data of a due diligence statement (DDS), in the EU information system's shape.

Pure: provenance documents and proof bundles in, one export document out (statement,
plain GeoJSON of all plots, bundles). The statement mirrors the ``statement`` element of
the EU's ``submitDds`` request (EUDR API for operators, CF2 v1.4, V2 examples):
``activityType``, ``countryOfActivity``, ``commodities[].descriptors.descriptionOfGoods``,
``goodsMeasure.netWeight`` (kg), ``hsHeading``, ``producers[]`` with ``country``, ``name``
and ``geometryGeojson`` (a GeoJSON FeatureCollection, base64), ``geoLocationConfidential``.
Field by field in docs/eudr.md §4.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import EudrInputError, ExportTooLargeError
from .geometry import GeometryRules
from .lot import check_lot, net_mass_kg, plot_feature, plots_of

if TYPE_CHECKING:
    from vntrace.node.profile import Profile

MAX_DDS_BYTES = 25_000_000
"""The EU information system's limit per DDS, 25 MB (see docs/eudr.md §3); read as
decimal megabytes, the stricter of the two readings."""
ACTIVITY_TYPES = ("IMPORT", "EXPORT", "DOMESTIC", "TRADE")
HS_HEADINGS = {"robusta-vn": "0901"}
"""HS heading per profile: coffee is 0901 (EUDR Annex I)."""
FORMAT = "vntrace-eudr-export/1"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What the operator adds that the chain does not know."""

    activity_type: str = "IMPORT"
    country_of_activity: str | None = None
    internal_reference: str | None = None
    hs_heading: str | None = None
    geolocation_confidential: bool = False
    max_bytes: int = MAX_DDS_BYTES


def _b64(doc: Any) -> str:
    return base64.b64encode(_json(doc)).decode("ascii")


def _json(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def build_export(
    profile: Profile,
    provenances: Sequence[dict[str, Any]],
    bundles: Mapping[str, dict[str, Any]],
    options: ExportOptions | None = None,
    rules: GeometryRules | None = None,
) -> dict[str, Any]:
    """The export of one lot or a shipment of lots, or :class:`EudrInputError` listing
    every plot the EU would refuse (an export is never made of refused plots)."""
    options = options or ExportOptions()
    if options.activity_type not in ACTIVITY_TYPES:
        raise EudrInputError(
            f"activity type {options.activity_type!r} is not one of {', '.join(ACTIVITY_TYPES)}"
        )
    if not provenances:
        raise EudrInputError("no lot to export")
    refused = []
    for prov in provenances:
        report = check_lot(profile, prov, rules)
        for issue in report.issues:
            if issue["severity"] == "refused":
                where = issue.get("where")
                at = f" at [{where[0]}, {where[1]}]" if where else ""
                plot = f" plot {issue['plot']}" if issue.get("plot") else ""
                refused.append(
                    dict(
                        issue,
                        lot=prov["lot"],
                        field=f"lot {prov['lot']}{plot}",
                        code=issue["rule"],
                        message=f"{issue['message']}{at}",
                    )
                )
    if refused:
        raise EudrInputError(
            f"{len(refused)} problem(s) the EU information system would refuse; "
            "run `vntrace eudr check` for the list",
            errors=refused,
        )

    hs = options.hs_heading or HS_HEADINGS.get(profile.id)
    if hs is None:
        raise EudrInputError(f"no HS heading configured for profile {profile.id}")
    commodities = []
    features = []
    used: list[dict[str, Any]] = []
    for prov in provenances:
        plots = plots_of(profile, prov)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for p in plots:
            feature = plot_feature(p)
            features.append(feature)
            groups.setdefault((p.producer or "", p.country or ""), []).append(feature)
            bundle = bundles.get(p.record_id)
            if bundle is None:
                raise EudrInputError(f"no proof bundle for plot record {p.record_id}")
            used.append(bundle)
        mass = net_mass_kg(profile, prov)
        measure: dict[str, Any] = {}
        if mass is not None:
            measure["netWeight"] = round(mass, 3)
        commodities.append(
            {
                "descriptors": {
                    "descriptionOfGoods": f"{profile.name['en']}, GTIN {prov['gtin']} "
                    f"lot {prov['lot']}",
                    "goodsMeasure": measure,
                },
                "hsHeading": hs,
                "producers": [
                    {
                        "country": country,
                        "name": name,
                        "geometryGeojson": _b64({"type": "FeatureCollection", "features": fs}),
                    }
                    for (name, country), fs in groups.items()
                ],
            }
        )
    statement: dict[str, Any] = {
        "activityType": options.activity_type,
        "commodities": commodities,
        "geoLocationConfidential": options.geolocation_confidential,
    }
    if options.internal_reference:
        statement["internalReferenceNumber"] = options.internal_reference
    if options.country_of_activity:
        statement["countryOfActivity"] = options.country_of_activity
    dds = {"operatorType": "OPERATOR", "statement": statement}
    size = len(_json(dds))
    if size > options.max_bytes:
        raise ExportTooLargeError(
            f"the statement is {size:,} bytes; the EU information system takes at most "
            f"{options.max_bytes:,} per DDS: split the shipment into several statements"
        )
    return {
        "format": FORMAT,
        "lots": [
            {"gtin": p["gtin"], "lot": p["lot"], "digitalLink": p.get("digitalLink")}
            for p in provenances
        ],
        "chainId": provenances[0].get("chainId"),
        "registry": provenances[0].get("registry"),
        "statement": dds,
        "statementBytes": size,
        "geojson": {"type": "FeatureCollection", "features": features},
        "bundles": used,
    }
