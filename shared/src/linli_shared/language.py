"""The language a person is answered in: English when their Accept-Language prefers it, else
Chinese (the default). The one place the header is read for that; no web imports."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]
DEFAULT_LANGUAGE: Language = "zh"
MAX_RANGES = 32
"""Ranges of a header looked at; a longer header is read only this far."""


def language_of(accept_language: str | None) -> Language:
    """`en` if the caller ranks English above Chinese (by q-value, then by order), else `zh`.

    `en-GB,en;q=0.9` and `fr, en;q=0.5` give `en`; `zh-CN, en`, `en;q=0.3, zh`, `fr`, `*`, an
    empty or malformed header give `zh`."""
    best: tuple[float, int, Language] | None = None
    for position, item in enumerate((accept_language or "").split(",")[:MAX_RANGES]):
        tag, _, parameters = item.partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("en", "zh"):
            continue
        quality = quality_of(parameters)
        if quality <= 0:
            continue
        # highest q first; of equal q, the one listed first
        if best is None or (-quality, position) < (-best[0], best[1]):
            best = (quality, position, "en" if primary == "en" else "zh")
    return best[2] if best is not None else DEFAULT_LANGUAGE


def quality_of(parameters: str) -> float:
    """The q-value of one language range's parameters (`q=0.8`): 1 if absent, 0 if malformed."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0 <= quality <= 1 else 0.0
    return 1.0
