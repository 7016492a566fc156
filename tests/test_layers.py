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


def test_every_exception_class_is_in_errors_under_one_of_two_bases():
    import inspect

    import labkit as lk
    from labkit import errors

    outside = []
    for path in sorted(LABKIT.rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            bases = [ast.unparse(b) for b in getattr(node, "bases", [])]
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and any(
                b.endswith(("Error", "Exception")) or b in ("LabkitError", "BaseException") for b in bases
            ):
                outside.append(f"{path.relative_to(LABKIT)}:{node.name}")
    assert outside == [], f"exception classes belong in labkit/errors.py: {outside}"
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, lk.LabkitError)]
    assert len(classes) > 20
    loose = [c.__name__ for c in classes if c not in (lk.LabkitError, errors.RefusedError, errors.FailedError)
             and not issubclass(c, (errors.RefusedError, errors.FailedError)) and c is not errors.NotImplementedHere]
    assert loose == [], f"every error says whether anything changed (RefusedError / FailedError): {loose}"
    assert issubclass(lk.PreflightError, errors.RefusedError) and issubclass(lk.ConnectionLostError, errors.FailedError)
