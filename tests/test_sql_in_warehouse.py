"""All SQL lives in warehouse/: flows/ and reports/ reach the warehouse only through its public functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODULES = sorted(p for pkg in ("flows", "reports") for p in (REPO / pkg).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for every import in a file, functions' own imports included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, "") for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out += [(node.module, a.name) for a in node.names]
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_sql_outside_the_warehouse(path: Path) -> None:
    for module, name in _imports(path):
        assert module != "warehouse.models", f"{module}.{name}"
        if module.split(".")[0] == "sqlalchemy":
            assert (module, name) == ("sqlalchemy", "Engine"), f"{module} {name}: only the Engine type hint"
        assert not name.startswith("_") or module.split(".")[0] == path.relative_to(REPO).parts[0], (
            f"private {module}.{name} imported from another package"
        )
