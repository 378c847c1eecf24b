"""One concern per module, and data flowing one way: each module of entrypoint/ imports only the ones
below it in LAYERS, so following the status from app.py never climbs back up the import graph."""

from __future__ import annotations

import ast

import pytest

from tests.support.actions_runner import ROOT

# Top to bottom: the program, what decides and builds, what reads, what talks, what is plain data.
LAYERS = (
    "__main__",
    "app",
    "delivery",
    "alert",
    "verdict",
    "facts",
    "failures",
    "cancels",
    "scope",
    "github_api",
    "incident_io",
    "http_call",
    "outcome",
    "settings",
    "workflow_run",
    "workflow_file",
    "expressions",
    "runner",
    "untrusted",
    "messages",
    "github_data",
    "__init__",
)
PACKAGE = ROOT / "entrypoint"


def imported_modules(name: str) -> set[str]:
    """The entrypoint modules `name` imports, at the top, inside functions or for type checking."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "entrypoint":  # a module of the package, or a name of its __init__
                found |= {alias.name if alias.name in LAYERS else "__init__" for alias in node.names}
            elif node.module.startswith("entrypoint."):
                found.add(node.module.split(".", 1)[1])
    return found - {name}


def test_every_module_is_in_a_layer() -> None:
    assert {path.stem for path in PACKAGE.glob("*.py")} == set(LAYERS)


@pytest.mark.parametrize("name", LAYERS)
def test_a_module_imports_only_the_modules_below_it(name: str) -> None:
    above = set(LAYERS[: LAYERS.index(name)])
    assert imported_modules(name) & above == set(), f"entrypoint/{name}.py imports a module above it"
