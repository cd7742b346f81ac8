"""Message templates: a preview of any of them with its sample data, in either language."""

from __future__ import annotations

from linli_notify.domain import Language
from linli_notify.rendering import Rendered, render
from linli_notify.rules import SAMPLES


def preview(name: str, language: Language, data: dict[str, object]) -> Rendered:
    """The template rendered with its sample data, overridden by `data`."""
    return render(name, language.value, {**SAMPLES.get(name, {}), **data})
