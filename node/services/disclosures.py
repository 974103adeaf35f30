"""Confidential fields: opened values checked against their commitments, sealed at rest.

The event carries only commitments (shared/DESIGN.md, "Confidential fields"); the values
and field salts a producer opens are checked against them, then sealed with AES-256-GCM
(the record's leaf as associated data) and opened only for authorised readers.
"""

from __future__ import annotations

from typing import Any

from vntrace.node.errors import UnavailableError
from vntrace.node.records import RecordError, canonicalize, check_disclosure, parse_json
from vntrace.node.store.types import RecordRow
from vntrace.node.vault import VaultError

from .context import NodeContext


class DisclosureService:
    """Seals opened private fields at intake; opens them for authorised readers."""

    def __init__(self, ctx: NodeContext) -> None:
        self._ctx = ctx

    def seal(
        self, leaf: bytes, event: dict[str, Any], disclosures: dict[str, Any] | None
    ) -> tuple[bytes | None, list[dict[str, Any]]]:
        """Check opened private fields against their commitments, then seal them.

        Returns the sealed bytes (or ``None`` when nothing was opened) and the problems
        found, one per field that does not open its commitment.
        """
        if not disclosures:
            return None, []
        if not isinstance(disclosures, dict):
            return None, [{"field": "disclosures", "message": "must be an object"}]
        problems: list[dict[str, Any]] = []
        for path, opened in disclosures.items():
            ok = isinstance(opened, dict) and "value" in opened and "salt" in opened
            try:
                ok = ok and check_disclosure(event, path, opened["value"], opened["salt"])
            except RecordError:
                ok = False
            if not ok:
                problems.append(
                    {
                        "field": f"disclosures.{path}",
                        "message": "value and salt do not open the event's commitment",
                        "code": "disclosure_mismatch",
                    }
                )
        if problems:
            return None, problems
        return self._ctx.vault.encrypt(canonicalize(disclosures), leaf), []

    @property
    def active_key_id(self) -> str:
        """The vault key new seals use (stored beside each sealed record for rotation)."""
        return self._ctx.vault.active

    def open(self, row: RecordRow) -> dict[str, Any]:
        """A record's confidential values and salts (``{}`` when it has none)."""
        sealed = self._ctx.store.get_sealed_disclosures(row.leaf)
        if sealed is None:
            return {}
        try:
            return parse_json(self._ctx.vault.decrypt(sealed[1], row.leaf).decode())
        except VaultError as exc:
            raise UnavailableError(f"confidential values cannot be opened: {exc}") from exc
