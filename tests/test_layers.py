"""The package's shape, checked: one module owns labkit's state table."""

from __future__ import annotations

import ast
from pathlib import Path

LABKIT = Path(__file__).resolve().parent.parent / "labkit"


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def test_only_the_state_module_names_the_state_table_in_code():
    offenders = []
    for path in sorted(LABKIT.rglob("*.py")):
        if path.name == "state.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
            if text and id(node) not in docs and "labkit_migrations" in text:
                offenders.append(f"{path.relative_to(LABKIT)}:{node.lineno}")
            if isinstance(node, ast.Name) and node.id == "STATE_TABLE":
                offenders.append(f"{path.relative_to(LABKIT)}:{node.lineno} STATE_TABLE")
    assert offenders == [], f"labkit_migrations is labkit/state.py's alone: {offenders}"
