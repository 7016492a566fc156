"""The SQL of a plan is the SQL a run executes: the engine's own record of a real run is compared with it.

SQLite: the driver's trace (``Connection.set_trace_callback``: every statement SQLite runs, values bound).
PostgreSQL: the server's log (``log_statement = 'all'`` on the run's session) of a server of this module's own,
so its log file is known. labkit's bookkeeping (``labkit_migrations``, catalog reads, BEGIN/COMMIT) is left out of
both sides; psycopg's own ``DEALLOCATE ALL`` (its prepared-statement cache, emptied after DDL) too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import labkit as lk
from labkit import lab
from labkit.plan_sql import as_sent, phase_sql, plan_sql, rollback_sql, runnable_sql
from tests.conftest import reset_database, server_folder

BOOKKEEPING = re.compile(r"^(SELECT|PRAGMA|BEGIN|COMMIT|ROLLBACK|WITH|DEALLOCATE ALL$)|labkit_migrations", re.I)
SQLITE_BOUND = re.compile(r"('(?:[^']|'')*'|-?\d+(?:\.\d+)?)")


@pytest.fixture(scope="module")
def own_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A PostgreSQL server of this module's own: its log is ``<pgdata>/log``."""
    with server_folder() as folder:
        pgdata = folder / "data"
        try:
            server = lk.embedded_postgres(str(pgdata))
            url = server.__enter__()
        except lk.DatabaseUnavailableError as exc:
            pytest.skip(f"PostgreSQL could not be started: {exc}")
        try:
            yield url, pgdata / "log"
        finally:
            server.__exit__(None, None, None)


