"""Jinja2 rendering of the pages, with autoescaping and the headers they are sent with.

Autoescaping is on for every template: event fields, lot numbers and producer names
are producer-controlled text, so nothing reaches the HTML unescaped except the QR
code's SVG, which segno builds from a fixed set of parameters. The Content-Security-
Policy allows only the node's own script and style files (no inline script, no inline
style), images from the node or ``data:``, and nothing else.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .assets import asset_url
from .i18n import Lang, Texts

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers() -> dict[str, str]:
    """Headers every HTML page is sent with."""
    return {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


_env = Environment(
    loader=PackageLoader("vntrace.api.pages", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["asset"] = asset_url


def render(template: str, lang: Lang, **context: Any) -> str:
    """Render ``template`` with the texts of ``lang`` available as ``t``."""
    return _env.get_template(template).render(lang=lang, t=Texts(lang), **context)
