"""The package's shape, checked against docs/architecture.md (the one map): layers, one state module, errors."""

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
    assert offenders == [], f"labkit_migrations is labkit/backends/state.py's alone: {offenders}"


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


def test_import_labkit_is_the_library_alone_and_the_course_helpers_are_lab():
    import subprocess
    import sys

    probe = ("import sys, labkit; print(len(labkit.__all__)); "
             "print(' '.join(sorted(m for m in sys.modules if m.startswith('labkit'))))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split("\n")
    assert int(out[0]) <= 70
    import labkit as lk

    course = {f"labkit.course.{m}" for m in lk.COURSE} | {"labkit.course"}
    assert len(course) == 12 and all((LABKIT / "course" / f"{m}.py").exists() for m in lk.COURSE)
    assert course.isdisjoint(out[1].split()), sorted(course & set(out[1].split()))
    heavy = ("pandas", "matplotlib", "ipywidgets")
    probe2 = f"import sys, labkit; print([m for m in {heavy!r} if m in sys.modules])"
    loaded = subprocess.run([sys.executable, "-c", probe2], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    from labkit import lab

    assert {"make_users", "simulate_traffic", "exercises", "notebook_setup", "progress_bar"} <= set(lab.__all__)


# ---------------------------------------------------------------- imports flow one way (docs/architecture.md's layers)
ARCHITECTURE = LABKIT.parent / "docs" / "architecture.md"


def read_layers(text: str) -> dict[int, list[str]]:
    """The layer table of docs/architecture.md (the one map): its rows ``| N | name | `module`, ... | ... |``."""
    layers: dict[int, list[str]] = {}
    section = text.split("\n## Layers", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            layers[int(cells[0])] = [m.strip().strip("`") for m in cells[2].split(",")]
    return layers


LAYERS = read_layers(ARCHITECTURE.read_text(encoding="utf-8"))


def test_the_map_places_every_module_and_only_real_ones():
    assert sorted(LAYERS) == list(range(1, 8)), "docs/architecture.md's table lists layers 1 to 7"
    modules = {_module(p) for p in LABKIT.rglob("*.py")}
    named = [m for names in LAYERS.values() for m in names]
    ghosts = [m for m in named if m not in modules and not (m.endswith(".*") and any(
        x.startswith(m[:-1]) for x in modules))]  # fmt: skip
    assert ghosts == [], f"docs/architecture.md names modules labkit does not have: {ghosts}"
    assert len(named) == len(set(named)), "a module is in two layers of docs/architecture.md"
    for module in modules:
        _layer(module)  # every module has a layer (or the assertion names it)


def test_the_readme_links_the_map_instead_of_keeping_a_copy():
    readme = (LABKIT.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/architecture.md" in readme
    assert "faces: cli, lifecycle" not in readme, "the README keeps a copy of the layers: link docs/architecture.md"


def test_a_layer_table_is_read_as_written():
    table = "## Layers\n\n| layer | name | modules | owns |\n|---|---|---|---|\n| 1 | base | `a`, `b.*` | x |\n" \
            "| 2 | top | `c` | y |\n\n## Next\n| 3 | not | `d` | z |\n"  # fmt: skip
    assert read_layers("intro\n" + table) == {1: ["a", "b.*"], 2: ["c"]}


def _module(path: Path) -> str:
    parts = list(path.relative_to(LABKIT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    best = None
    for layer, names in LAYERS.items():
        for name in names:
            exact = name == module
            prefix = name.endswith(".*") and module.startswith(name[:-1])
            if exact:
                return layer
            if prefix:
                best = layer
    assert best is not None, f"labkit.{module} has no layer in docs/architecture.md: give it one"
    return best


def _imports() -> list[tuple[str, str, str]]:
    """(importer, imported, where): every import of a labkit module, type-only and function-local included."""
    modules = {_module(p): p for p in LABKIT.rglob("*.py")}
    out = []
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]

        def visit(node: ast.AST, where: str, mod: str = mod, package: str = package) -> None:
            for child in ast.iter_child_nodes(node):
                here = where
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    here = "function"
                if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                    here = "typing"
                if isinstance(child, ast.ImportFrom) and child.level:
                    base = package
                    for _ in range(child.level - 1):
                        base = base.rpartition(".")[0]
                    target = ".".join(p for p in (base, child.module or "") if p)
                    for alias in child.names:
                        sub = f"{target}.{alias.name}" if target else alias.name
                        out.append((mod, sub if sub in modules else target, here))
                visit(child, here)

        visit(ast.parse(path.read_text(encoding="utf-8")), "top")
    return [(a, b, w) for a, b, w in out if a != b]


def test_no_import_circles_type_only_imports_included():
    graph: dict[str, set[str]] = {}
    for a, b, _ in _imports():
        graph.setdefault(a, set()).add(b)
    state: dict[str, int] = {}

    def cycle_from(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt] if nxt in path else [node, nxt]
            if nxt not in state and (found := cycle_from(nxt, [*path, nxt])):
                return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := cycle_from(start, [start])):
            raise AssertionError("import circle: " + " -> ".join(f"labkit.{m}".rstrip(".") for m in found))


def test_imports_flow_down_the_layers_and_none_hide_in_functions():
    upward = sorted({(a, b) for a, b, _ in _imports() if _layer(b) > _layer(a)})
    assert len(upward) <= 6, f"imports from a lower layer to a higher one: {upward}"
    hidden = sorted({(a, b) for a, b, where in _imports() if where == "function"})
    assert hidden == [], f"function-local imports of labkit modules (only for a heavy optional dependency): {hidden}"