def _fresh_db(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> lk.Database:
    if engine == "sqlite":
        return lk.connect(f"sqlite:///{tmp_path}/lab.db")
    url, _ = request.getfixturevalue("own_pg")
    db = lk.connect(url)
    reset_database(db)
    return db


def _executed_sqlite(db: lk.Database, run: Callable[[], lk.MigrationResult]) -> tuple[list[str], lk.MigrationResult]:
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        result = run()
    finally:
        db.conn.set_trace_callback(None)
    ran: list[str] = []
    for sql in seen:
        # a trigger's statements are reported as the statement that fired them, again: keep one; SQLite's own
        # nested work is reported as a comment ("-- PRAGMA 'main'.quick_check" after ADD COLUMN ... CHECK)
        if not BOOKKEEPING.search(sql) and not sql.startswith("-- ") and (not ran or ran[-1] != sql):
            ran.append(sql)
    return ran, result


def _executed_postgres(db: lk.Database, log: Path, run: Callable[[], lk.MigrationResult]) -> tuple[list[str], Any]:
    pid = db.query("SELECT pg_backend_pid()")[0][0]
    start = log.stat().st_size
    db.execute("SET log_statement = 'all'")
    try:
        result = run()
    finally:
        db.execute("RESET log_statement")
    entries: list[list[Any]] = []
    with open(log, "rb") as f:
        f.seek(start)
        for line in f.read().decode(errors="replace").splitlines():
            head = re.match(r"^\S+ \S+ \S+ \[(\d+)\] (\w+):  (.*)$", line)
            if head:
                entries.append([int(head.group(1)), head.group(2), head.group(3)])
            elif entries and line.startswith("\t"):  # a statement's next line
                entries[-1][2] += "\n" + line[1:]
    ran = []
    for pid_, level, message in entries:
        sent = re.match(r"(?:statement|execute [^:]*): (.*)", message, re.S)
        if pid_ == pid and level == "LOG" and sent and not BOOKKEEPING.search(sent.group(1)):
            ran.append(sent.group(1))
    return [s for s in ran if s != "RESET log_statement"], result


def _matches(engine: str, expected: str, ran: str) -> bool:
    if engine == "sqlite" and "?" in expected:  # the trace shows the bound values where the text has ?
        pattern = re.escape(expected).replace(r"\?", SQLITE_BOUND.pattern)
        return re.fullmatch(pattern, ran) is not None
    return expected == ran


def _rename_copy(db: lk.Database) -> tuple[Any, lk.MigrationPlan]:
    users = db.import_table(lab.make_users(30, seed=1))
    return users, lk.build_rename_column_migration(users, "name", "full_name", batch_size=7)


def _rename_view(db: lk.Database) -> tuple[Any, lk.MigrationPlan]:
    users = db.import_table(lab.make_users(30, seed=1))
    return users, lk.build_rename_column_migration(users, "name", "full_name", approach="view")


def _add_with_sql_backfill(db: lk.Database) -> tuple[Any, lk.MigrationPlan]:
    users = db.import_table(lab.make_users(30, seed=1))
    plan = lk.build_add_column_migration(
        users,
        "email_domain",
        backfill=lab.email_domain,
        backfill_sql=lab.EMAIL_DOMAIN_SQL,
        source="email",
        batch_size=8,
    )
    return users, plan


def _whole_copy(db: lk.Database) -> tuple[Any, lk.MigrationPlan]:
    orders = lab.make_orders(db)  # constraints, indexes, foreign keys both ways, a trigger, a view
    old, new = ("account_id", "payer_id") if db.dialect.name == "postgresql" else ("note", "remark")
    return orders, lk.build_rename_column_migration(orders, old, new, batch_size=6)


def _rename_auto(db: lk.Database) -> tuple[Any, lk.MigrationPlan]:
    users = db.import_table(lab.make_users(3000, seed=1))  # batch_size="auto": sized by time, 10 ms a batch
    return users, lk.build_rename_column_migration(users, "name", "full_name", chunk_ms=10)


PLANS: dict[str, Callable[[lk.Database], tuple[Any, lk.MigrationPlan]]] = {
    "rename, copy": _rename_copy,
    "rename, copy, auto batches": _rename_auto,
    "rename, view": _rename_view,
    "add column, SQL backfill": _add_with_sql_backfill,
    "production table, whole copy": _whole_copy,
}


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("name", list(PLANS))
def test_the_sql_of_a_plan_is_what_a_run_executes(engine, name, tmp_path, request):
    db = _fresh_db(engine, tmp_path, request)
    try:
        table, plan = PLANS[name](db)
        sql = plan_sql(plan, table)
        if engine == "sqlite":
            ran, result = _executed_sqlite(db, lambda: lk.MigrationRunner(table).execute_plan(plan))
        else:
            _, log = request.getfixturevalue("own_pg")
            ran, result = _executed_postgres(db, log, lambda: lk.MigrationRunner(table).execute_plan(plan))
        assert result.status == "completed"
        batches = {s.name: sum(e.kind == "batch" and e.step == s.name for e in result.history) for s in plan.steps}
        expected = sql.executed(batches)
        assert any(b > 1 for b in batches.values()) or name == "rename, view"  # batches were really compared
        assert len(expected) == len(ran), "\n".join(["expected:", *expected, "", "ran:", *ran])
        for k, (want, got) in enumerate(zip(expected, ran)):
            assert _matches(engine, want, got), f"statement {k}: the SQL of the plan says\n{want}\nthe run sent\n{got}"
    finally:
        db.close()


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_the_sql_of_a_plan_changes_nothing_and_refuses_what_a_run_refuses(engine, tmp_path, request):
    db = _fresh_db(engine, tmp_path, request)
    try:
        orders = lab.make_orders(db)
        before, rows = orders.catalog(), orders.rows()
        plan = lk.build_rename_column_migration(orders, "account_id" if engine == "postgresql" else "note", "x")
        assert plan_sql(plan, orders).units
        with pytest.raises(lk.PreflightError):  # refunds' foreign key names orders.code: no copy can finish
            plan_sql(lk.build_rename_column_migration(orders, "code", "order_code"), orders)
        assert orders.catalog() == before and orders.rows() == rows
        assert "labkit_migrations" not in db.tables()
    finally:
        db.close()


def test_the_script_reads_as_the_session_runs_it(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(10, seed=1))
        text = str(plan_sql(lk.build_rename_column_migration(users, "name", "full_name", batch_size=4), users))
    assert text.startswith("-- plan 'rename users.name to full_name' on users (sqlite)")
    assert "-- session: PRAGMA busy_timeout=0" in text
    assert "-- step 3: backfill [migrate]" in text and "-- once per batch of 4 rows" in text
    assert "BEGIN IMMEDIATE;\nUPDATE `users` SET `full_name` = `name` WHERE `id` BETWEEN ? AND ?;\nCOMMIT;" in text
    assert "-- step 4: switch_reads [migrate]" in text and "(no SQL: the application changes" in text


def test_postgres_placeholders_read_as_the_server_gets_them():
    assert as_sent("postgresql", "UPDATE t SET a = b || '%%' WHERE (k, j) >= (%s, %s)") == (
        "UPDATE t SET a = b || '%' WHERE (k, j) >= ($1, $2)"
    )
    assert as_sent("sqlite", "WHERE id BETWEEN ? AND ?") == "WHERE id BETWEEN ? AND ?"


def _capture(engine: str, db: lk.Database, request: pytest.FixtureRequest, run: Callable[[], Any]) -> tuple[list, Any]:
    if engine == "sqlite":
        return _executed_sqlite(db, run)
    return _executed_postgres(db, request.getfixturevalue("own_pg")[1], run)


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@pytest.mark.parametrize("name", ["rename, copy", "production table, whole copy"])
def test_start_complete_and_rollback_each_run_what_their_sql_says(engine, name, tmp_path, request):
    db = _fresh_db(engine, tmp_path, request)
    try:
        table, plan = PLANS[name](db)
        start, complete = phase_sql(plan, table, "start"), phase_sql(plan, table, "complete")
        undo = rollback_sql(plan, table)
        assert start.units and complete.units and undo.units
        assert len(start.units) + len(complete.units) == len(plan_sql(plan, table).units)

        def batches(result: Any) -> dict[str, int]:
            return {s.name: sum(e.kind == "batch" and e.step == s.name for e in result.history) for s in plan.steps}

        for sql, runner in [
            (start, lambda: lk.MigrationRunner(table, until_phase="contract").execute_plan(plan)),
            (undo, lambda: lk.MigrationRunner(table, resume="rollback").execute_plan(plan)),
            (start, lambda: lk.MigrationRunner(table, until_phase="contract").execute_plan(plan)),
            (complete, lambda: lk.MigrationRunner(table).execute_plan(plan)),
        ]:
            ran, result = _capture(engine, db, request, runner)
            expected = sql.executed(batches(result))
            assert len(ran) == len(expected) and all(_matches(engine, w, g) for w, g in zip(expected, ran)), (
                f"{sql.plan}:\n" + "\n".join(["expected:", *expected, "", "ran:", *ran])
            )
        assert result.status == "completed"
    finally:
        db.close()


@pytest.mark.parametrize("name", ["rename, copy", "rename, copy, auto batches", "add column, SQL backfill",
                                  "production table, whole copy"])  # fmt: skip
def test_the_runnable_sql_run_by_hand_leaves_what_labkit_leaves(name, tmp_path, request):
    """The statements of runnable_sql, sent one by one in autocommit as psql would (the backfill as a procedure
    that commits each batch), leave the same catalog and rows as labkit's own run of the plan."""
    db = _fresh_db("postgresql", tmp_path, request)
    try:
        table, plan = PLANS[name](db)
        lk.MigrationRunner(table).execute_plan(plan)
        by_labkit = (table.catalog(), sorted(table.rows(), key=lambda r: r["id"]))
        db.close()
        db = _fresh_db("postgresql", tmp_path, request)
        table, plan = PLANS[name](db)
        statements = runnable_sql(plan, table)
        procedure = next(s for s in statements if s.startswith("CREATE PROCEDURE"))
        assert ("labkit_rows := greatest(" in procedure) == ("auto" in name)  # sized by clock_timestamp() per batch
        for sql in statements:
            db.execute(sql)
        assert (table.catalog(), sorted(table.rows(), key=lambda r: r["id"])) == by_labkit
        assert not db.query("SELECT 1 FROM pg_proc WHERE proname LIKE 'labkit\\_backfill\\_%'")  # dropped after
    finally:
        db.close()


def test_sql_that_cannot_be_written_is_refused_with_where_to_go(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(5, seed=1))
        plan = lk.build_rename_column_migration(users, "name", "full_name")
        with pytest.raises(lk.IrreversibleStepError, match="drop_column"):  # no rollback past the drop
            rollback_sql(plan, users, steps=len(plan.steps))
        with pytest.raises(ValueError, match="labkit start, or export it to Alembic"):  # SQLite: no loops in SQL
            runnable_sql(plan, users)
        assert runnable_sql(lk.build_naive_rename_migration(users, "name", "full_name"), users)  # no batches: fine


# ---------------------------------------------------------------- the SQL the notebooks show (issue 11)

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _backfill(size: int) -> Callable[[Any], lk.MigrationPlan]:
    return lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=size)


