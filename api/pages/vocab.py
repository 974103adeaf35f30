"""Words for the profile's data: field names, enum values, countries and units.

The profile gives event kinds their Vietnamese and English labels; field names are
camelCase identifiers, so the page names the ones it knows here and turns any other
into words (``plotAreaHa`` -> "Plot area ha"), which keeps another product's profile
readable without code changes.
"""

from __future__ import annotations

import re

from .i18n import Lang

FIELDS: dict[str, dict[Lang, str]] = {
    "location": {"vi": "Địa điểm (GLN)", "en": "Location (GLN)"},
    "note": {"vi": "Ghi chú", "en": "Note"},
    "countryOfProduction": {"vi": "Nước sản xuất", "en": "Country of production"},
    "province": {"vi": "Tỉnh", "en": "Province"},
    "plotId": {"vi": "Mã vùng trồng", "en": "Plot"},
    "geolocation": {"vi": "Tọa độ vùng trồng", "en": "Plot geolocation"},
    "plotAreaHa": {"vi": "Diện tích (ha)", "en": "Plot area (ha)"},
    "harvestDate": {"vi": "Ngày thu hoạch", "en": "Harvest date"},
    "harvestEndDate": {"vi": "Ngày kết thúc thu hoạch", "en": "Harvest end date"},
    "quantity": {"vi": "Khối lượng", "en": "Quantity"},
    "producer": {"vi": "Nhà sản xuất", "en": "Producer"},
    "farmer": {"vi": "Nông dân", "en": "Farmer"},
    "variety": {"vi": "Giống", "en": "Variety"},
    "inputQuantity": {"vi": "Khối lượng đầu vào", "en": "Input"},
    "outputQuantity": {"vi": "Khối lượng đầu ra", "en": "Output"},
    "method": {"vi": "Phương pháp", "en": "Method"},
    "moisturePercent": {"vi": "Độ ẩm (%)", "en": "Moisture (%)"},
    "startDate": {"vi": "Ngày bắt đầu", "en": "Start date"},
    "facility": {"vi": "Cơ sở", "en": "Facility"},
    "grade": {"vi": "Hạng", "en": "Grade"},
    "roastLevel": {"vi": "Mức rang", "en": "Roast level"},
    "roaster": {"vi": "Cơ sở rang", "en": "Roaster"},
    "packageCount": {"vi": "Số kiện", "en": "Packages"},
    "packageType": {"vi": "Loại bao bì", "en": "Package type"},
    "netQuantity": {"vi": "Khối lượng tịnh", "en": "Net quantity"},
    "sscc": {"vi": "Mã SSCC", "en": "SSCC"},
    "packer": {"vi": "Đơn vị đóng gói", "en": "Packer"},
    "destinationCountry": {"vi": "Nước đến", "en": "Destination"},
    "shipper": {"vi": "Đơn vị xuất hàng", "en": "Shipper"},
    "buyer": {"vi": "Người mua", "en": "Buyer"},
    "price": {"vi": "Giá", "en": "Price"},
    "transportMode": {"vi": "Phương thức vận chuyển", "en": "Transport"},
    "containerNumber": {"vi": "Số công-te-nơ", "en": "Container"},
    "portOfLoading": {"vi": "Cảng xếp hàng", "en": "Port of loading"},
    "receiver": {"vi": "Bên nhận", "en": "Receiver"},
    "country": {"vi": "Quốc gia", "en": "Country"},
    "conditionOk": {"vi": "Hàng nguyên vẹn", "en": "Arrived in good condition"},
    "reason": {"vi": "Lý do", "en": "Reason"},
    "reasonCode": {"vi": "Loại lý do", "en": "Reason type"},
}

VALUES: dict[str, dict[Lang, str]] = {
    "sun": {"vi": "phơi nắng", "en": "sun-dried"},
    "raised_bed": {"vi": "phơi giàn", "en": "raised beds"},
    "mechanical": {"vi": "sấy máy", "en": "mechanical dryer"},
    "light": {"vi": "rang nhạt", "en": "light"},
    "medium": {"vi": "rang vừa", "en": "medium"},
    "medium_dark": {"vi": "rang vừa đậm", "en": "medium-dark"},
    "dark": {"vi": "rang đậm", "en": "dark"},
    "road": {"vi": "đường bộ", "en": "road"},
    "rail": {"vi": "đường sắt", "en": "rail"},
    "sea": {"vi": "đường biển", "en": "sea"},
    "air": {"vi": "đường hàng không", "en": "air"},
    "inland_waterway": {"vi": "đường thủy nội địa", "en": "inland waterway"},
    "contamination": {"vi": "nhiễm bẩn", "en": "contamination"},
    "quality": {"vi": "chất lượng", "en": "quality"},
    "labelling": {"vi": "ghi nhãn", "en": "labelling"},
    "regulatory": {"vi": "quy định", "en": "regulatory"},
    "fraud": {"vi": "gian lận", "en": "fraud"},
    "other": {"vi": "khác", "en": "other"},
}

COUNTRIES: dict[str, dict[Lang, str]] = {
    "VN": {"vi": "Việt Nam", "en": "Viet Nam"},
    "DE": {"vi": "Đức", "en": "Germany"},
    "FR": {"vi": "Pháp", "en": "France"},
    "IT": {"vi": "Ý", "en": "Italy"},
    "ES": {"vi": "Tây Ban Nha", "en": "Spain"},
    "BE": {"vi": "Bỉ", "en": "Belgium"},
    "NL": {"vi": "Hà Lan", "en": "Netherlands"},
    "GB": {"vi": "Vương quốc Anh", "en": "United Kingdom"},
    "US": {"vi": "Hoa Kỳ", "en": "United States"},
    "JP": {"vi": "Nhật Bản", "en": "Japan"},
    "KR": {"vi": "Hàn Quốc", "en": "South Korea"},
    "CN": {"vi": "Trung Quốc", "en": "China"},
    "RU": {"vi": "Nga", "en": "Russia"},
}

UNIT_SYMBOLS: dict[str, dict[Lang, str]] = {
    "KGM": {"vi": "kg", "en": "kg"},
    "TNE": {"vi": "tấn", "en": "t"},
    "GRM": {"vi": "g", "en": "g"},
    "LBR": {"vi": "lb", "en": "lb"},
    "H87": {"vi": "cái", "en": "pcs"},
}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def field_label(name: str, lang: Lang) -> str:
    """A field's name in words."""
    known = FIELDS.get(name)
    if known:
        return known[lang]
    words = _CAMEL.sub(" ", name).replace("_", " ").lower()
    return words[:1].upper() + words[1:]


def value_label(value: str, lang: Lang) -> str:
    """An enum value in words (unknown values as written, underscores as spaces)."""
    known = VALUES.get(value)
    return known[lang] if known else value.replace("_", " ")


def country_label(code: str, lang: Lang) -> str:
    """``Viet Nam (VN)``; the bare code when we have no name for it."""
    known = COUNTRIES.get(code)
    return f"{known[lang]} ({code})" if known else code


def unit_symbol(code: str, lang: Lang, fallback: str | None = None) -> str:
    """``kg`` for KGM; the profile's unit name, else the code, for others."""
    known = UNIT_SYMBOLS.get(code)
    return known[lang] if known else (fallback or code)
