"""EUDR responses: a lot's check report, its page facts, and a DDS export document."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .common import PassThroughModel


class EudrIssue(PassThroughModel):
    severity: str = Field(description="`refused` (the EU would refuse) or `questioned`.")
    rule: str = Field(description="Stable rule id; docs/eudr.md lists them with sources.")
    message: str
    plot: str | None = None
    record_id: str | None = None
    where: list[float] | None = Field(None, description="[longitude, latitude] of the problem.")
    path: str | None = None


class EudrCheck(PassThroughModel):
    gtin: str
    lot: str
    ok: bool
    plots: int
    issues: list[EudrIssue]


class EudrFacts(PassThroughModel):
    plots: int
    total_area_ha: float
    countries: list[str]
    geojson: dict[str, Any] = Field(description="Plots simplified for display (RFC 7946).")
    dds_references: list[dict[str, Any]]


class EudrExport(PassThroughModel):
    format: str
    lots: list[dict[str, Any]]
    chain_id: int | None
    registry: str | None
    statement: dict[str, Any] = Field(description="DDS data in the EU submitDds shape.")
    statement_bytes: int
    geojson: dict[str, Any] = Field(description="All plots, one FeatureCollection.")
    bundles: list[dict[str, Any]]
