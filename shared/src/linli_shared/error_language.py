"""Validation errors told in the caller's language: Chinese by pydantic's error `type`, with the
field named by its JSON name and, where it has one, its Chinese label (「姓名（full_name）」);
English is pydantic's own message. A type without a Chinese sentence keeps pydantic's English."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linli_shared.field_labels import FIELD_LABELS
from linli_shared.language import Language

SOURCES = {"query": "查询参数", "path": "路径参数", "header": "请求头", "cookie": "Cookie"}
"""Where a value came from, when not the body."""

BODY = "请求体"

CHINESE: dict[str, str] = {
    # presence and shape
    "missing": "{field}是必填项",
    "missing_argument": "{field}是必填项",
    "missing_keyword_only_argument": "{field}是必填项",
    "missing_positional_only_argument": "{field}是必填项",
    "extra_forbidden": "{field}不是可以填写的字段",
    "unexpected_keyword_argument": "{field}不是可以填写的参数",
    "unexpected_positional_argument": "{field}不是可以填写的参数",
    "multiple_argument_values": "{field}给出了不止一个值",
    "json_invalid": "{field}不是有效的 JSON",
    "json_type": "{field}应为 JSON 文本",
    "none_required": "{field}应为空（null）",
    "frozen_field": "{field}不能修改",
    "frozen_instance": "{field}不能修改",
    "invalid_key": "{field}的键应为文本",
    "arguments_type": "{field}应为参数列表或对象",
    "recursion_loop": "{field}含有循环引用",
    "recursion_depth_exceeded": "{field}嵌套层数过多",
    # objects and lists
    "dict_type": "{field}应为对象（JSON object）",
    "mapping_type": "{field}应为对象（JSON object）",
    "model_type": "{field}应为对象（JSON object）",
    "model_attributes_type": "{field}应为对象（JSON object）",
    "dataclass_type": "{field}应为对象（JSON object）",
    "dataclass_exact_type": "{field}应为对象（JSON object）",
    "named_tuple_type": "{field}应为列表或对象",
    "list_type": "{field}应为列表",
    "tuple_type": "{field}应为列表",
    "deque_type": "{field}应为列表",
    "iterable_type": "{field}应为列表",
    "set_type": "{field}应为不重复的列表",
    "frozen_set_type": "{field}应为不重复的列表",
    "set_item_not_hashable": "{field}含有不能比较的项",
    "too_short": "{field}至少需要 {min_length} 项，现有 {actual_length} 项",
    "too_long": "{field}最多 {max_length} 项，现有 {actual_length} 项",
    # text
    "string_type": "{field}应为文本",
    "string_unicode": "{field}应为有效的 Unicode 文本",
    "string_too_short": "{field}至少需要 {min_length} 个字符",
    "string_too_long": "{field}最多 {max_length} 个字符",
    "string_pattern_mismatch": "{field}格式不正确，应符合 {pattern}",
    "string_not_ascii": "{field}只能含 ASCII 字符",
    "bytes_type": "{field}应为字节串",
    "bytes_too_short": "{field}至少需要 {min_length} 个字节",
    "bytes_too_long": "{field}最多 {max_length} 个字节",
    "bytes_invalid_encoding": "{field}不是有效的 {encoding} 编码",
    # numbers and choices
    "int_type": "{field}应为整数",
    "int_parsing": "{field}应为整数",
    "int_parsing_size": "{field}数值过大",
    "int_from_float": "{field}应为整数，不能带小数",
    "float_type": "{field}应为数字",
    "float_parsing": "{field}应为数字",
    "finite_number": "{field}应为有限的数字",
    "decimal_type": "{field}应为数字",
    "decimal_parsing": "{field}应为数字",
    "decimal_max_digits": "{field}最多 {max_digits} 位数字",
    "decimal_max_places": "{field}最多 {decimal_places} 位小数",
    "decimal_whole_digits": "{field}整数部分最多 {whole_digits} 位",
    "greater_than": "{field}应大于 {gt}",
    "greater_than_equal": "{field}应大于或等于 {ge}",
    "less_than": "{field}应小于 {lt}",
    "less_than_equal": "{field}应小于或等于 {le}",
    "multiple_of": "{field}应为 {multiple_of} 的倍数",
    "bool_type": "{field}应为 true 或 false",
    "bool_parsing": "{field}应为 true 或 false",
    "enum": "{field}只能是 {expected}",
    "literal_error": "{field}只能是 {expected}",
    "union_tag_invalid": "{field}的 {discriminator} 为 {tag}，只能是 {expected_tags}",
    "union_tag_not_found": "{field}缺少用来区分类型的 {discriminator}",
    # dates and times
    "date_type": "{field}应为日期，格式 YYYY-MM-DD",
    "date_parsing": "{field}应为有效日期，格式 YYYY-MM-DD",
    "date_from_datetime_parsing": "{field}应为有效日期，格式 YYYY-MM-DD",
    "date_from_datetime_inexact": "{field}应为日期，不能带时刻",
    "date_past": "{field}应为过去的日期",
    "date_future": "{field}应为将来的日期",
    "time_type": "{field}应为有效时刻，格式 HH:MM 或 HH:MM:SS",
    "time_parsing": "{field}应为有效时刻，格式 HH:MM 或 HH:MM:SS",
    "datetime_type": "{field}应为有效的日期时间，如 2026-03-01T08:00:00+08:00",
    "datetime_parsing": "{field}应为有效的日期时间，如 2026-03-01T08:00:00+08:00",
    "datetime_from_date_parsing": "{field}应为有效的日期时间，如 2026-03-01T08:00:00+08:00",
    "datetime_object_invalid": "{field}应为有效的日期时间，如 2026-03-01T08:00:00+08:00",
    "datetime_past": "{field}应为过去的时间",
    "datetime_future": "{field}应为将来的时间",
    "timezone_naive": "{field}不能带时区",
    "timezone_aware": "{field}应带时区，如 +08:00",
    "timezone_offset": "{field}的时区偏移应为 {tz_expected} 秒，实为 {tz_actual} 秒",
    "time_delta_type": "{field}应为有效的时长",
    "time_delta_parsing": "{field}应为有效的时长",
    # identifiers and addresses
    "uuid_type": "{field}应为有效的 UUID",
    "uuid_parsing": "{field}应为有效的 UUID",
    "uuid_version": "{field}应为第 {expected_version} 版 UUID",
    "url_type": "{field}应为有效的网址",
    "url_parsing": "{field}应为有效的网址",
    "url_syntax_violation": "{field}应为有效的网址",
    "url_too_long": "{field}最多 {max_length} 个字符",
    "url_scheme": "{field}的网址应以 {expected_schemes} 开头",
    # the project's other rules (model and field validators): their message, as written
    "value_error": "{field}不符合要求：{error}",
    "assertion_error": "{field}不符合要求：{error}",
}
"""The Chinese sentence of each pydantic error type a request can raise; `{field}` is where,
the other names are the error's `ctx`."""

