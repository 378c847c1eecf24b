"""GitHub Actions expressions, as far as a job's `timeout-minutes` and `continue-on-error` use them: the
`matrix` context, literals, `!`, comparisons, `&&`, `||`, parentheses, and `fromJSON`, `contains`,
`startsWith` and `endsWith`, with GitHub's rules for truth and comparison (docs: "Evaluate expressions in
workflows and actions"). Anything else (another context, another function) is `Unevaluable`: the caller
then says what it could not tell, rather than guess.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
TOKEN = re.compile(
    r"\s*(?:(?P<number>-?(?:0x[0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?))"
    r"|(?P<string>'(?:[^']|'')*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<operator>&&|\|\||==|!=|<=|>=|[<>!().\[\],*]))"
)
COMPARISONS = frozenset(("operator", operator) for operator in ("<", "<=", ">", ">="))
MAX_LENGTH = 1000  # longer is no timeout-minutes worth evaluating


class Unevaluable(Exception):
    """The value reads something the action does not know (a context other than matrix, a function
    it does not evaluate) or is no expression at all. `str()` says which."""


def evaluate(value: object, contexts: Mapping[str, Any]) -> Any:
    """A workflow value as the runner sees it: a YAML scalar as it is; `${{ x }}` alone, the value of x;
    text around expressions, the text with each expression's value in it."""
    if not isinstance(value, str) or "${{" not in value:
        return value
    whole = EXPRESSION.fullmatch(value.strip())
    if whole:
        return _Parser(whole.group(1), contexts).parse()
    return EXPRESSION.sub(lambda match: _text(_Parser(match.group(1), contexts).parse()), value)


def truthy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    return True


def number(value: Any) -> float:
    """GitHub's conversion to a number: null 0, booleans 0 or 1, a numeric string its value, else NaN."""
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _equal(a: Any, b: Any) -> bool:
    if type(a) is not type(b) and not (_is_number(a) and _is_number(b)):
        if isinstance(a, dict | list) or isinstance(b, dict | list):
            return False
        return number(a) == number(b)
    if isinstance(a, str):
        return bool(a.casefold() == str(b).casefold())  # GitHub compares strings ignoring case
    return bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(a: Any, b: Any, operator: str) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        left: Any = a.casefold()
        right: Any = b.casefold()
    else:
        left, right = number(a), number(b)
        if math.isnan(left) or math.isnan(right):
            return False
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda x, y: x < y,
        "<=": lambda x, y: x <= y,
        ">": lambda x, y: x > y,
        ">=": lambda x, y: x >= y,
    }
    return comparisons[operator](left, right)


class _Parser:
    """Recursive descent over the tokens, lowest precedence first: ||, &&, == !=, < <= > >=, !, access."""

    def __init__(self, text: str, contexts: Mapping[str, Any]) -> None:
        if len(text) > MAX_LENGTH:
            raise Unevaluable("the expression is too long")
        self.tokens = _tokens(text)
        self.position = 0
        self.contexts = contexts
        self.depth = 0

    def parse(self) -> Any:
        value = self._or()
        if self.position != len(self.tokens):
            raise Unevaluable(f"unexpected {self.tokens[self.position][1]!r}")
        return value

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, operator: str) -> bool:
        token = self._peek()
        if token == ("operator", operator):
            self.position += 1
            return True
        return False

    def _expect(self, operator: str) -> None:
        if not self._take(operator):
            raise Unevaluable(f"expected {operator!r}")

    def _or(self) -> Any:
        value = self._and()
        while self._take("||"):
            other = self._and()
            value = value if truthy(value) else other
        return value

    def _and(self) -> Any:
        value = self._equality()
        while self._take("&&"):
            other = self._equality()
            value = other if truthy(value) else value
        return value

    def _equality(self) -> Any:
        value = self._comparison()
        while (token := self._peek()) in (("operator", "=="), ("operator", "!=")):
            self.position += 1
            other = self._comparison()
            value = _equal(value, other) == (token == ("operator", "=="))
        return value

    def _comparison(self) -> Any:
        value = self._unary()
        while (token := self._peek()) is not None and token in COMPARISONS:
            self.position += 1
            value = _compare(value, self._unary(), token[1])
        return value

    def _unary(self) -> Any:
        if self._take("!"):
            return not truthy(self._unary())
        return self._access()

    def _access(self) -> Any:
        value = self._primary()
        while True:
            if self._take("."):
                token = self._peek()
                if token is None or token[0] != "name":
                    raise Unevaluable("a property name must follow '.'")
                self.position += 1
                value = _property(value, token[1])
            elif self._take("["):
                index = self._or()
                self._expect("]")
                value = _property(value, index)
            else:
                return value

    def _primary(self) -> Any:
        self.depth += 1
        if self.depth > 50:
            raise Unevaluable("the expression nests too deeply")
        try:
            return self._primary_value()
        finally:
            self.depth -= 1

    def _primary_value(self) -> Any:
        token = self._peek()
        if token is None:
            raise Unevaluable("the expression ends too soon")
        kind, text = token
        self.position += 1
        if kind == "number":
            return float(int(text, 16)) if "x" in text.lower() else float(text)
        if kind == "string":
            return text[1:-1].replace("''", "'")
        if kind == "operator" and text == "(":
            value = self._or()
            self._expect(")")
            return value
        if kind != "name":
            raise Unevaluable(f"unexpected {text!r}")
        literal = {"true": True, "false": False, "null": None}
        if text in literal:
            return literal[text]
        if self._take("("):
            return self._call(text)
        if text not in self.contexts:
            raise Unevaluable(f"it reads {text}, which only the runner knows")
        return self.contexts[text]

    def _call(self, name: str) -> Any:
        arguments = []
        if not self._take(")"):
            arguments.append(self._or())
            while self._take(","):
                arguments.append(self._or())
            self._expect(")")
        function = name.lower()
        if function == "fromjson" and len(arguments) == 1 and isinstance(arguments[0], str):
            try:
                return json.loads(arguments[0])
            except (ValueError, RecursionError):
                raise Unevaluable("fromJSON of something that is not JSON") from None
        if function in ("startswith", "endswith") and len(arguments) == 2:
            text, part = (_text(argument).casefold() for argument in arguments)
            return text.startswith(part) if function == "startswith" else text.endswith(part)
        if function == "contains" and len(arguments) == 2:
            haystack, needle = arguments
            if isinstance(haystack, list):
                return any(_equal(item, needle) for item in haystack)
            return _text(needle).casefold() in _text(haystack).casefold()
        raise Unevaluable(f"it calls {name}(), which the action does not evaluate")


def _property(value: Any, key: Any) -> Any:
    if isinstance(value, dict):
        if not isinstance(key, str):
            return None
        matches = [item for name, item in value.items() if name.casefold() == key.casefold()]
        return matches[0] if matches else None
    if isinstance(value, list) and _is_number(key) and float(key).is_integer() and 0 <= key < len(value):
        return value[int(key)]
    return None


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise Unevaluable(f"it holds {text[position:].strip()[:20]!r}, which is not an expression")
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found
