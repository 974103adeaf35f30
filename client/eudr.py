"""SDK for EUDR: check a lot, fetch a DDS export, verify it, write it atomically.

Functions taking a :class:`~vntrace.client.Client`, so they sit beside the client rather
than inside it (the lead may later expose them as ``Client.eudr_*`` methods). Before an
export is written, every plot's proof bundle is verified here, against the chain, with
the SDK's own verifier: the node is never trusted for "this coordinate was anchored".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _api
from .errors import VntraceError

if TYPE_CHECKING:
    from . import Client, VerificationResult


class EudrExportError(VntraceError):
    """A plot of the export does not verify; nothing was written."""

    def __init__(self, message: str, failures: Sequence[VerificationResult]) -> None:
        super().__init__(message)
        self.failures = tuple(failures)


def _check_call(gtin: str, lot: str) -> _api.Call[dict[str, Any]]:
    path = f"/v1/eudr/lots/{_api.lot_path(gtin, lot)}/check"
    return _api.Call("GET", path, _api._dict, retry_safe=True)


def _export_call(gtin: str, lots: Sequence[str], params: dict[str, Any]) -> _api.Call[Any]:
    query = {"gtin": gtin, "lot": list(lots), **{k: v for k, v in params.items() if v}}
    return _api.Call("GET", "/v1/eudr/export", _api._dict, params=query, retry_safe=True)


def check(client: Client, gtin: str, lot: str) -> dict[str, Any]:
    """The node's EUDR report for a lot: ``ok`` and every ``issues`` entry."""
    return client._send(_check_call(gtin, lot))


def export(
    client: Client,
    gtin: str,
    lots: Sequence[str],
    *,
    activity_type: str = "IMPORT",
    country_of_activity: str | None = None,
    internal_reference: str | None = None,
) -> dict[str, Any]:
    """The export document (statement, GeoJSON, bundles) exactly as served."""
    params = {
        "activityType": activity_type,
        "countryOfActivity": country_of_activity,
        "internalReference": internal_reference,
    }
    return client._send(_export_call(gtin, lots, params))


def verify_export(client: Client, doc: dict[str, Any]) -> list[VerificationResult]:
    """Verify every bundle of an export, and that every plot feature has one."""
    by_leaf = {b.get("leaf"): b for b in doc.get("bundles", [])}
    results = []
    for feature in doc.get("geojson", {}).get("features", []):
        record_id = feature.get("properties", {}).get("recordId")
        bundle = by_leaf.get(record_id)
        if bundle is None:
            raise EudrExportError(f"plot record {record_id} has no proof bundle", [])
        results.append(client.verify_bundle(bundle, record_id=record_id))
    return results


def export_to(
    client: Client, gtin: str, lots: Sequence[str], out: Path, **options: Any
) -> tuple[dict[str, Any], list[Path]]:
    """Fetch, verify and write an export into the new folder ``out`` (all or nothing)."""
    from vntrace.node.eudr.errors import ExportWriteError
    from vntrace.node.eudr.files import write_export

    doc = export(client, gtin, lots, **options)
    results = verify_export(client, doc)
    failed = [r for r in results if r.status != "verified"]
    if failed:
        raise EudrExportError(
            f"{len(failed)} of {len(results)} plot record(s) do not verify against the "
            f"chain ({', '.join(sorted({x for r in failed for x in r.reasons}))}); "
            "nothing written",
            failed,
        )
    try:
        return doc, write_export(doc, out)
    except ExportWriteError as exc:
        raise VntraceError(exc.detail) from None


__all__ = ["EudrExportError", "check", "export", "export_to", "verify_export"]