OWN_TYPES: dict[str, str] = {
    "cannot_clear": "{field}：这些字段可以改，不能清空：{fields}",
    "unknown_time_zone": "{field}：没有这个时区 {zone}",
    "listed_twice": "{field}：第 {position} 位的志愿者 {volunteer} 重复列出",
    "ends_before_starts": "{field}：结束日期不能早于开始日期",
}
"""The project's own rules, raised by its validators as PydanticCustomError of these types (their
English is the error's own message)."""

NOT_EMPTY = {"string_too_short": "{field}不能为空", "too_short": "{field}不能为空"}
"""What a minimum of one (character or item) says instead."""


def where_in_chinese(loc: Sequence[Any]) -> str:
    """The place of a value as a person reads it: 「姓名（full_name）」, 查询参数「每页条数（limit）」,
    「捐赠明细（donations）第 3 项的金额（分）（amount_fen）」, or 请求体 for the body itself."""
    source, *path = loc or ("body",)
    if source not in SOURCES and source != "body":
        source, path = "body", list(loc)
    words = ""
    for part in path:
        if isinstance(part, int):
            words += f"{'' if words.endswith('）') else ' '}第 {part + 1} 项"
        else:
            name = str(part)
            label = FIELD_LABELS.get(name)
            named = f"{label}（{name}）" if label else name
            words += f"的{named}" if words else named
    words = words.strip()
    if not words:
        return BODY if source == "body" else SOURCES[source]
    return f"{SOURCES.get(source, '')}「{words}」"


def where_in_english(loc: Sequence[Any]) -> str:
    return ".".join(map(str, loc))


def shown(value: Any) -> str:
    """A context value in a Chinese sentence: pydantic's `'a', 'b' or 'c'` becomes `'a'、'b' 或 'c'`."""
    text = str(value)
    head, joined, last = text.rpartition(" or ")
    if joined:
        text = f"{head.replace(', ', '、')} 或 {last}"
    return text


def message(error: Mapping[str, Any], language: Language) -> str:
    """One error as a person reads it: in Chinese, a sentence naming the field; in English (and
    for a type without a Chinese sentence) pydantic's own message."""
    english = str(error.get("msg", ""))
    if language == "en":
        return english
    kind = str(error.get("type", ""))
    loc = error.get("loc", ())
    if kind == "json_invalid":
        loc = loc[:1]  # the rest is the character offset, not a field
    where = where_in_chinese(loc)
    context = dict(error.get("ctx") or {})
    template = CHINESE.get(kind) or OWN_TYPES.get(kind)
    if kind in NOT_EMPTY and context.get("min_length") == 1:
        template = NOT_EMPTY[kind]
    if template is None:
        return f"{where}：{english}"
    try:
        return template.format_map({name: shown(value) for name, value in context.items()} | {"field": where})
    except (KeyError, IndexError, ValueError):
        return f"{where}：{english}"


def problems(errors: Sequence[Mapping[str, Any]], language: Language) -> list[dict[str, Any]]:
    """Each error as the problem's `errors` lists it: `loc`, `msg` in the language, `type`."""
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": message(error, language),
            "type": str(error.get("type", "")),
        }
        for error in errors
    ]


def summary(errors: Sequence[Mapping[str, Any]], language: Language) -> str:
    """The problem's `detail`: every error in one sentence."""
    if language == "en":
        return "; ".join(f"{where_in_english(e.get('loc', ()))}: {message(e, 'en')}" for e in errors)
    return "输入有误：" + "；".join(message(e, "zh") for e in errors) + "。"
