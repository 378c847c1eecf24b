"""action.yml as GitHub's runner reads it: with its template schema, not with our own reading of it.

The runner loads every action.yml with `action_yaml.json` (a copy in tests/data/github-runner, with its
SOURCE.md): its TemplateReader reads each node under a definition of that schema, and every string that holds
`${{` is parsed as an expression there. A definition may name contexts (`inputs.<id>.default`: github,
strategy, matrix, job, runner, hashFiles; `runs.env`: inputs); a node inherits the contexts of the
definitions above it. An expression may only name those contexts' named values and functions (and the
built-in functions); where no context is allowed at all (a description, a name, `runs.image`), any `${{` is
an error, and the runner fails the step with `Failed to load .../action.yml` (act: "expressions are not
allowed here"). This module reproduces those rules, so that a test can prove action.yml loads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import yaml

from tests.support.actions_runner import DATA_DIR

SCHEMA = DATA_DIR / "github-runner" / "action_yaml.json"
# The expression language's own functions, allowed wherever an expression is (ExpressionConstants).
BUILT_IN_FUNCTIONS = frozenset({"contains", "endswith", "format", "fromjson", "join", "startswith", "tojson"})
UNCLOSED = "The expression is not closed: a ${{ was found, but no closing }}."
SCALAR_KINDS = frozenset({"string", "boolean", "number", "null"})
LITERALS = frozenset({"true", "false", "null", "nan", "infinity"})
# The template schema's own definitions (TemplateSchema's built-ins); none allows a context.
BUILT_INS: dict[str, dict[str, Any]] = {
    "any": {"one-of": ["null", "boolean", "number", "string", "sequence", "mapping"]},
    "null": {"null": {}},
    "boolean": {"boolean": {}},
    "number": {"number": {}},
    "string": {"string": {}},
    "sequence": {"sequence": {"item-type": "any"}},
    "mapping": {"mapping": {"loose-key-type": "string", "loose-value-type": "any"}},
}
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>[0-9][0-9a-fA-FxXoO.eE+-]*)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*)|(?P<op>&&|\|\||==|!=|<=|>=|[.()\[\]!<>,*]))"
)


@dataclass(frozen=True)
class ManifestError:
    line: int  # 1-based, as the runner and act report them
    column: int
    message: str

    def __str__(self) -> str:
        return f"Line: {self.line} Column {self.column}: {self.message}"


@cache
def _definitions() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8-sig"))  # it starts with a BOM
    definitions: dict[str, Any] = document["definitions"]
    return definitions


def load_errors(text: str) -> list[ManifestError]:
    """What the runner would refuse in this action.yml, in document order; [] when it loads."""
    reader = _Reader()
    root = yaml.compose(text)
    if root is None:
        return [ManifestError(1, 1, "The file is empty")]
    reader.read(root, "action-root", frozenset())
    return reader.errors


class _Reader:
    def __init__(self) -> None:
        self.errors: list[ManifestError] = []

    def _error(self, node: yaml.Node, message: str) -> None:
        self.errors.append(ManifestError(node.start_mark.line + 1, node.start_mark.column + 1, message))

    def read(self, node: yaml.Node, name: str, allowed: frozenset[str]) -> None:
        definition = _definitions().get(name) or BUILT_INS[name]
        # A definition's contexts add to those of the definitions above it (DefinitionInfo).
        allowed = allowed | frozenset(definition.get("context", ()))
        if "one-of" in definition:
            chosen = self._one_of(node, definition["one-of"])
            if chosen is None:
                self._error(node, f"Unexpected {_kind(node)} for {name}")
            else:
                self.read(node, chosen, allowed)
            return
        if isinstance(node, yaml.ScalarNode):
            if not SCALAR_KINDS & set(definition):
                self._error(node, f"A {_kind(node)} was not expected here ({name})")
            if "${{" in node.value:
                for message in expression_errors(node.value, allowed):
                    self._error(node, message)
            return
        if isinstance(node, yaml.SequenceNode):
            if "sequence" not in definition:
                self._error(node, f"A sequence was not expected here ({name})")
                return
            for item in node.value:
                self.read(item, definition["sequence"]["item-type"], allowed)
            return
        if isinstance(node, yaml.MappingNode):
            if "mapping" not in definition:
                self._error(node, f"A mapping was not expected here ({name})")
                return
            self._mapping(node, definition["mapping"], allowed)

    def _mapping(self, node: yaml.MappingNode, mapping: dict[str, Any], allowed: frozenset[str]) -> None:
        properties: dict[str, Any] = mapping.get("properties", {})
        seen = set()
        for key, value in node.value:
            self.read(key, mapping.get("loose-key-type", "non-empty-string"), allowed)
            seen.add(key.value)
            if key.value in properties:
                spec = properties[key.value]
                self.read(value, spec if isinstance(spec, str) else spec["type"], allowed)
            elif "loose-value-type" in mapping:
                self.read(value, mapping["loose-value-type"], allowed)
            else:
                self._error(key, f"Unexpected value '{key.value}'")
        for name, spec in properties.items():
            if isinstance(spec, dict) and spec.get("required") and name not in seen:
                self._error(node, f"Required property is missing: {name}")

    def _one_of(self, node: yaml.Node, candidates: list[str]) -> str | None:
        """The candidate the runner would read this node as: by its kind, and for a mapping by its keys."""
        for candidate in candidates:
            definition = _definitions().get(candidate) or BUILT_INS[candidate]
            if "one-of" in definition and self._one_of(node, definition["one-of"]):
                return candidate
            if isinstance(node, yaml.MappingNode) and "mapping" in definition:
                properties = definition["mapping"].get("properties", {})
                loose = "loose-value-type" in definition["mapping"]
                if loose or all(key.value in properties for key, _value in node.value):
                    return candidate
            if isinstance(node, yaml.SequenceNode) and "sequence" in definition:
                return candidate
            if isinstance(node, yaml.ScalarNode) and {"string", "boolean", "number", "null"} & set(
                definition
            ):
                return candidate
        return None


def expression_errors(value: str, allowed: frozenset[str]) -> list[str]:
    """Why the `${{ }}` expressions in a string are refused under these contexts; [] if they are not."""
    if not allowed:
        return ["expressions are not allowed here"]
    named = {entry.lower() for entry in allowed if "(" not in entry}
    functions = BUILT_IN_FUNCTIONS | {entry.split("(", 1)[0].lower() for entry in allowed if "(" in entry}
    errors = []
    for expression in _expressions(value):
        if expression is None:
            errors.append(UNCLOSED)
            continue
        tokens = _tokens(expression)
        if tokens is None:
            errors.append(f"Unexpected symbol in expression: {expression.strip()!r}")
            continue
        for index, (kind, text) in enumerate(tokens):
            if kind != "name" or text.lower() in LITERALS:
                continue
            after_dot = index > 0 and tokens[index - 1] == ("op", ".")
            if after_dot:
                continue  # a property: job.status
            calls = index + 1 < len(tokens) and tokens[index + 1] == ("op", "(")
            if calls and text.lower() not in functions:
                errors.append(f"Unrecognized function: '{text}'")
            elif not calls and text.lower() not in named:
                errors.append(f"Unrecognized named-value: '{text}'")
    return errors


def _expressions(value: str) -> list[str | None]:
    """The insides of each `${{ ... }}` (None for one that is never closed); `}}` inside a string literal
    does not close it."""
    found: list[str | None] = []
    start = value.find("${{")
    while start >= 0:
        index, in_string = start + 3, False
        while index < len(value):
            if value[index] == "'":
                in_string = not in_string
            elif not in_string and value.startswith("}}", index):
                break
            index += 1
        if index >= len(value):
            found.append(None)
            return found
        found.append(value[start + 3 : index])
        start = value.find("${{", index + 2)
    return found


def _tokens(expression: str) -> list[tuple[str, str]] | None:
    tokens, position = [], 0
    while position < len(expression.rstrip()):
        match = TOKEN.match(expression, position)
        if match is None or match.end() == position:
            return None
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "sequence"
    return "scalar"
