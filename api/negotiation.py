"""HTTP content negotiation between JSON and HTML (RFC 9110 section 12.5.1).

Used by the Digital Link resolver: a phone's browser that scans a QR code asks for
``text/html``; an SDK or ``curl -H 'Accept: application/json'`` asks for JSON. A client
that states no preference (no ``Accept``, or only ``*/*``) gets JSON, the machine form;
browsers always name ``text/html`` explicitly.
"""

from __future__ import annotations

from typing import Literal

Choice = Literal["json", "html"]
_OFFERS: dict[str, Choice] = {
    "application/json": "json",
    "application/ld+json": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
}


def _parse(accept: str) -> list[tuple[str, float, int]]:
    """``(media range, q, specificity)`` of each element of an Accept header."""
    out = []
    for element in accept.split(","):
        parts = [p.strip() for p in element.split(";")]
        media = parts[0].lower()
        if not media or "/" not in media:
            continue
        q = 1.0
        for param in parts[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        kind, _, sub = media.partition("/")
        specificity = 0 if kind == "*" else 1 if sub == "*" else 2
        out.append((media, q, specificity))
    return out


def _quality(offer: str, ranges: list[tuple[str, float, int]]) -> float:
    kind = offer.split("/")[0]
    best: tuple[int, float] | None = None
    for media, q, specificity in ranges:
        if media in (offer, f"{kind}/*", "*/*") and (best is None or specificity > best[0]):
            best = (specificity, q)
    return best[1] if best else 0.0


def negotiate(accept: str | None) -> Choice | None:
    """``"json"``, ``"html"``, or ``None`` when the client accepts neither."""
    if not accept or not accept.strip():
        return "json"
    ranges = _parse(accept)
    if not ranges:
        return "json"
    explicit = {m for m, q, s in ranges if s == 2 and q > 0}
    scores = {offer: _quality(offer, ranges) for offer in _OFFERS}
    best_json = max(scores["application/json"], scores["application/ld+json"])
    best_html = max(scores["text/html"], scores["application/xhtml+xml"])
    if best_json <= 0 and best_html <= 0:
        return None
    if best_html > best_json:
        return "html"
    named_html = explicit & {"text/html", "application/xhtml+xml"}
    named_json = explicit & {"application/json", "application/ld+json"}
    if best_html == best_json and named_html and not named_json:
        return "html"
    return "json"
