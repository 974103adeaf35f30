"""EUDR service: the node's side (reads provenance and bundles, applies the pure cores).

Takes narrow collaborators (two callables and the profile) rather than the whole node,
so the facade can wire it as ``EudrService(node.provenance, node.bundle, node.profile)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from vntrace.node.epcis.records import profile_provenance

from .dds import ExportOptions, build_export
from .geometry import GeometryRules
from .lot import check_lot, lot_facts, plots_of

if TYPE_CHECKING:
    from vntrace.node.profile import Profile


class EudrService:
    """Check a lot, export a DDS, give the page its facts."""

    def __init__(
        self,
        provenance: Callable[[str, str], dict[str, Any]],
        bundle: Callable[[str], dict[str, Any]],
        profile: Profile,
        rules: GeometryRules | None = None,
    ) -> None:
        self._read = provenance
        self._bundle = bundle
        self.profile = profile
        self.rules = rules or GeometryRules()

    def _provenance(self, gtin: str, lot: str) -> dict[str, Any]:
        """The lot's provenance with EPCIS-captured events in the profile's terms (a
        captured harvest is a plot like any other)."""
        return profile_provenance(self.profile, self._read(gtin, lot))

    def check(self, gtin: str, lot: str) -> dict[str, Any]:
        """The lot's report (``ok`` false lists every problem)."""
        return check_lot(self.profile, self._provenance(gtin, lot), self.rules).to_dict()

    def facts(self, gtin: str, lot: str) -> dict[str, Any]:
        return lot_facts(self.profile, self._provenance(gtin, lot), self.rules)

    def export(
        self, gtin: str, lots: Sequence[str], options: ExportOptions | None = None
    ) -> dict[str, Any]:
        """The export document of a shipment (one or several lots of one GTIN)."""
        provenances = [self._provenance(gtin, lot) for lot in dict.fromkeys(lots)]
        bundles = {
            p.record_id: self._bundle(p.record_id)
            for prov in provenances
            for p in plots_of(self.profile, prov)
            if p.status == "anchored"
        }
        return build_export(self.profile, provenances, bundles, options, self.rules)
