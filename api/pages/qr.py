"""QR codes of a lot's Digital Link URI (segno: pure Python, ISO/IEC 18004).

Error correction is fixed at Q (25 % of the code may be lost) rather than segno's
default of boosting to whatever fits: a label on a jute bag or a coffee pouch gets
scuffed, and a fixed level keeps the printed size predictable. The quiet zone is the
standard four modules; the SVG has a white background so it scans on any packaging.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno

ERROR_LEVEL = "q"
BORDER = 4


@lru_cache(maxsize=256)
def qr_code(uri: str) -> segno.QRCode:
    """The QR code of ``uri`` at error level Q (no boosting), smallest version that fits."""
    return segno.make_qr(uri, error=ERROR_LEVEL, boost_error=False)


def qr_svg(uri: str, *, inline: bool = False) -> str:
    """An SVG of the code, scalable (viewBox only). ``inline`` drops the XML declaration
    and the size so it can sit in an HTML page and be sized by CSS."""
    out = io.BytesIO()
    qr_code(uri).save(
        out,
        kind="svg",
        xmldecl=not inline,
        svgns=True,
        nl=False,
        omitsize=inline,
        scale=1 if inline else 8,
        border=BORDER,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
    )
    return out.getvalue().decode("ascii")


def qr_png(uri: str, *, scale: int = 10) -> bytes:
    """A PNG of the code, ``scale`` pixels per module (black on white, 1-bit)."""
    out = io.BytesIO()
    qr_code(uri).save(out, kind="png", scale=scale, border=BORDER, dark="#000", light="#fff")
    return out.getvalue()
