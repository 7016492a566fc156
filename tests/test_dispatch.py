"""The shape of an operation: implementations registered beside the step, found through subclasses; guests
that raise cannot hurt a migration; the resume fingerprint tells functions apart."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import labkit as lk
from labkit import lab
from labkit.backends.sql import fingerprint
from labkit.dispatch import implemented, memory_apply, sql_statements
from tests.conftest import add_plan, rename_plan


class Explodes:
    """An observer with a bug: it raises on the second batch it sees."""

    def __init__(self) -> None:
        self.seen = 0

    def on_tick(self, event: lk.Event, apps: dict[str, float]) -> None:
        if event.kind == "batch":
            self.seen += 1
            if self.seen == 2:
                raise RuntimeError("observer bug")


def test_an_observer_raising_mid_backfill_is_detached_and_the_migration_completes(users):
    bad, recorder = Explodes(), lab.SnapshotRecorder(users)
    runner = lk.MigrationRunner(users, observers=[bad, recorder])
    result = runner.execute_plan(rename_plan(users))
    assert result.status == "completed" and result.failed_step is None
    errors = [e for e in result.history if e.kind == "observer_error"]
    assert len(errors) == 1 and "Explodes raised RuntimeError: observer bug; detached" in errors[0].detail
    assert bad.seen == 2  # never called again after it raised
    assert len(recorder.events) == len(result.history)  # the other observer saw every event, the error too
    assert "full_name" in users.column_names and "name" not in users.column_names


def test_traffic_that_raises_is_detached_too_and_never_rolls_back(users):
    class BrokenTraffic(Explodes):
        rollout_ticks = 1

    result = lk.MigrationRunner(users, traffic=BrokenTraffic()).execute_plan(add_plan(users))
    assert result.status == "completed"
    assert [e.kind for e in result.history].count("observer_error") == 1


def test_an_observer_error_is_logged_as_a_warning(users, caplog):
    caplog.set_level("WARNING", logger="labkit")
    lk.MigrationRunner(users, observers=[Explodes()]).execute_plan(rename_plan(users))
    assert any("observer_error" in r.getMessage() for r in caplog.records)


def test_the_fingerprint_tells_two_backfill_functions_apart(users):
    def plan_with(fn):
        return lk.build_add_column_migration(users, "d", backfill=fn, source="email", batch_size=5)

    lower = plan_with(lambda row: row["email"].lower())
    upper = plan_with(lambda row: row["email"].upper())
    same = plan_with(lambda row: row["email"].lower())
    assert fingerprint(lower) != fingerprint(upper)
    assert fingerprint(lower) == fingerprint(same)  # the same code: a rebuilt plan resumes

    def suffix(s):
        return lambda row: row["email"] + s

    assert fingerprint(plan_with(suffix("a"))) != fingerprint(plan_with(suffix("b")))  # closures differ


def test_reversible_answers_only_for_irreversible_steps_and_lets_bugs_through():
    @dataclass(frozen=True, repr=False)
    class Buggy(lk.AddColumn):
        def reverse(self) -> lk.Step:
            raise KeyError("a bug, not an answer")

    assert lk.AddColumn("users", "a").reversible and not lk.DropColumn("users", "a").reversible
    with pytest.raises(KeyError):
        _ = Buggy("users", "a").reversible


def test_a_subclass_of_a_step_runs_with_its_parents_implementations(users):
    @dataclass(frozen=True, repr=False)
    class AddNickname(lk.AddColumn):
        kind = "add_nickname"

    step = AddNickname("users", "nickname")
    assert implemented(memory_apply, step) and implemented(sql_statements, step)
    result = lk.MigrationRunner(users).execute_plan(lk.MigrationPlan("nick", [step]))
    assert result.ok and users.has_column("nickname")


def test_a_step_with_no_implementation_is_refused_before_anything_changes(users):
    @dataclass(frozen=True, repr=False)
    class Unknown(lk.Step):
        table: str

        def fit(self, columns: list[str]) -> list[str]:
            return columns

        def describe(self) -> str:
            return "nothing anyone implemented"

    before = users.snapshot()
    plan = lk.MigrationPlan("p", [lk.AddColumn("users", "a"), Unknown("users")])
    with pytest.raises(lk.StepDoesNotFitError, match="in-memory backend cannot run Unknown"):
        lk.MigrationRunner(users).execute_plan(plan)
    assert users.snapshot() == before


@dataclass(frozen=True)
class _Parent(lk.AddColumn):
    pass


@dataclass(frozen=True)
class _Child(_Parent):
    pass


def test_an_engines_own_form_wins_for_its_class_and_a_subclasss_generic_form_wins_over_it():
    """operations.PerEngine (docs/architecture.md, per-engine SQL): for one class the engine's registration is taken
    on that engine and the generic one elsewhere; the most specific class decides first."""
    from labkit.dispatch import PerEngine

    def default(step, run):
        return "default"

    generic = PerEngine(default)

    @generic.register
    def _parent(step: _Parent, run) -> str:
        return "parent, any engine"

    @generic.register_for("postgresql")
    def _parent_pg(step: _Parent, run) -> str:
        return "parent, postgresql"

    class Run:
        def __init__(self, engine: str) -> None:
            self.dialect = type("D", (), {"name": engine})()

    step = _Parent("users", "c")
    assert generic(step, Run("postgresql")) == "parent, postgresql"
    assert generic(step, Run("sqlite")) == "parent, any engine"
    assert generic(_Child("users", "c"), Run("postgresql")) == "parent, postgresql"  # inherited, engine form

    @generic.register
    def _child(step: _Child, run) -> str:
        return "child, any engine"

    assert generic(_Child("users", "c"), Run("postgresql")) == "child, any engine"  # its own class first
    assert generic(lk.AddColumn("users", "c"), Run("postgresql")) == "default"
    assert generic.implemented(_Parent, "sqlite") and not generic.implemented(lk.AddColumn, "sqlite")


def test_no_operation_branches_on_the_engines_name():
    """An operation's SQL for an engine is registered for that engine (register_for), and what an engine can do is
    its dialect's to say (check_expression, ...): no `if dialect.name == ...` inside labkit/steps/ (issue 31)."""
    import ast
    from pathlib import Path

    engines = {"postgresql", "sqlite", "memory"}
    found = []
    for path in sorted((Path(lk.__file__).parent / "steps").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                named = any(isinstance(s, ast.Attribute) and s.attr == "name" for s in sides)
                engine = any(isinstance(s, ast.Constant) and s.value in engines for s in sides)
                if named and engine:
                    found.append(f"{path.name}:{node.lineno}")
    assert found == [], f"register the engine's own form with register_for instead: {found}"


def test_no_operation_reads_the_engines_catalog_itself():
    """Catalog facts an operation needs (is that index INVALID? is the table partitioned? is the constraint there?)
    come from ``run.table.catalog()``, the engine's catalog reader, so ``plan_sql``'s recorder answers them with
    the real catalog and imitates no query (issue 31): no pg_* / sqlite_master / information_schema in the
    operations or the recorder."""
    import re
    from pathlib import Path

    root = Path(lk.__file__).parent
    catalog_names = re.compile(r"\b(pg_(class|index|constraint|namespace|attribute|trigger|views?|catalog)\b"
                               r"|sqlite_master|sqlite_schema|information_schema)")  # fmt: skip
    found = [f"{path.relative_to(root)}:{n}" for path in [*sorted((root / "steps").glob("*.py")), root / "plan_sql.py"]
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if catalog_names.search(line)]
    assert found == [], f"read it through run.table.catalog() (labkit/backends/catalog_*.py): {found}"


def test_a_course_function_keeps_the_fingerprint_it_had_before_the_course_moved():
    """Issue 31 moved the course's modules into labkit/course/: a plan whose backfill is lab.email_domain, started
    before the move and resumed after it, must still be the same plan (its fingerprint names the old module)."""
    from labkit.backends.sql import callable_identity

    assert lab.email_domain.__module__ == "labkit.course.data"
    assert callable_identity(lab.email_domain).startswith("labkit.data|email_domain|")
