"""GitHub's published description of the REST calls the action makes (tests/data/github-api, a copy of
../shared's, and tests/data/github-api-contents, cut from the same package), as a checker of requests and
answers.

- `check_request`: the operation exists for the method and path; every path and query parameter is one the
  operation declares, with a value its schema allows (`per_page` within the "max 100" its description
  states). A `Link` URL of the form `/repositories/{id}/...`, which github.com uses, is read as the
  repository's own `/repos/{owner}/{repo}/...`.
- `check_answer`: the body validates against the operation's response schema for that status, or against
  `basic-error` where GitHub documents none (its error statuses are thin: no operation lists 401, 403 or
  429). The one answer outside the description taken as real: an HTML page with a 5xx status, which
  GitHub's edge gives when the API behind it is down. The description is OpenAPI 3.0: `nullable: true` is
  read as "or null".

Each returns what is wrong, as sentences; an empty list where nothing is. jsonschema, a test requirement,
is imported only by the checks: `make demo` uses the description's examples without installing it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.actions_runner import DATA_DIR

if TYPE_CHECKING:
    import jsonschema
    from referencing import Registry

DESCRIPTION = DATA_DIR / "github-api" / "rest-api-subset-openapi.json"
# The one operation the action calls beyond ../shared's seven, from the same published description (its
# SOURCE.md says how it was cut): repos/get-content, for the workflow file that defines a job.
CONTENTS = DATA_DIR / "github-api-contents" / "repos-get-content-openapi.json"
BASE = "urn:github-rest-api-subset"
MAX_PER_PAGE = 100  # the per-page parameter's description: "(max 100)"


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    parameters: dict[tuple[str, str], dict[str, Any]]  # (in, name) → the parameter
    responses: dict[str, Any]


@cache
def document() -> dict[str, Any]:
    """The description, with the contents operation merged in (the components they share are the same)."""
    loaded: dict[str, Any] = json.loads(DESCRIPTION.read_text(encoding="utf-8"))
    more: dict[str, Any] = json.loads(CONTENTS.read_text(encoding="utf-8"))
    loaded["paths"] |= more["paths"]
    for kind, components in more["components"].items():
        for name, component in components.items():
            existing = loaded["components"].setdefault(kind, {}).setdefault(name, component)
            assert existing == component, f"{kind}/{name} differs between the two descriptions"
    return loaded


def json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` as a union with null, `$ref`s made absolute."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {
        key: (f"{BASE}{value}" if key == "$ref" and isinstance(value, str) else json_schema(value))
        for key, value in node.items()
        if key != "nullable"
    }
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource  # noqa: PLC0415 - see the module's docstring
    from referencing.jsonschema import DRAFT202012  # noqa: PLC0415

    resource: Resource[Any] = DRAFT202012.create_resource(json_schema(document()))
    registry: Registry[Any] = Registry().with_resource(BASE, resource)
    return registry


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """A `$ref` to a component (parameters, responses) followed once."""
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node
    target: Any = document()
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    resolved: dict[str, Any] = target
    return resolved


@cache
def operations() -> tuple[Operation, ...]:
    found = []
    for template, item in document()["paths"].items():
        for method, operation in item.items():
            parameters = {}
            for parameter in operation.get("parameters", []):
                resolved = _resolve(parameter)
                parameters[resolved["in"], resolved["name"]] = resolved

            def segment(match: re.Match[str], parameters: dict[tuple[str, str], Any] = parameters) -> str:
                name = match.group(1)
                multi = parameters.get(("path", name), {}).get("x-multi-segment")
                return f"(?P<{name}>.+)" if multi else f"(?P<{name}>[^/]+)"

            pattern = re.compile(re.sub(r"\\\{(\w+)\\\}", segment, re.escape(template)))
            found.append(
                Operation(
                    operation["operationId"],
                    method.upper(),
                    template,
                    pattern,
                    parameters,
                    operation["responses"],
                )
            )
    return tuple(found)


def operation_for(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation a request is for, and its path parameters; None where GitHub describes none."""
    for operation in operations():
        if operation.method == method and (match := operation.pattern.fullmatch(path)):
            return operation, {name: unquote(value) for name, value in match.groupdict().items()}
    return None


