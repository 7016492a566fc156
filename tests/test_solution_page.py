"""SOLUTION.md, the project's solution page: the seventeen names it tours exist, are documented, and every link and
excerpt in it matches the code (so the page cannot drift from the code again)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import labkit as lk
from labkit import cli
from labkit.runner import MigrationRunner
from labkit.table import Table

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "SOLUTION.md"

# the seed page's seventeen names, and where each lives now
SEED = {
    "build_add_column_migration": (lk.build_add_column_migration, "labkit/builders.py"),
    "build_rename_column_migration": (lk.build_rename_column_migration, "labkit/builders.py"),
    "validate_migration_safety": (lk.validate_migration_safety, "labkit/validate.py"),
    "main": (cli.main, "labkit/cli.py"),
    "add_column": (Table.add_column, "labkit/table.py"),
    "drop_column": (Table.drop_column, "labkit/table.py"),
    "insert": (Table.insert, "labkit/table.py"),
    "row_count": (Table.row_count, "labkit/table.py"),
    "column_names": (Table.column_names, "labkit/table.py"),
    "progress_pct": (MigrationRunner.progress_pct, "labkit/runner.py"),
    "is_complete": (MigrationRunner.is_complete, "labkit/runner.py"),
    "__init__": (MigrationRunner.__init__, "labkit/runner.py"),
    "history": (MigrationRunner.history, "labkit/runner.py"),
    "execute_plan": (MigrationRunner.execute_plan, "labkit/runner.py"),
    "_execute_step": (MigrationRunner._execute_step, "labkit/runner.py"),
    "_rollback_plan": (MigrationRunner._rollback_plan, "labkit/runner.py"),
    "_log": (MigrationRunner._log, "labkit/runner.py"),
}


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def test_the_seed_page_has_seventeen_names():
    assert len(SEED) == 17


@pytest.mark.parametrize("name", list(SEED), ids=list(SEED))
def test_each_seed_name_exists_and_its_docstring_says_why(name):
    obj, path = SEED[name]
    doc = (obj.fget if isinstance(obj, property) else obj).__doc__ or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "WHY:" in doc, f"{name}'s docstring does not say why it exists"
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.search(rf"def {re.escape(name)}\(", source), f"{name} is not defined in {path}"


@pytest.mark.parametrize("name", list(SEED), ids=list(SEED))
def test_each_seed_name_has_its_row_and_its_why_on_the_page(name):
    text = page()
    row = next((line for line in text.splitlines() if line.startswith("| ") and f"| `{name}` |" in line), None)
    assert row is not None, f"SOLUTION.md has no row for {name}"
    assert f"[{SEED[name][1]}]".replace("__init__", r"\_\_init\_\_") in row or f"({SEED[name][1]})" in row
    assert f"# WHY {name}: " in text and "[explain the design reason]" not in text


def test_the_page_has_every_section_of_the_seed_page_filled_in():
    text = page()
    for heading in ("## Complete solution", "## Design decisions", "## Alternative approaches", "### Approach B: ",
                    "## What could go wrong", "## Key takeaways"):  # fmt: skip
        assert heading in text, heading
    assert not re.search(r"\[(reason|alternative|bad input|edge case|error/behavior|how to handle)\]", text)
    decisions = text.split("## Design decisions")[1].split("## ")[0]
    for name in ("build_add_column_migration", "build_rename_column_migration", "validate_migration_safety"):
        assert f"| `{name}`" in decisions, name


def _links(text: str) -> list[str]:
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+://", t)]


def test_every_link_on_the_page_resolves():
    links = _links(page())
    assert len(links) > 20
    for target in links:
        path, _, anchor = target.partition("#")
        file = ROOT / path
        assert file.exists(), f"SOLUTION.md links to {target}, which does not exist"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", file.read_text(encoding="utf-8"), flags=re.M)
            slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{path} has no heading #{anchor}"


def test_every_test_the_page_names_exists():
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", page()))
    assert len(named) >= 8
    defined = {m for f in (ROOT / "tests").glob("test_*.py") for m in re.findall(r"def (test_\w+)", f.read_text())}
    assert named <= defined, f"the page names tests that do not exist: {sorted(named - defined)}"


def test_every_excerpt_on_the_page_is_still_in_the_code():
    blocks = re.findall(r"```python\n# from (\S+)[^\n]*\n(.*?)```", page(), flags=re.S)
    assert len(blocks) >= 8
    for path, body in blocks:
        source = {line.strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines()}
        for line in body.splitlines():
            if line.strip():
                assert line.strip() in source, f"excerpt from {path} no longer matches the code: {line.strip()!r}"


def test_the_readme_links_to_the_solution_page():
    assert "](SOLUTION.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
