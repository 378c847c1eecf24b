"""Reading what comes from outside the action: JSON, text, numbers and URLs from the environment, the
event file and the servers' answers, where any byte may be hostile.

Nothing read here can crash the step: JSON is bounded in depth and refused (ValueError) where it is not
strict RFC 8259 JSON; lone surrogates (a JSON escape such as `"\\ud800"`, or an environment variable that is
not UTF-8) become U+FFFD in text that is only shown, and are refused in inputs, whose values are sent; a
number is ASCII digits only (`"²".isdigit()` is true, `int("²")` fails); a URL that reaches a link is http(s)
with no whitespace, control character or markdown-breaking character left unencoded.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

# Deeper JSON than this is refused: GitHub's and incident.io's answers and events nest a few levels, and a
# deeper document only exists to exhaust the parser or the code that walks it (RecursionError).
MAX_JSON_DEPTH = 64
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
ASCII_NUMBER = re.compile(r"[0-9]{1,18}")
# Characters a URL may not hold raw in a markdown link or a table cell: they end the link or the cell, or
# open HTML. Whitespace and control characters make a URL invalid outright.
UNSAFE_IN_LINK = re.compile(r"[()<>\[\]|\\`\"']")
WHITESPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


class NotStrictJson(ValueError):
    """The text is not strict JSON, or is nested deeper than MAX_JSON_DEPTH."""


def _refuse_constant(name: str) -> Any:
    raise NotStrictJson(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999: JSON has no infinity
        raise NotStrictJson(f"{text} is too large a number")
    return value


def loads(text: str | bytes, *, surrogates: str = "replace") -> Any:
    """Strict JSON (no NaN or Infinity, at most MAX_JSON_DEPTH deep), or NotStrictJson.

    `surrogates`: "replace" turns a lone surrogate in any string or key into U+FFFD (text only shown:
    answers, events); "refuse" raises NotStrictJson (inputs, whose values are sent as JSON).
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:  # deeper than the interpreter's own limit
        raise NotStrictJson("it is nested too deeply") from None
    except UnicodeDecodeError:
        raise NotStrictJson("it is not UTF-8") from None
    except NotStrictJson:
        raise
    except ValueError as exc:
        raise NotStrictJson(str(exc)) from None
    return _checked(value, surrogates)


def _checked(value: Any, surrogates: str) -> Any:
    """The parsed value, no deeper than MAX_JSON_DEPTH, with its lone surrogates dealt with; iterative, so
    that no depth can exhaust the stack."""
    if isinstance(value, str):
        return _text(value, surrogates)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, int]] = [(root, 0, 0)]  # (container, key, depth of the value there)
    while stack:
        container, key, depth = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = _text(item, surrogates)
        elif isinstance(item, list):
            if depth >= MAX_JSON_DEPTH:
                raise NotStrictJson(f"it is nested more than {MAX_JSON_DEPTH} levels deep")
            stack.extend((item, index, depth + 1) for index in range(len(item)))
        elif isinstance(item, dict):
            if depth >= MAX_JSON_DEPTH:
                raise NotStrictJson(f"it is nested more than {MAX_JSON_DEPTH} levels deep")
            if any(LONE_SURROGATE.search(name) for name in item):
                renamed = {_text(name, surrogates): entry for name, entry in item.items()}
                item.clear()
                item.update(renamed)
            stack.extend((item, name, depth + 1) for name in item)
    return root[0]


def _text(value: str, surrogates: str) -> str:
    if not LONE_SURROGATE.search(value):
        return value
    if surrogates == "refuse":
        raise NotStrictJson("it holds a lone surrogate (\\ud800-\\udfff), which is not text")
    return clean_text(value)


def clean_text(text: str) -> str:
    """Text that can be written as UTF-8: each lone surrogate becomes U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text) if LONE_SURROGATE.search(text) else text


def has_lone_surrogate(text: str) -> bool:
    return LONE_SURROGATE.search(text) is not None


def number(value: object) -> int | None:
    """A whole number from JSON or the environment: an int (not a bool), or ASCII digits only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ASCII_NUMBER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def link(value: str | None) -> str | None:
    """An http(s) URL fit to be a link (in the alert, its markdown and the job summary), or None: no
    whitespace or control character anywhere, and a host."""
    if not value or WHITESPACE_OR_CONTROL.search(value) or has_lone_surrogate(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced `[` in the host
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def markdown_link_target(url: str) -> str:
    """A link's URL as markdown's `(...)` target: every character that could end it, or open HTML or a
    table cell, percent-encoded."""
    return UNSAFE_IN_LINK.sub(lambda match: f"%{ord(match.group()):02X}", url)
