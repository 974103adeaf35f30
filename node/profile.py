"""Product profiles: what a node accepts for one product, as data rather than code.

A profile (``profiles/<id>.json``, shipped inside ``vntrace.node``) names the product
(Vietnamese and English), its GTINs, the default GS1 Digital Link base, the units of
measure, and for every event kind: the EPCIS 2.0 event type and action, the CBV 2.0
business step and disposition, the fields (type, required, private) and cross-field
rules. The same node serves coffee or pepper by loading another file; see
docs/records.md for the format and the reasons behind each choice.
"""

from __future__ import annotations

import os
import re
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from vntrace.node.records.canonical import parse_json
from vntrace.node.records.errors import RecordError
from vntrace.node.records.identifiers import COUNTRY_CODES, check_digital_link_base, normalize_gtin

DEFAULT_PROFILE = "robusta-vn"

EPCIS_EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
# CBV 2.0 business steps and dispositions, as the EPCIS 2.0 JSON-LD context lists them.
_CBV_BIZ_STEPS = """
    accepting arriving assembling collecting commissioning consigning creating_class_instance
    cycle_counting decommissioning departing destroying disassembling dispensing encoding
    entering_exiting holding inspecting installing killing loading other packing picking
    receiving removing repackaging repairing replacing reserving retail_selling sampling
    sensor_reporting shipping staging_outbound stock_taking stocking storing transporting
    unloading unpacking void_shipping"""
CBV_BIZ_STEPS = frozenset(_CBV_BIZ_STEPS.split())
_CBV_DISPOSITIONS = """
    active available completeness_inferred completeness_verified conformant
    container_closed container_open damaged destroyed dispensed disposed encoded expired
    in_progress in_transit inactive mismatch_class mismatch_instance mismatch_quantity
    needs_replacement no_pedigree_match non_conformant non_sellable_other
    partially_dispensed recalled reserved retail_sold returned sellable_accessible
    sellable_not_accessible stolen unavailable unknown"""
CBV_DISPOSITIONS = frozenset(_CBV_DISPOSITIONS.split())
RESERVED_FIELDS = frozenset({"kind", "eventTime", "type", "bizStep", "action", "disposition"})
"""Keys every event may carry whatever its kind: ``kind`` and ``eventTime`` (required),
and echoes of the EPCIS classification, which must then equal the profile's."""

_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
_PROFILE_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_URI_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


class ProfileError(RecordError):
    """A profile file is missing, malformed or inconsistent."""


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )


def _localized(value: dict[str, str]) -> dict[str, str]:
    missing = {"vi", "en"} - value.keys()
    if missing:
        raise ValueError(f"needs texts in {sorted(missing)} (Vietnamese and English)")
    if any(not isinstance(v, str) or not v.strip() for v in value.values()):
        raise ValueError("texts must be non-empty strings")
    return value


Localized = Annotated[dict[str, str], AfterValidator(_localized)]


# ---- field types -------------------------------------------------------------------


class _FieldSpec(_Model):
    required: bool = False
    private: bool = False
    """Confidential: the signer replaces the value by a salted commitment before digesting."""
    description: str | None = None


class StringField(_FieldSpec):
    type: Literal["string"]
    min_length: int = Field(1, ge=0)
    max_length: int = Field(200, ge=1, le=100_000)
    pattern: str | None = None
    enum: tuple[str, ...] | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern does not compile: {exc}") from None
        return value


class IntegerField(_FieldSpec):
    type: Literal["integer"]
    minimum: int | None = None
    maximum: int | None = None


class NumberField(_FieldSpec):
    type: Literal["number"]
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None


class BooleanField(_FieldSpec):
    type: Literal["boolean"]


class DateField(_FieldSpec):
    type: Literal["date"]


class DateTimeField(_FieldSpec):
    type: Literal["datetime"]


