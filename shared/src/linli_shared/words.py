"""Money and days as a person reads them, written once for every page and message that shows them
(the APIs keep integer fen and ISO dates)."""

from __future__ import annotations

from datetime import date


def yuan(fen: int, *, symbol: bool = True, grouped: bool = True) -> str:
    """¥1,280.50 from 128050 fen: exact, no float touches money. `symbol=False` for a table's column,
    `grouped=False` for a file another program reads (1280.50)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    number = f"{whole:,}" if grouped else str(whole)
    return f"{sign}{'¥' if symbol else ''}{number}.{cents:02d}"


def day_words(day: date | str | None, *, year: bool = True) -> str:
    """2026年12月2日, or 12月2日 where the page has said the year already; nothing for no day."""
    if day is None or day == "":
        return ""
    value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return f"{value.year}年{value.month}月{value.day}日" if year else f"{value.month}月{value.day}日"


def short_code(sha256: str, length: int = 12) -> str:
    """A hash's first hex digits in groups of four, to read aloud or copy off a 公告栏 printout:
    3f2a 9c01 7bde."""
    head = sha256[:length].lower()
    return " ".join(head[start : start + 4] for start in range(0, len(head), 4))
