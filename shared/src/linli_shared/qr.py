"""QR codes for printouts (a certificate, a 公示 notice): inline SVG that any phone camera reads."""

from __future__ import annotations

import segno


def qr_svg(url: str, *, label: str, scale: int = 4) -> str:
    """An inline SVG QR code (segno, error correction M) of the link, named for screen readers."""
    svg: str = segno.make(url, error="m").svg_inline(scale=scale, border=2, title=label)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