class CountryField(_FieldSpec):
    type: Literal["country"]
    allowed: tuple[str, ...] | None = None

    @field_validator("allowed")
    @classmethod
    def _iso(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for code in value or ():
            if code not in COUNTRY_CODES:
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code")
        return value


class QuantityField(_FieldSpec):
    type: Literal["quantity"]
    dimension: Literal["mass", "count", "volume"] | None = None


class MoneyField(_FieldSpec):
    type: Literal["money"]
    currencies: tuple[Annotated[str, Field(pattern=r"^[A-Z]{3}$")], ...] | None = None


class PartyField(_FieldSpec):
    type: Literal["party"]


class GlnField(_FieldSpec):
    type: Literal["gln"]


class SsccField(_FieldSpec):
    type: Literal["sscc"]


class GeoJsonField(_FieldSpec):
    type: Literal["geojson"]
    geometries: tuple[Literal["Point", "Polygon", "MultiPolygon"], ...] = ("Point", "Polygon")
    max_decimals: int = Field(6, ge=0, le=17)
    max_positions: int = Field(10_000, ge=4, le=100_000)


FieldSpec = Annotated[
    StringField
    | IntegerField
    | NumberField
    | BooleanField
    | DateField
    | DateTimeField
    | CountryField
    | QuantityField
    | MoneyField
    | PartyField
    | GlnField
    | SsccField
    | GeoJsonField,
    Field(discriminator="type"),
]


# ---- rules ---------------------------------------------------------------------------


class PlotGeometryRule(_Model):
    """EUDR 2023/1115 Art. 2(28) and 9(1)(d): a plot of more than ``max_point_area_ha``
    hectares must be described by a polygon; a single point is enough up to it."""

    type: Literal["plotGeometry"]
    geometry: str
    area: str
    max_point_area_ha: float = Field(4.0, gt=0)


class DateOrderRule(_Model):
    """The listed date/datetime fields (``eventTime`` allowed) must not go backwards."""

    type: Literal["dateOrder"]
    fields: tuple[str, ...] = Field(min_length=2)


class QuantityNotGreaterRule(_Model):
    """``field`` must not exceed ``than`` once converted to one unit (mass balance)."""

    type: Literal["quantityNotGreater"]
    field: str
    than: str


RuleSpec = Annotated[
    PlotGeometryRule | DateOrderRule | QuantityNotGreaterRule, Field(discriminator="type")
]


# ---- kinds, units, profile ----------------------------------------------------------------


class UnitSpec(_Model):
    """A UN/ECE Recommendation 20 unit: its dimension and its size in the dimension's base
    unit (kilogram, piece, litre), so quantities in different units can be compared."""

    name: str
    dimension: Literal["mass", "count", "volume"]
    factor: float = Field(gt=0)


class KindSpec(_Model):
    """One event kind: its EPCIS classification, fields and rules."""

    label: Localized
    event_type: Literal[
        "ObjectEvent",
        "AggregationEvent",
        "TransactionEvent",
        "TransformationEvent",
        "AssociationEvent",
    ]
    action: Literal["ADD", "OBSERVE", "DELETE"] | None = None
    biz_step: str
    disposition: str | None = None
    description: str | None = None
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    rules: tuple[RuleSpec, ...] = ()

    @field_validator("biz_step")
    @classmethod
    def _cbv_step(cls, value: str) -> str:
        if value not in CBV_BIZ_STEPS and not _URI_LIKE.fullmatch(value):
            raise ValueError(f"{value!r} is neither a CBV 2.0 business step nor a URI")
        return value

    @field_validator("disposition")
    @classmethod
    def _cbv_disposition(cls, value: str | None) -> str | None:
        if value is not None and value not in CBV_DISPOSITIONS and not _URI_LIKE.fullmatch(value):
            raise ValueError(f"{value!r} is neither a CBV 2.0 disposition nor a URI")
        return value

    @model_validator(mode="after")
    def _action_matches_type(self) -> KindSpec:
        if self.event_type == "TransformationEvent" and self.action is not None:
            raise ValueError("a TransformationEvent has no action (EPCIS 2.0)")
        if self.event_type != "TransformationEvent" and self.action is None:
            raise ValueError(f"an {self.event_type} needs an action (ADD, OBSERVE or DELETE)")
        return self


class Profile(_Model):
    """A product profile (immutable once loaded)."""

    id: str
    version: int = Field(1, ge=1)
    name: Localized
    description: Localized | None = None
    gtins: tuple[str, ...] = Field(min_length=1)
    digital_link_base: str
    max_clock_skew_seconds: int = Field(300, ge=0, le=86_400)
    units: dict[str, UnitSpec] = Field(min_length=1)
    common_fields: dict[str, FieldSpec] = Field(default_factory=dict)
    kinds: dict[str, KindSpec] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _PROFILE_ID.fullmatch(value):
            raise ValueError("profile id must be lowercase letters, digits and '-'")
        return value

    @field_validator("gtins")
    @classmethod
    def _check_gtins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = tuple(normalize_gtin(g) for g in value)
        if len(set(out)) != len(out):
            raise ValueError("GTINs repeat")
        return out

    @field_validator("digital_link_base")
    @classmethod
    def _check_base(cls, value: str) -> str:
        return check_digital_link_base(value)

    @field_validator("units")
    @classmethod
    def _check_units(cls, value: dict[str, UnitSpec]) -> dict[str, UnitSpec]:
        for code in value:
            if not re.fullmatch(r"[A-Z0-9]{2,3}", code):
                raise ValueError(f"{code!r} is not a UN/ECE Recommendation 20 code")
        return value

    @model_validator(mode="after")
    def _check_kinds(self) -> Profile:
        for name in self.kinds:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", name):
                raise ValueError(f"kind {name!r}: names are lowercase words")
        dims = {u.dimension for u in self.units.values()}
        groups = [("commonFields", self.common_fields)] + [
            (f"kinds.{k}.fields", spec.fields) for k, spec in self.kinds.items()
        ]
        for where, fields in groups:
            for fname, fspec in fields.items():
                if not _FIELD_NAME.fullmatch(fname) or fname in RESERVED_FIELDS:
                    raise ValueError(f"{where}.{fname}: reserved or malformed field name")
                if isinstance(fspec, QuantityField) and fspec.dimension not in (None, *dims):
                    raise ValueError(f"{where}.{fname}: no unit of dimension {fspec.dimension}")
        for kname, kind in self.kinds.items():
            clash = kind.fields.keys() & self.common_fields.keys()
            if clash:
                raise ValueError(f"kinds.{kname}: fields {sorted(clash)} repeat commonFields")
            for i, rule in enumerate(kind.rules):
                self._check_rule(kname, i, rule)
        return self

    def _check_rule(self, kname: str, index: int, rule: Any) -> None:
        fields = self.fields_of(kname)
        where = f"kinds.{kname}.rules[{index}]"

        def need(name: str, types: tuple[type, ...], allow_event_time: bool = False) -> None:
            if allow_event_time and name == "eventTime":
                return
            spec = fields.get(name)
            if spec is None or not isinstance(spec, types):
                wanted = "/".join(t.__name__ for t in types)
                raise ValueError(f"{where}: {name!r} is not a {wanted} field of {kname}")

        if isinstance(rule, PlotGeometryRule):
            need(rule.geometry, (GeoJsonField,))
            need(rule.area, (NumberField,))
        elif isinstance(rule, DateOrderRule):
            for name in rule.fields:
                need(name, (DateField, DateTimeField), allow_event_time=True)
        elif isinstance(rule, QuantityNotGreaterRule):
            need(rule.field, (QuantityField,))
            need(rule.than, (QuantityField,))

    # ---- lookups -------------------------------------------------------------------

    def fields_of(self, kind: str) -> dict[str, FieldSpec]:
        """Every field an event of ``kind`` may carry (the kind's and the common ones)."""
        return self._fields_by_kind[kind]

    @cached_property
    def _fields_by_kind(self) -> dict[str, dict[str, FieldSpec]]:
        return {k: {**self.common_fields, **spec.fields} for k, spec in self.kinds.items()}

    def required_fields(self, kind: str) -> tuple[str, ...]:
        """Names of the fields an event of ``kind`` must carry (besides kind and eventTime)."""
        return tuple(n for n, f in self.fields_of(kind).items() if f.required)

    def optional_fields(self, kind: str) -> tuple[str, ...]:
        """Names of the fields an event of ``kind`` may omit."""
        return tuple(n for n, f in self.fields_of(kind).items() if not f.required)

    def private_fields(self, kind: str) -> tuple[str, ...]:
        """Names of the confidential fields of ``kind`` (committed before digesting)."""
        return tuple(n for n, f in self.fields_of(kind).items() if f.private)

    def accepts_gtin(self, gtin: str) -> bool:
        """True if ``gtin`` (any GTIN width) is one of this product's."""
        try:
            return normalize_gtin(gtin) in self.gtins
        except RecordError:
            return False


def _format_validation_error(source: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:20]:
        loc = ".".join(str(p) for p in err["loc"])
        lines.append(f"  {loc or '(profile)'}: {err['msg']}")
    return f"profile {source} is invalid:\n" + "\n".join(lines)


def parse_profile(data: Any, source: str = "<data>") -> Profile:
    """Build a :class:`Profile` from already parsed JSON."""
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ProfileError(_format_validation_error(source, exc)) from None


def available_profiles() -> list[str]:
    """Ids of the profiles shipped with the node."""
    folder = resources.files("vntrace.node").joinpath("profiles")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def _read(path: Path | Any, source: str) -> Profile:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"cannot read profile {source}: {exc.strerror or exc}") from None
    try:
        data = parse_json(text, max_bytes=4 * 1024 * 1024)
    except RecordError as exc:
        raise ProfileError(f"profile {source} is not valid JSON: {exc}") from None
    return parse_profile(data, source)


