"""Pages for people: the consumer page behind a lot's QR code, and its printable label.

``lot_view`` turns the node's provenance and verdicts into what the page says (with
``verdict`` and ``timeline``);
``memo`` keeps what a lot's events alone determine (EUDR summary, map, profile events);
``render`` fills the Jinja2 templates (autoescaped); ``geo`` draws the harvest plots as
inline SVG; ``qr`` makes the QR codes; ``assets`` serves the CSS and JavaScript. No
page needs anything from outside the node. See docs/page.md.
"""

from __future__ import annotations

from .i18n import Lang, Texts, choose_language
from .lot_view import LotPage, Witnessing, build_lot_page
from .memo import Derived, PageMemo, content_key, memoised_profile_provenance
from .render import render, security_headers
from .verdict import lot_status

__all__ = [
    "Derived",
    "Lang",
    "LotPage",
    "PageMemo",
    "Texts",
    "Witnessing",
    "build_lot_page",
    "choose_language",
    "content_key",
    "lot_status",
    "memoised_profile_provenance",
    "render",
    "security_headers",
]