# each notebook's plans, built as the notebook builds them (a notebook that changes a plan fails this test)
NOTEBOOK_PLANS: dict[str, tuple[int, list[Callable[[Any], lk.MigrationPlan]]]] = {
    "02_add_column": (40, [lambda t: lk.build_add_column_migration(
        t, "email_domain", backfill=lab.email_domain, source="email", batch_size=10,
        backfill_sql=lab.EMAIL_DOMAIN_SQL)]),
    "03_rename_column": (40, [_backfill(10)]),
    "07_real_databases": (5, [lambda t: lk.build_naive_rename_migration(t, "name", "full_name"), _backfill(500),
                              _backfill(120_000), _backfill(1000)]),
}  # fmt: skip


def _shown(notebook: str) -> dict[str, list[str]]:
    """The statements the notebook's stored outputs show (``views.step_sql``), per engine."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)
    shown: dict[str, list[str]] = {"SQLite": [], "PostgreSQL": []}
    for cell in nb.cells:
        if cell.cell_type != "code" or "views.step_sql(" not in cell.source:
            continue
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        lines, engine = text.splitlines(), None
        for i, line in enumerate(lines):
            if line in shown and i + 1 < len(lines) and set(lines[i + 1]) == {"-"}:
                engine = line
            elif engine and line and not set(line) == {"-"} and not line.startswith("--"):
                statement = line.removesuffix(";")
                if statement not in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT"):
                    shown[engine].append(statement)
    return shown


@pytest.mark.parametrize("notebook", list(NOTEBOOK_PLANS))
def test_the_sql_a_notebook_shows_is_what_the_engines_execute(notebook, tmp_path, request):
    shown = _shown(notebook)
    rows, builders = NOTEBOOK_PLANS[notebook]
    for engine, label in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        assert len(shown[label]) >= 4, f"{notebook} shows no SQL for {label}"
        ran: list[str] = []
        for k, build in enumerate(builders):
            here = tmp_path / f"{engine}{k}"
            here.mkdir()
            db = _fresh_db(engine, here, request)
            try:
                users = db.import_table(lab.make_users(rows))
                plan = build(users)
                run = lambda users=users, plan=plan: lk.MigrationRunner(users).execute_plan(plan)  # noqa: E731
                statements, result = _capture(engine, db, request, run)
                assert result.status == "completed"
                ran += statements
            finally:
                db.close()
        missing = [s for s in shown[label] if not any(_matches(engine, s, r) for r in ran)]
        assert not missing, f"{notebook} shows {label} SQL that no run executed:\n" + "\n".join(missing)