@lru_cache(maxsize=16)
def _bundled(name: str) -> Profile:
    resource = resources.files("vntrace.node").joinpath("profiles", f"{name}.json")
    if not resource.is_file():
        known = ", ".join(available_profiles()) or "none"
        raise ProfileError(f"no bundled profile named {name!r} (available: {known})")
    profile = _read(resource, f"{name!r}")
    if profile.id != name:
        raise ProfileError(f"bundled profile {name!r} declares id {profile.id!r}")
    return profile


def load_profile(name_or_path: str | os.PathLike[str]) -> Profile:
    """Load a bundled profile by id (``"robusta-vn"``) or any profile file by path.

    A plain id is looked up among the profiles shipped in ``vntrace.node``; anything
    with a path separator or a ``.json`` suffix is read from disk.
    """
    if isinstance(name_or_path, os.PathLike):
        path = Path(name_or_path)
        return _read(path, str(path))
    if not isinstance(name_or_path, str):
        raise ProfileError(f"profile must be a name or a path, not {type(name_or_path).__name__}")
    if _PROFILE_ID.fullmatch(name_or_path):
        return _bundled(name_or_path)
    return _read(Path(name_or_path), name_or_path)


def default_profile() -> Profile:
    """The node's default profile: Vietnamese Robusta coffee (``robusta-vn``)."""
    return load_profile(DEFAULT_PROFILE)