def repos_path(path: str, repository: str, repository_id: int) -> str:
    """`/repositories/{id}/rest` (github.com's form in `Link` URLs) as `/repos/{owner}/{repo}/rest`."""
    prefix = f"/repositories/{repository_id}/"
    return f"/repos/{repository}/{path.removeprefix(prefix)}" if path.startswith(prefix) else path


def check_request(method: str, target: str, repository: str, repository_id: int) -> list[str]:
    """What is wrong with a request (method and path with its query), by GitHub's description."""
    parts = urlsplit(target)
    path = repos_path(parts.path, repository, repository_id)
    found = operation_for(method, path)
    if found is None:
        return [f"{method} {parts.path}: GitHub's description has no such operation"]
    operation, path_values = found
    problems = [
        f"{operation.operation_id}: path parameter {name}={value!r}: {problem}"
        for name, value in path_values.items()
        if (problem := _value_problem(operation.parameters.get(("path", name)), value))
    ]
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        declared = operation.parameters.get(("query", name))
        if declared is None:
            problems.append(f"{operation.operation_id}: query parameter {name!r} is not declared")
            continue
        if len(values) > 1:
            problems.append(f"{operation.operation_id}: query parameter {name!r} given {len(values)} times")
        if problem := _value_problem(declared, values[-1]):
            problems.append(f"{operation.operation_id}: query parameter {name}={values[-1]!r}: {problem}")
    return problems


def _value_problem(parameter: dict[str, Any] | None, text: str) -> str | None:
    import jsonschema  # noqa: PLC0415 - see the module's docstring

    if parameter is None:
        return "not declared"
    schema = parameter.get("schema", {})
    value: Any = text
    if schema.get("type") == "integer":
        if not re.fullmatch(r"-?\d+", text):
            return "not an integer"
        value = int(text)
    elif schema.get("type") == "boolean":
        if text not in ("true", "false"):
            return "not true or false"
        value = text == "true"
    elif "oneOf" in schema:  # workflow_id: an id or a file name; any text is one of them
        return None
    if parameter["name"] == "per_page" and not 1 <= value <= MAX_PER_PAGE:
        return f"outside 1 to {MAX_PER_PAGE}"
    errors = list(jsonschema.Draft202012Validator(json_schema(schema)).iter_errors(value))
    return errors[0].message if errors else None


def check_answer(
    method: str, target: str, status: int, body: Any, repository: str, repository_id: int
) -> list[str]:
    """What is wrong with an answer to a request, by the operation's response schema for its status."""
    found = operation_for(method, repos_path(urlsplit(target).path, repository, repository_id))
    if found is None:
        return []  # the request was wrong, which check_request says
    operation = found[0]
    if status >= 500 and isinstance(body, str):
        return []  # the edge's own error page (the "unicorn"), not the API's answer
    response = operation.responses.get(str(status))
    if response is None and 200 <= status < 300:
        return [f"{operation.operation_id}: GitHub documents no HTTP {status} answer"]
    if response is None:
        schema: dict[str, Any] = {"$ref": "#/components/schemas/basic-error"}
    else:
        content = _resolve(response).get("content", {}).get("application/json", {})
        schema = content.get("schema", {})
    import jsonschema  # noqa: PLC0415 - see the module's docstring

    validator = jsonschema.Draft202012Validator(json_schema(schema), registry=_registry())
    errors = sorted(validator.iter_errors(body), key=lambda error: list(map(str, error.path)))
    return [
        f"{operation.operation_id} HTTP {status}: {_where(error)}: {error.message[:300]}"
        for error in errors[:10]
    ]


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(part) for part in error.absolute_path) or "the body"


def example(name: str) -> Any:
    """One of the description's own examples (`components/examples`), a fresh copy."""
    return json.loads(json.dumps(document()["components"]["examples"][name]["value"]))
