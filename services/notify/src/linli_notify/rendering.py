"""Message templates: Jinja2 files per language, the first line the title, the rest the body.

Each file opens with a version comment, `{# version: N #}`: raise N whenever the wording changes, so
every notification records which wording it was sent with (Notification.template_version).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context

from linli_notify.domain import DEFAULT_TIMEZONE, Language, NotifyError, local_time_text
from linli_shared.errors import Invalid, NotFound

TEMPLATES = Path(__file__).parent / "templates"
PAGES = "pages"  # HTML pages served to people following a link, not message templates
TIMEZONE = "recipient_timezone"  # set by render: the zone `local_time` writes instants in
VERSION = re.compile(r"\A\{#\s*version:\s*(\d+)\s*#\}")


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str
    version: int


@lru_cache
def template_version(name: str, language: str) -> int:
    """The version a template file declares in its first line; a file without one is refused."""
    source = (TEMPLATES / language / f"{name}.txt").read_text(encoding="utf-8")
    match = VERSION.match(source)
    if match is None:
        raise NotifyError(
            f"template {language}/{name} does not start with {{# version: N #}}",
            zh=f"通知模板 {language}/{name} 的第一行缺少版本注释 {{# version: N #}}",
        )
    return int(match.group(1))


@pass_context
def local_time(context: Context, value: object) -> str:
    """`{{ due_at | local_time }}`: an instant in the recipient's time zone, e.g. 2026-03-10 09:00."""
    return local_time_text(value, str(context.get(TIMEZONE) or DEFAULT_TIMEZONE))


@lru_cache
def environment() -> Environment:
    """Plain text stays as written; any .html template is escaped."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "htm", "xml"]),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
    )
    env.filters["local_time"] = local_time
    return env


def template_names() -> list[str]:
    return sorted(path.stem for path in (TEMPLATES / Language.ZH.value).glob("*.txt"))


def render(
    name: str, language: str, data: dict[str, object], *, timezone: str = DEFAULT_TIMEZONE
) -> Rendered:
    """Render a template, instants in `timezone`; an unknown name is NotFound, a missing value is Invalid."""
    if name not in template_names():
        raise NotFound(f"no template named {name!r}", zh=f"没有名为 {name!r} 的通知模板")
    try:
        language = Language(language).value
    except ValueError as error:
        raise NotifyError(
            f"language must be one of {[x.value for x in Language]}",
            zh=f"语言（language）只能是 {'、'.join(x.value for x in Language)} 之一",
        ) from error
    try:
        text = environment().get_template(f"{language}/{name}.txt").render({**data, TIMEZONE: timezone})
    except TemplateError as error:
        raise Invalid(
            f"template {name} cannot be rendered with this data: {error}",
            zh=f"通知模板 {name} 无法用这些数据生成：{error}",
        ) from error
    title, _, body = text.strip().partition("\n")
    return Rendered(title=title.strip()[:300], body=body.strip(), version=template_version(name, language))


def render_page(
    name: str, language: str, data: Mapping[str, object], *, timezone: str = DEFAULT_TIMEZONE
) -> str:
    """An HTML page (escaped) in the language, Chinese if it has none in that one."""
    if language not in {x.value for x in Language}:
        language = Language.ZH.value
    page = environment().get_template(f"{PAGES}/{language}/{name}.html")
    return page.render({**data, TIMEZONE: timezone})
