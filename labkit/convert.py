"""From the migration you would have written to the plan that keeps the app up (``labkit convert``).

    labkit convert migration.sql --db URL -o plan.json [--fill email="'unknown'"] [--copy-as visits=visits_big]
    labkit convert --alembic PROJECT REVISION --db URL -o plan.json   # an Alembic revision, by its offline SQL

Each statement is parsed by PostgreSQL's own parser (``pglast``), the table it changes is read from the catalog, and
the statement becomes a labkit plan whose end state is the one the statement would have left, reached without
downtime: ``RENAME COLUMN`` (a copy, as ``build_rename_column_migration``), ``ADD COLUMN`` (with a DEFAULT, NOT NULL
with a default), ``SET`` / ``DROP NOT NULL`` (``NOT VALID`` check, ``VALIDATE``, then ``SET NOT NULL``; NULLs
filled first, with the value you give), ``SET`` / ``DROP DEFAULT``, ``ADD CONSTRAINT ... CHECK`` / ``FOREIGN KEY``
(``NOT VALID``, then ``VALIDATE``), ``ADD CONSTRAINT ... UNIQUE`` (the index ``CONCURRENTLY``, then ``USING
INDEX``; duplicates given values of their own first, with the expression you give), ``CREATE INDEX``
(``CONCURRENTLY``), ``DROP INDEX``, ``DROP COLUMN`` (after the app that no longer uses it), ``COMMENT ON COLUMN``,
``ALTER COLUMN ... TYPE`` (a copy converted by its ``USING``, shown under the column's name through app v2's view
and renamed to it at the end, as ``build_change_type_migration(t, c, c, ...)``; or into a column of another name).

On SQLite (its ALTER TABLE is a subset of PostgreSQL's, which the parser reads): RENAME COLUMN, ADD COLUMN, DROP
COLUMN, CREATE and DROP INDEX; what SQLite has no form of (ALTER COLUMN, ADD CONSTRAINT, COMMENT) is refused.

What it cannot infer it asks for, per statement (``Conversion.asked``: the fill value for the NULLs a NOT NULL meets,
the value each duplicate a UNIQUE meets gets, a type change's way back from its USING);
a statement it has no safe form for yet is refused with the reason (``Conversion.refused``), never guessed at.
Statements on the same table become one plan (``first_plan``, ``labkit.compose``: one expand, one migrate, one
contract, app versions that know every change). Each statement is read against the catalog as the statements before
it leave it (a column they add or rename is there); one that needs the rows of such a column is refused, with the
advice to run the earlier ones first.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import pgparse
from ._common import SQL, short_name
from .apps import AppVersion
from .backends.db import Database, DbTable
from .builders import (
    build_add_column_migration,
    build_add_index_migration,
    build_add_volatile_default_migration,
    build_change_type_migration,
    build_comment_migration,
    build_rename_column_migration,
    build_set_not_null_migration,
    build_update_migration,
)
from .catalog import ColumnInfo, TableCatalog
from .compose import compose
from .errors import ColumnNotFoundError, InvalidArgumentError, LabkitError, TableNotFoundError
from .plan import MigrationPlan
from .safety.squawk import run_squawk
from .steps import (
    AddColumn,
    AddConstraint,
    ChangeTypeInPlace,
    CreateIndex,
    DropColumn,
    DropConstraint,
    DropIndex,
    DropNotNull,
    SetDefault,
    SetDefaultAtContract,
    Step,
    ValidateConstraint,
)

# what the statement would do to the app, as PostgreSQL's documentation gives its lock
NAIVE_LOCK = {
    "rename column": "ACCESS EXCLUSIVE for an instant, then every query naming the old name fails",
    "add column": "ACCESS EXCLUSIVE for an instant (a constant default is stored in the catalog)",
    "set not null": "ACCESS EXCLUSIVE while it scans every row: reads and writes wait",
    "drop not null": "ACCESS EXCLUSIVE for an instant",
    "set default": "ACCESS EXCLUSIVE for an instant",
    "check": "ACCESS EXCLUSIVE while it scans every row (validated at once): reads and writes wait",
    "foreign key": "SHARE ROW EXCLUSIVE on both tables while it scans every row: writes wait",
    "create index": "SHARE for the whole build: writes wait",
    "drop index": "ACCESS EXCLUSIVE on the table for an instant (behind any running query)",
    "drop column": "ACCESS EXCLUSIVE for an instant, then every query naming the column fails",
    "comment": "SHARE UPDATE EXCLUSIVE for an instant",
    "change type": "ACCESS EXCLUSIVE while it rewrites the table: reads and writes wait",
    "change type in the catalog": "ACCESS EXCLUSIVE for an instant (a binary-coercible cast, no length to check: "
    "the catalog only, no rewrite), then each server-side prepared statement returning the column fails once",
    "unique": "ACCESS EXCLUSIVE while it builds the unique index: reads and writes wait",
    "primary key": "ACCESS EXCLUSIVE while it builds the unique index (and scans for NULLs): reads and writes wait",
    "drop constraint": "ACCESS EXCLUSIVE for an instant (a foreign key's: on the referenced table too)",
    "update": "a row lock on every row it updates until it commits: every app write to those rows waits for all of it",
}


# the same on SQLite, where its form differs (every write waits on the database's one write lock)
SQLITE_NAIVE_LOCK = {
    "rename column": "the write lock for an instant, then every query naming the old name fails",
    "add column": "the write lock for an instant (the default is stored in the schema)",
    "create index": "the write lock for the whole build: writes wait",
    "drop index": "the write lock for an instant",
    "drop column": "the write lock while it rewrites every row, then every query naming the column fails",
}


@dataclass(frozen=True)
class Conversion:
    """One statement of the migration and what it became: a plan, or what is asked for, or why it is refused."""

    statement: str
    kind: str
    table: str | None = None
    plan: MigrationPlan | None = None
    asked: tuple[str, ...] = ()
    refused: str | None = None
    engine: str = "postgresql"
    noted: str | None = None  # understood, and nothing to run: what became of it (a SET search_path, a COMMIT ...)
    search_path: tuple[str, ...] | None = None  # the migration's SET search_path in force for it (None: the session's)
    how: str | None = None  # a plan that runs the statement as written: why that is safe
    written: str | None = None  # no plan: the statement runs as written, before the plans (why that is safe)
    advice: str | None = None  # a cheaper way the user may choose, and what it costs

    @property
    def naive_lock(self) -> str:
        if self.engine == "sqlite":
            return SQLITE_NAIVE_LOCK.get(self.kind, "")
        return NAIVE_LOCK.get(self.kind, "")

    def squawk_rules(self) -> list[str]:
        """The rules squawk (PostgreSQL's migration linter) finds broken by the statement as written."""
        return sorted({str(r["rule_name"]) for r in run_squawk(self.statement + ";")})

    @property
    def instead(self) -> str:
        """What labkit does instead: the plan's steps, or what it asks for, or why it refuses."""
        if self.asked:
            return "asks: " + "; ".join(self.asked)
        if self.refused:
            return f"refused: {self.refused}"
        if self.noted:
            return f"understood: {self.noted}"
        if self.written:
            return f"run as written, before the plans: {self.written}"
        assert self.plan is not None
        if self.how:
            return f"run {self.how} ({self.plan.name})"
        done = f"converted: {self.plan.name} ({', '.join(s.name for s in self.plan.steps)})"
        return f"{done}\n  note: {self.advice}" if self.advice else done

    def __str__(self) -> str:
        head = f"{self.statement.strip()}\n  as written: {self.naive_lock or 'a change labkit does not convert'}"
        return f"{head}\n  {self.instead}"


def convert_sql(
    sql: str,
    db: Database,
    *,
    fill: Mapping[str, Any] | None = None,
    dedupe: Mapping[str, SQL] | None = None,
    copy_as: Mapping[str, str] | None = None,
    back: Mapping[str, SQL] | None = None,
    in_catalog: Iterable[str] = (),
) -> list[Conversion]:
    """Each statement of ``sql`` as a ``Conversion`` against the tables of ``db`` (PostgreSQL or SQLite).

    ``fill``: ``{column: value}`` (``"table.column"`` too): the value the NULLs already in a column get before a
    ``SET NOT NULL`` (a constant, or ``SQL("...")``); asked for where a column holds NULLs and none is given.
    ``dedupe``: ``{column: SQL("...")}``: the value each duplicate gets before a ``UNIQUE`` constraint on the column
    (every row whose value a row with a smaller key has too); asked for where the column holds duplicates.
    ``back``: ``{column: SQL("...")}``: a type change's way back from its ``USING``, over the row (the copy's name in
    it): app v2 writes only the new type, and a rollback keeps its writes through it; asked for. ``copy_as``:
    ``{column: new_name}``: instead, a type change copies into a column of that name, which the app moves to (v2
    reads it and writes both columns, so no way back is needed).
    Each key is a column's name, or ``"table.column"`` where two tables have it."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    if db.dialect.name not in ("postgresql", "sqlite"):
        raise InvalidArgumentError(f"labkit convert is for PostgreSQL and SQLite; this database is {db.dialect.name}")
    try:
        statements = parse_sql(sql)
    except ParseError as exc:
        raise InvalidArgumentError(f"PostgreSQL's parser refuses the migration: {exc}") from None
    out: list[Conversion] = []
    answers = _Answers(dict(fill or {}), dict(dedupe or {}), dict(copy_as or {}), dict(back or {}),
                       {c: True for c in in_catalog})  # fmt: skip
    names = _Names(db)
    filled_by = _one_off_fills(statements)
    for key, value in filled_by.values():
        answers.fill.setdefault(key, value)  # (a --fill the user gave wins)
    for i, raw in enumerate(statements):
        text = _text(sql, raw)
        if i in filled_by:  # the UPDATE of Django's one-off default: the fill of the SET NOT NULL after it
            t = names.table(raw.stmt.relation)  # type: ignore[union-attr]
            given = answers.fill[filled_by[i][0]]
            shown = given.text if isinstance(given, SQL) else repr(given)
            out.append(Conversion(text, "update", t.qualified, engine=db.dialect.name, noted=(
                f"the fill of the SET NOT NULL after it (a one-off default, as Django writes it): its NULLs get "
                f"{shown} in the NOT NULL's journaled batches, once the app version that never writes NULL is out")))
            continue
        for c in _convert(raw.stmt, text, names, answers):
            path = tuple(names.search_path) if names.search_path is not None else None
            c = _on_this_engine(dataclasses.replace(c, engine=db.dialect.name, search_path=path))
            earlier = [d for d in out if d.plan is not None and d.table == c.table]
            if c.refused and "does not exist" in c.refused and earlier:  # it names what an earlier one makes
                c = dataclasses.replace(c, refused=f"{c.refused}; each statement is converted against the catalog "
                                        "as it is now: convert and run the statements before it first")  # fmt: skip
            names.took(c)
            out.append(c)
    return _put_back(out, db)


def _one_off_fills(statements: Any) -> dict[int, tuple[str, SQL]]:
    """``UPDATE t SET c = v WHERE c IS NULL`` followed in the same migration by ``ALTER TABLE t ALTER c SET NOT
    NULL`` (Django's one-off default for a field made required): the UPDATE's position -> (``"t.c"``, ``v``), the
    value the NOT NULL's fill gives, so the NULLs are filled once, in its batches, after the version that writes
    none is out (converted alone, the UPDATE would fill them while the old version still writes new ones)."""
    from pglast import enums

    out: dict[int, tuple[str, SQL]] = {}
    for i, raw in enumerate(statements):
        stmt = raw.stmt
        if not _is(stmt, "UpdateStmt") or stmt.fromClause or len(stmt.targetList or ()) != 1:
            continue
        target, where = stmt.targetList[0], stmt.whereClause
        column = target.name
        if not (_is(where, "NullTest") and where.nulltesttype == enums.NullTestType.IS_NULL
                and _is(where.arg, "ColumnRef") and [f.sval for f in where.arg.fields] == [column]):  # fmt: skip
            continue
        same = (stmt.relation.schemaname, stmt.relation.relname)
        for later in statements[i + 1 :]:
            alter = later.stmt
            if not _is(alter, "AlterTableStmt") or (alter.relation.schemaname, alter.relation.relname) != same:
                continue
            if any(c.subtype == enums.AlterTableType.AT_SetNotNull and c.name == column for c in alter.cmds):
                out[i] = (f"{stmt.relation.relname}.{column}", SQL(_deparse(target.val)))
                break
    return out


def _put_back(conversions: list[Conversion], db: Database) -> list[Conversion]:
    """A constraint dropped, then added again as it was (Django's AlterField does so around a column change: the
    foreign key dropped, DROP NOT NULL, the same key added back): both are nothing to do, and are said so. Run as
    two steps, the add (migrate phase) would come before the drop (contract) and the key would end dropped."""
    out = list(conversions)
    for i, c in enumerate(out):
        drop = c.plan.steps[0] if c.plan is not None and c.kind == "drop constraint" else None
        if not isinstance(drop, DropConstraint):
            continue
        had = next((k for k in db.table(drop.table).catalog().constraints if k.name == drop.constraint), None)
        for j in range(i + 1, len(out)):
            later = out[j]
            add = next((s for s in later.plan.steps if isinstance(s, AddConstraint)), None) if later.plan else None
            if add is None or add.table != drop.table or add.constraint != drop.constraint:
                continue
            steps = later.plan.steps if later.plan is not None else []
            validated = any(isinstance(s, ValidateConstraint) for s in steps)
            if had is not None and len(steps) <= 2 and validated == had.validated and \
                    _same_definition(had.definition, add.definition):  # fmt: skip
                same = f"{drop.constraint} is dropped, then added back as it was"
                out[i] = dataclasses.replace(c, plan=None, how=None,
                                             noted=f"{same} (by a statement below): nothing to do")  # fmt: skip
                out[j] = dataclasses.replace(later, plan=None, noted=f"{same} (by a statement above): nothing to do")
            break
    return out


def _same_definition(one: str, other: str) -> bool:
    """Two constraint definitions PostgreSQL's parser reads as the same (spacing, quoting, NOT VALID aside)."""
    from pglast import parse_sql

    def tree(definition: str) -> str:
        stmt: Any = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")[0].stmt
        c = stmt.cmds[0].def_
        c.skip_validation, c.initially_valid, c.location = False, True, 0
        return _deparse(c)

    try:
        return tree(one) == tree(other)
    except Exception:
        return False


def _on_this_engine(c: Conversion) -> Conversion:
    """A plan with a step the database cannot carry out (SQLite: no ADD CONSTRAINT, no ALTER COLUMN) is refused,
    saying which: SQLite itself has no form of the statement either."""
    if c.plan is None:
        return c
    step = next((s for s in c.plan.steps if c.engine not in s.engines), None)
    if step is None:
        return c
    return dataclasses.replace(c, plan=None, refused=(
        f"{c.engine} cannot {step.elsewhere} ({step.kind}): neither the statement as written nor a plan runs there; "
        "convert it against PostgreSQL"))  # fmt: skip


def alembic_sql(project: str | Path, revision: str) -> str:
    """The SQL of one Alembic revision, as Alembic's offline mode writes it (``alembic upgrade PARENT:REV --sql``,
    run in ``project``, where ``alembic.ini`` is), without Alembic's own bookkeeping (its version table, the
    transaction around it): the migration a team's Alembic would have run, for ``convert_sql``."""
    from pglast import parse_sql

    def alembic(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "alembic", *args], cwd=project, capture_output=True, text=True,
                              check=False, timeout=300)  # fmt: skip
        if done.returncode != 0:
            raise InvalidArgumentError(f"alembic {' '.join(args)} failed in {project}: "
                                       f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")  # fmt: skip
        return done.stdout

    shown = alembic("show", revision)
    parent = re.search(r"^Parent:\s*(\S+)", shown, re.M)
    start = "base" if parent is None or parent.group(1).startswith("<base>") else parent.group(1)
    sql = alembic("upgrade", f"{start}:{revision}", "--sql")
    kept = []
    for raw in parse_sql(sql):
        stmt, text = raw.stmt, _text(sql, raw)
        if _is(stmt, "TransactionStmt") or _alembics_own(stmt):
            continue
        kept.append(text + ";")
    return "\n".join(kept) + "\n"


def django_sql(manage_py: str | Path, app: str, migration: str) -> str:
    """The SQL of one Django migration, as Django writes it for the database of the project's settings
    (``python manage.py sqlmigrate APP MIGRATION``, run with this Python in the folder of ``manage.py``: run labkit
    from the project's environment): the migration the team's ``migrate`` would have run, for ``convert_sql``.
    Its ``BEGIN`` / ``COMMIT`` and ``SET CONSTRAINTS`` stay: ``convert_sql`` says what became of them."""
    path = Path(manage_py)
    if not path.is_file():
        raise InvalidArgumentError(f"no manage.py at {path}: give the path of the Django project's manage.py")
    done = subprocess.run([sys.executable, path.name, "sqlmigrate", app, migration], cwd=path.parent or ".",
                          capture_output=True, text=True, check=False, timeout=300)  # fmt: skip
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise InvalidArgumentError(f"manage.py sqlmigrate {app} {migration} failed in {path.parent}: "
                                   f"{said[-1] if said else f'exit {done.returncode}'}")  # fmt: skip
    return done.stdout


def _alembics_own(stmt: Any) -> bool:
    """A statement on Alembic's version table (its CREATE, the INSERT / UPDATE / DELETE of the revision), by what it
    acts on: a statement of the migration that only mentions the name (a comment, a string) is the migration's."""
    relation = getattr(stmt, "relation", None)
    return relation is not None and relation.relname == "alembic_version" and type(stmt).__name__ in (
        "CreateStmt", "InsertStmt", "UpdateStmt", "DeleteStmt")


def first_plan(conversions: list[Conversion]) -> tuple[MigrationPlan | None, list[Conversion]]:
    """The plan to run first: the first converted statement's, composed with every one after it on the same table
    that can share it (``labkit.compose``: one expand, one migrate, one contract, app versions that know every
    change), and the converted statements left: convert those again once it has run (one that changes a column an
    earlier one changes too, and a statement on another table). A statement on another table in between is passed
    over when it adds or renames nothing (an index of its own), so the table's statements around it still join."""
    done = [c for c in conversions if c.plan is not None]
    if not done:
        return None, []
    first = done[0].plan
    assert first is not None
    plans, taken = [first], [done[0]]
    base = list(first.apps[0].reads) if first.apps else None
    for c in done[1:]:
        assert c.plan is not None
        if c.plan.table != first.table:
            if any(s.kind in ("add_column", "rename_column_in_place", "drop_column") for s in c.plan.steps):
                break  # what comes after may build on it
            continue
        if base is None:
            break
        try:
            compose([*plans, c.plan], base)
        except LabkitError:
            break
        plans.append(c.plan)
        taken.append(c)
    plan = compose(plans, base) if base is not None else first
    return plan, [c for c in done if all(c is not t for t in taken)]


def plans_by_table(conversions: list[Conversion]) -> list[MigrationPlan]:
    """Every plan, in the migration's order: one per table where its statements' app versions agree (merged phase
    by phase), else one per statement. Each was converted against the catalog as it is now: run a second one only
    if the first leaves what it read (``first_plan`` gives the first and what to convert again after it)."""
    out: list[MigrationPlan] = []
    plan, rest = first_plan(conversions)
    while plan is not None:
        out.append(plan)
        plan, rest = first_plan(rest)
    return out


def _relabel(plan: MigrationPlan, before: MigrationPlan) -> MigrationPlan:
    """``plan`` with the names of its steps made distinct from those of ``before`` (two statements, two add_column)."""
    taken = {s.name for s in before.steps}
    steps = []
    for s in plan.steps:
        name, n = s.name, 2
        while name in taken:
            name, n = f"{s.name}_{n}", n + 1
        taken.add(name)
        steps.append(s if name == s.name else dataclasses.replace(s, label=name))
    return MigrationPlan(plan.name, steps, apps=plan.apps)


def _text(sql: str, raw: Any) -> str:
    """The statement's own text. pglast gives its place in characters of ``sql`` (it maps PostgreSQL's byte
    offsets back to the string's), so it is cut from the string: cut from its UTF-8 bytes, a comment with "é" or
    "注文" before it shifted the cut (``DROP COLUMN price`` for ``DROP COLUMN price_v2``)."""
    start = raw.stmt_location or 0
    length = raw.stmt_len or len(sql) - start
    return sql[start : start + length].strip()


def _deparse(node: Any) -> str:
    from pglast.stream import RawStream

    return str(RawStream()(node))


class _Names:
    """How the migration's names resolve, as PostgreSQL resolves them: a schema-qualified name in its schema, a bare
    one in the first schema of the search path that has it (the session's, or the one a ``SET search_path`` of the
    migration set for the statements after it)."""

    def __init__(self, db: Database) -> None:
        self.db, self.search_path = db, None  # type: tuple[Database, list[str] | None]
        self.added: dict[str, dict[str, ColumnInfo]] = {}  # table -> the columns earlier statements' plans add
        self.created: set[tuple[str | None, str]] = set()  # (schema, table) the migration's CREATE TABLEs make

    def new(self, relation: Any) -> bool:
        """Is ``relation`` a table an earlier statement of this migration creates (and no table there yet)?"""
        key = (relation.schemaname or None, relation.relname)
        return key in self.created and self._handle(key[0], key[1], "table") is None

    def table(self, relation: Any) -> DbTable:
        schema = relation.schemaname or None
        found = self._handle(schema, relation.relname, "table")
        if found is None:
            raise TableNotFoundError(f"{schema}.{relation.relname}" if schema else relation.relname,
                                     [] if schema else self.db.tables())  # fmt: skip
        added = self.added.get(found.qualified)
        return _Planned(found, added) if added else found

    def took(self, c: Conversion) -> None:
        """The columns ``c``'s plan adds (an ``ADD COLUMN``'s, a rename's new name): the statements after it may
        name them."""
        if c.plan is None or c.table is None or c.kind not in ("add column", "rename column"):
            return
        for step in c.plan.steps:
            if isinstance(step, AddColumn) and "_labkit_" not in step.column:
                default = None if step.default is None else step.default.text if isinstance(step.default, SQL) \
                    else self.db.dialect.literal(step.default)  # fmt: skip
                self.added.setdefault(c.table, {})[step.column] = ColumnInfo(
                    step.column, step.sql_type or "text", step.not_null, default)

    def index_table(self, schema: str | None, index: str) -> DbTable | None:
        return self._handle(schema, index, "index")

    def where(self, schema: str | None) -> str:
        if schema:
            return f"schema {schema!r}"
        return "the search path " + (f"({', '.join(self.search_path)})" if self.search_path is not None
                                     else "of the session")  # fmt: skip

    def _handle(self, schema: str | None, name: str, kind: str) -> DbTable | None:
        found = self.db.dialect.resolve(self.db, kind, name, schema, self.search_path)
        if found is None:
            return None
        home, table = found
        current = self.db.dialect.current_schema(self.db)
        return self.db.table(table if home == current else f"{home}.{table}")


class _Planned(DbTable):
    """A table as the statements before this one leave it: the real one, with the columns their plans add (no
    index or constraint on them yet). What only the real rows can say (NULLs to fill, duplicates) is asked of the
    real table, which does not have them: a statement that needs it is refused with the advice to run the earlier
    plan first (``_real``)."""

    def __init__(self, table: DbTable, added: dict[str, ColumnInfo]) -> None:
        super().__init__(table.db, table.name, table.schema)
        self._table, self.added = table, added

    @property
    def column_names(self) -> list[str]:
        return [*self._table.column_names, *self.added]

    @property
    def data_columns(self) -> list[str]:
        return [*self._table.data_columns, *self.added]

    @property
    def real_data_columns(self) -> list[str]:
        return self._table.data_columns

    def has_column(self, column: str) -> bool:
        return column in self.column_names

    def catalog(self) -> TableCatalog:
        real = self._table.catalog()
        return dataclasses.replace(real, columns=(*real.columns, *self.added.values()))


def _real(t: DbTable, column: str) -> None:
    """Refuse what needs ``column``'s rows when an earlier statement's plan adds it (no row has it yet)."""
    if isinstance(t, _Planned) and column in t.added:
        raise ColumnNotFoundError(t.name, column, t.real_data_columns)


def _apps(table: DbTable) -> tuple[AppVersion, ...]:
    data = table.real_data_columns if isinstance(table, _Planned) else table.data_columns
    return (AppVersion("v1", data, data),)


@dataclass(frozen=True)
class _Answers:
    """What the user said of what the SQL leaves open, by column (or ``table.column``)."""

    fill: dict[str, Any]
    dedupe: dict[str, SQL]
    copy_as: dict[str, str]
    back: dict[str, SQL]
    in_catalog: dict[str, bool] = dataclasses.field(default_factory=dict)

    @staticmethod
    def of(answers: dict[str, Any], t: DbTable, column: str) -> Any:
        return answers.get(f"{t.name}.{column}", answers.get(column))


def _convert(stmt: Any, text: str, names: _Names, answers: _Answers) -> list[Conversion]:
    from pglast import enums

    db = names.db
    try:
        if _is(stmt, "TransactionStmt") or _is(stmt, "VariableSetStmt") or _is(stmt, "ConstraintsSetStmt"):
            return [_session(stmt, text, names)]
        relation: Any = getattr(stmt, "relation", None)
        if _is(stmt, "CreateStmt") and not stmt.ofTypename and not stmt.partbound:
            names.created.add((relation.schemaname or None, relation.relname))
            return [Conversion(text, "create table", relation.relname, written=(
                "a new table: no app reads or writes it yet, and nothing waits on it"))]  # fmt: skip
        if relation is not None and _is(stmt, ("AlterTableStmt", "IndexStmt")) and names.new(relation):
            return [Conversion(text, "on a new table", relation.relname, written=(
                "the table this migration creates: empty, and no app uses it yet (a foreign key to a table in use "
                "takes its lock for an instant: nothing to check)"))]  # fmt: skip
        if _is(stmt, "RenameStmt") and stmt.renameType == enums.ObjectType.OBJECT_COLUMN:
            t = names.table(stmt.relation)
            _real(t, stmt.subname)
            plan = build_rename_column_migration(t, stmt.subname, stmt.newname)
            return [Conversion(text, "rename column", t.qualified, plan)]
        if _is(stmt, "AlterTableStmt"):
            t = names.table(stmt.relation)
            return [_alter(cmd, text, t, db, answers) for cmd in stmt.cmds]
        if _is(stmt, "IndexStmt"):
            t = names.table(stmt.relation)
            return [_create_index(stmt, text, t)]
        if _is(stmt, "UpdateStmt"):
            return [_update(stmt, text, names.table(stmt.relation))]
        if _is(stmt, "DropStmt") and stmt.removeType == enums.ObjectType.OBJECT_INDEX:
            return _drop_index(stmt, text, names)
        if _is(stmt, "CommentStmt") and stmt.objtype == enums.ObjectType.OBJECT_COLUMN:
            parts = [n.sval for n in stmt.object]
            relation = type("Relation", (), {"schemaname": parts[-3] if len(parts) > 2 else None,
                                             "relname": parts[-2]})  # fmt: skip
            t = names.table(relation)
            plan = build_comment_migration(t, parts[-1], stmt.comment)
            return [Conversion(text, "comment", t.qualified, plan)]
    except LabkitError as exc:
        return [Conversion(text, "?", refused=str(exc))]
    return [Conversion(text, type(stmt).__name__, refused=f"{type(stmt).__name__} is not a change labkit converts")]


def _session(stmt: Any, text: str, names: _Names) -> Conversion:
    """What a statement about the session (not a table) becomes: each is understood and said what became of it;
    none is skipped in silence."""
    from pglast import enums

    if _is(stmt, "TransactionStmt"):
        kind = enums.TransactionStmtKind(stmt.kind).name.removeprefix("TRANS_STMT_").lower()
        if kind in ("begin", "start", "commit"):
            return Conversion(text, kind, noted=(
                "a plan runs each step in a transaction of its own (a CREATE INDEX CONCURRENTLY outside one), and "
                "keeps the app up between them: the migration's own transaction is not needed"))  # fmt: skip
        return Conversion(text, kind, refused=f"{kind.upper()} inside a migration: labkit converts the statements "
                          "that change tables; run it as you would have")  # fmt: skip
    if _is(stmt, "ConstraintsSetStmt"):
        return Conversion(text, "set constraints", noted=(
            "SET CONSTRAINTS acts within its transaction; each plan step runs in a transaction of its own, whose "
            "constraints are checked as they are declared"))  # fmt: skip
    name = (stmt.name or "").lower()
    if name == "search_path" and stmt.kind == enums.VariableSetKind.VAR_SET_VALUE:
        names.search_path = [str(getattr(a.val, "sval", "")) for a in stmt.args or ()]
        return Conversion(text, "set search_path", noted=(
            f"the statements after it name tables in {', '.join(names.search_path)} (in that order); the plans "
            "name each table with its schema"))  # fmt: skip
    if name == "search_path":
        names.search_path = None
        return Conversion(text, "set search_path", noted="the statements after it name tables in the session's path")
    if name in ("lock_timeout", "statement_timeout"):
        return Conversion(text, f"set {name}", noted=(
            f"labkit sets its own {name} on each step (brief locks, retried with backoff); the "
            "migration's is not carried over"))  # fmt: skip
    return Conversion(text, f"set {name}", refused=f"SET {name} is not a setting labkit carries into a plan: set it on "
                      "the database or role if the app needs it")  # fmt: skip


def _alter(cmd: Any, text: str, t: DbTable, db: Database, answers: _Answers) -> Conversion:
    from pglast import enums

    kind = enums.AlterTableType
    try:
        if cmd.subtype == kind.AT_AddColumn:
            return _add_column(cmd.def_, text, t)
        if cmd.subtype == kind.AT_SetNotNull:
            return _set_not_null(cmd.name, text, t, db, answers.fill)
        if cmd.subtype == kind.AT_DropNotNull:
            if not t.catalog().column(cmd.name).not_null:  # Alembic writes it for every nullable=True
                return Conversion(text, "drop not null", t.qualified, noted=(
                    f"{t.name}.{cmd.name} already takes NULL: nothing to do (PostgreSQL does nothing either)"))
            plan = MigrationPlan(f"let {t.name}.{cmd.name} hold NULL", [DropNotNull(t.qualified, cmd.name)],
                                 apps=_apps(t))  # fmt: skip
            return Conversion(text, "drop not null", t.qualified, plan)
        if cmd.subtype == kind.AT_ColumnDefault:
            default = _deparse(cmd.def_) if cmd.def_ is not None else None
            previous = t.catalog().column(cmd.name).default
            info = t.catalog().column(cmd.name)
            if default is None and isinstance(t, _Planned) and cmd.name in t.added and info.not_null:
                return _drop_default_later(text, t, cmd.name, previous)
            step = SetDefault(t.qualified, cmd.name, default, previous)
            return Conversion(text, "set default", t.qualified, MigrationPlan(step.describe(), [step], apps=_apps(t)))
        if cmd.subtype == kind.AT_AddConstraint and _is(cmd.def_, "Constraint"):
            return _add_constraint(cmd.def_, text, t, db, answers.dedupe)
        if cmd.subtype == kind.AT_DropConstraint:
            return _drop_constraint(cmd, text, t)
        if cmd.subtype == kind.AT_DropColumn:
            _real(t, cmd.name)
            data = t.data_columns
            keep = [c for c in data if c != cmd.name]
            apps = (AppVersion("v1", data, data), AppVersion("v2", keep, keep))
            plan = MigrationPlan(f"drop {t.name}.{cmd.name}", [DropColumn(t.qualified, cmd.name, deploy="v2")],
                                 apps=apps)  # fmt: skip
            return Conversion(text, "drop column", t.qualified, plan)
        if cmd.subtype == kind.AT_AlterColumnType:
            return _change_type(cmd, text, t, answers)
    except LabkitError as exc:
        return Conversion(text, "?", t.qualified, refused=str(exc))
    what = kind(cmd.subtype).name.removeprefix("AT_")
    return Conversion(text, what, t.qualified, refused=f"ALTER TABLE ... {what} is not a change labkit converts yet")


def _change_type(cmd: Any, text: str, t: DbTable, answers: _Answers) -> Conversion:
    """``ALTER COLUMN c TYPE T [USING e]``: a copy of ``c`` converted by ``e`` (else a cast). By default the name
    stays (PostgreSQL, as pgroll does): app v2 uses the copy under ``c``'s name through its view, and ``complete``
    drops ``c`` and renames the copy to it; v2 writes the new type only, so a ``USING`` needs its way back (asked
    for), for a rollback to keep v2's writes. With ``copy_as`` the copy keeps a name of its own, which the app moves
    to (v2 reads it and writes both columns, v3 only it)."""
    _real(t, cmd.name)
    if cmd.name not in t.column_names:
        raise ColumnNotFoundError(t.name, cmd.name, t.column_names)
    col = cmd.def_
    sql_type = _deparse(col.typeName) + (f" {_deparse(col.collClause)}" if col.collClause else "")
    new = _Answers.of(answers.copy_as, t, cmd.name) or cmd.name
    using = _deparse(col.raw_default) if col.raw_default is not None else None
    db = t.db
    in_catalog = using is None and new == cmd.name and not col.collClause and \
        not db.dialect.type_change_rewrites(db, t.qualified, cmd.name, sql_type)  # fmt: skip
    kind = "change type in the catalog" if in_catalog else "change type"
    if in_catalog and _Answers.of(answers.in_catalog, t, cmd.name):
        previous = t.catalog().column(cmd.name).type
        step = ChangeTypeInPlace(t.qualified, cmd.name, sql_type, previous=previous, in_catalog=True)
        return Conversion(text, kind, t.qualified, MigrationPlan(step.describe(), [step], apps=_apps(t)),
                          how="as written: PostgreSQL changes the catalog only (no rewrite), under labkit's "
                          "lock_timeout with retries")  # fmt: skip
    advice = None
    if in_catalog:
        advice = (f"PostgreSQL would change the catalog only here (no rewrite, an instant lock), but after it an app's "
                  f"server-side prepared statements that return {cmd.name} fail once each ('cached plan must not "
                  "change result type': psycopg 3 after five runs, JDBC, asyncpg); the copy fails none. If your app "
                  f"prepares none, or retries that error (Rails does): --in-catalog {cmd.name} runs it as written")
    way_back = _Answers.of(answers.back, t, cmd.name)
    if using is not None:
        _check_using(t, cmd.name, using, sql_type, way_back, new)
    if new == cmd.name and using is not None and way_back is None:
        copied = short_name(f"{cmd.name}_labkit_new")
        return Conversion(text, "change type", t.qualified, asked=(
            f"{t.name}.{cmd.name} keeps its name: app v2 writes the new type only (through its view), and a rollback "
            f"needs the old value back from it. Give the way back of USING {using} as SQL over the row, the new "
            f"value in {copied} (labkit convert --back {cmd.name}=\"...\"; Python: back={{{cmd.name!r}: SQL(...)}}), "
            f"or give the copy a name of its own the app moves to (--copy-as {cmd.name}=NEW_NAME)",))  # fmt: skip
    plan = build_change_type_migration(t, cmd.name, new, sql_type, using=using,
                                       back=way_back.text if way_back is not None else None)  # fmt: skip
    return Conversion(text, kind, t.qualified, plan, advice=advice)


def _attributes() -> dict[Any, tuple[str, bool]]:
    from pglast import enums

    c = enums.ConstrType
    return {c.CONSTR_ATTR_DEFERRABLE: ("deferrable", True), c.CONSTR_ATTR_NOT_DEFERRABLE: ("deferrable", False),
            c.CONSTR_ATTR_DEFERRED: ("initdeferred", True), c.CONSTR_ATTR_IMMEDIATE: ("initdeferred", False)}


def _check_using(t: DbTable, column: str, using: str, sql_type: str, back: SQL | None, new: str) -> None:
    """Refuse, before any change, a ``USING`` whose copy ``complete`` could never verify: one with a subquery
    (PostgreSQL refuses it too), one naming another column (a write to that column would leave the copy stale: the
    dual write fires on ``column``), a volatile one (each evaluation differs), and a way back that does not undo
    it on the table's own values (a rollback would write other values back)."""
    why = None
    others = [c for c in pgparse.columns(using) if c != column]
    if pgparse.has_subquery(using):
        why = "it holds a subquery (PostgreSQL refuses one in a transform expression too)"
    elif others:
        why = (f"it names {', '.join(others)} besides {column}: the copy is kept up to date from writes to {column} "
               "only, so a write to the other would leave it stale")
    elif t.db.dialect.volatile(t.db, using):
        why = "it calls a volatile function: the copy would differ from the statement's result, row by row"
    if why:
        raise InvalidArgumentError(f"USING {using} cannot be copied and verified: {why}. Change the type in "
                                   "steps of your own (a new column the app fills), or make USING a function of "
                                   f"{column} alone")  # fmt: skip
    if back is None or new != column:
        return
    q, copied = t.db.dialect.quote, short_name(f"{column}_labkit_new")
    wrong = t.db.query(f"SELECT count(*), min({q(column)}::text) FROM (SELECT *, CAST(({using}) AS {sql_type}) "
                       f"AS {q(copied)} FROM {t.ref}) AS r WHERE ({back.text}) IS DISTINCT FROM r.{q(column)}")[0]
    if int(wrong[0]):
        raise InvalidArgumentError(f"the way back {back.text} does not undo USING {using} on {int(wrong[0]):,} "
                                   f"row(s) of {t.name} (e.g. {column} = {wrong[1]}): a rollback would write other "
                                   "values back, and complete could not verify the copy. Give a way back that "
                                   "undoes it, or --copy-as a column of its own")  # fmt: skip


def _add_column(col: Any, text: str, t: DbTable) -> Conversion:
    """``ADD COLUMN``: with its type (modifiers, ``COLLATE``), its default (a constant's is stored in the catalog:
    instant; a volatile one's is evaluated for every row: ``build_add_volatile_default_migration``), ``NOT NULL``
    with a default, ``NULL`` (what every added column takes); an inline ``CHECK`` or ``REFERENCES``: the column, then
    the constraint ``NOT VALID``, then ``VALIDATE``."""
    from pglast import ast, enums

    attributes = _attributes()
    sql_type = _deparse(col.typeName)
    default: Any = None
    not_null = False
    inline = [_deparse(col.collClause)] if col.collClause else []  # 'COLLATE "C"
    later: list[Any] = []
    for c in col.constraints or ():
        if c.contype == enums.ConstrType.CONSTR_DEFAULT:
            expr = c.raw_expr
            if _is(expr, "A_Const") and not expr.isnull:
                value = expr.val
                default = getattr(value, "sval", None) if _is(value, "String") else _deparse(expr)
                if not _is(value, "String"):
                    default = SQL(default)
            else:
                default = SQL(_deparse(expr))
        elif c.contype == enums.ConstrType.CONSTR_NOTNULL:
            not_null = True
        elif c.contype == enums.ConstrType.CONSTR_NULL:
            continue  # NULL: the column takes NULL, as every column added without NOT NULL does
        elif c.contype in (enums.ConstrType.CONSTR_CHECK, enums.ConstrType.CONSTR_FOREIGN):
            later.append(c)
        elif c.contype in attributes and later and later[-1].contype == enums.ConstrType.CONSTR_FOREIGN:
            setattr(later[-1], *attributes[c.contype])  # DEFERRABLE ... after a REFERENCES: its own clauses
        else:
            return Conversion(text, "add column", t.qualified, refused=(
                f"ADD COLUMN ... {enums.ConstrType(c.contype).name.removeprefix('CONSTR_')} is not converted yet: "
                "add the column, then the constraint in a statement of its own"))  # fmt: skip
    if not_null and default is None:
        return Conversion(text, "add column", t.qualified, refused=(
            f"a NOT NULL column with no default: every row already there would break it. Add {col.colname!r} with "
            "a DEFAULT, or nullable, fill it, then SET NOT NULL"))  # fmt: skip
    db = t.db
    if isinstance(default, SQL) and db.dialect.volatile(db, default.text):
        plan = build_add_volatile_default_migration(t, col.colname, default, sql_type=sql_type, not_null=not_null,
                                                    constraints=tuple(inline))  # fmt: skip
    elif not_null or inline:
        step = AddColumn(t.qualified, col.colname, default=default, not_null=not_null, sql_type=sql_type,
                         constraints=tuple(inline))  # fmt: skip
        plan = MigrationPlan(f"add {t.name}.{col.colname}", [step], apps=_apps(t))
    else:
        plan = build_add_column_migration(t, col.colname, default=default, sql_type=sql_type)
    for c in later:  # the constraint after the column, NOT VALID then VALIDATE (unless the statement says NOT VALID)
        kind = "check" if c.contype == enums.ConstrType.CONSTR_CHECK else "fkey"
        if kind == "fkey":
            c.fk_attrs = (ast.String(sval=col.colname),)
        name = c.conname or short_name(f"{t.name}_{col.colname}_{kind}")
        keep = not c.skip_validation
        c.conname, c.skip_validation, c.initially_valid = None, False, True
        steps: list[Step] = [AddConstraint(t.qualified, col.colname, name, _deparse(c))]
        steps += [ValidateConstraint(t.qualified, col.colname, name)] if keep else []
        plan = MigrationPlan(plan.name, [*plan.steps, *steps], apps=plan.apps)
    return Conversion(text, "add column", t.qualified, plan)


def _drop_default_later(text: str, t: _Planned, column: str, previous: str | None) -> Conversion:
    """``DROP DEFAULT`` of a NOT NULL column the same migration adds (Django writes the pair for every field with a
    default): the app live now does not name the column, so once the default goes each of its INSERTs fails the NOT
    NULL. The default goes in the contract, once the version that writes the column (the migration's new code) is
    out everywhere."""
    old = _apps(t)[0]
    new = AppVersion("v2", [*old.reads, column], [*old.writes, column])
    step = SetDefaultAtContract(t.qualified, column, None, previous, deploy="v2")
    return Conversion(text, "set default", t.qualified, MigrationPlan(
        f"remove the default of {column} once every app version writes it", [step], apps=[old, new]))


def _set_not_null(column: str, text: str, t: DbTable, db: Database, fill: dict[str, Any]) -> Conversion:
    _real(t, column)
    if column not in t.column_names:
        raise ColumnNotFoundError(t.name, column, t.column_names)
    q = db.dialect.quote
    nulls = int(db.query(f"SELECT count(*) FROM {t.ref} WHERE {q(column)} IS NULL")[0][0])
    value = _Answers.of(fill, t, column)
    if nulls and value is None:
        return Conversion(text, "set not null", t.qualified, asked=(
            f"{t.name}.{column} holds {nulls:,} NULL(s), which the constraint would refuse: give the value they get "
            f"(labkit convert --fill {column}=\"'...'\", an SQL expression over the row; Python: fill={{{column!r}: "
            "SQL(...)}). The plan then deploys an app version that never writes NULL first",))  # fmt: skip
    plan = build_set_not_null_migration(t, column, fill=value if nulls else None)
    return Conversion(text, "set not null", t.qualified, plan)


def _add_constraint(c: Any, text: str, t: DbTable, db: Database, dedupe: dict[str, SQL]) -> Conversion:
    """``CHECK`` and ``FOREIGN KEY``: added ``NOT VALID`` (instant: new writes are checked at once), then
    ``VALIDATE`` (the old rows, while reads and writes go on), unless the statement says ``NOT VALID`` itself: then
    it stays not validated, as the statement leaves it. The definition is the statement's own, as PostgreSQL's
    parser reads it back: every option (ON DELETE / ON UPDATE, MATCH, DEFERRABLE / INITIALLY, NO INHERIT, quoted
    names) reaches the plan."""
    from pglast import enums

    if c.contype == enums.ConstrType.CONSTR_CHECK:
        columns = [f.sval for node in _walk(c.raw_expr) if _is(node, "ColumnRef")
                   for f in node.fields if _is(f, "String")]  # fmt: skip
        if not columns:
            return Conversion(text, "check", t.qualified, refused="a CHECK that names no column")
        kind, name = "check", c.conname or short_name(f"{t.name}_{columns[0]}_check")
    elif c.contype == enums.ConstrType.CONSTR_FOREIGN:
        columns = [a.sval for a in c.fk_attrs or ()]
        kind, name = "foreign key", c.conname or short_name(f"{t.name}_{'_'.join(columns)}_fkey")
    elif c.contype == enums.ConstrType.CONSTR_UNIQUE:
        return _add_unique(c, text, t, db, dedupe)
    elif c.contype == enums.ConstrType.CONSTR_PRIMARY:
        return _add_primary_key(c, text, t)
    else:
        what = enums.ConstrType(c.contype).name.removeprefix("CONSTR_")
        return Conversion(text, what.lower(), t.qualified, refused=f"ADD CONSTRAINT ... {what} is not converted yet")
    for column in columns:
        if column not in t.column_names:
            raise ColumnNotFoundError(t.name, column, t.column_names)
    stays_not_valid = bool(c.skip_validation)
    c.conname, c.skip_validation, c.initially_valid = None, False, True  # the name and NOT VALID: the step's own
    steps: list[Step] = [AddConstraint(t.qualified, columns[0], name, _deparse(c))]
    if not stays_not_valid:
        steps.append(ValidateConstraint(t.qualified, columns[0], name))
    return Conversion(text, kind, t.qualified, MigrationPlan(f"{kind} {name}", steps, apps=_apps(t)))


def _update(stmt: Any, text: str, t: DbTable) -> Conversion:
    """A data migration's ``UPDATE t SET column = value [WHERE ...]``: ``build_update_migration``, in batches, each
    row's old value journaled. One column, no ``FROM`` / ``RETURNING`` / ``WITH``: anything else is refused."""
    targets = list(stmt.targetList or ())
    if stmt.fromClause or getattr(stmt, "returningClause", None) or stmt.withClause:
        return Conversion(text, "update", t.qualified, refused=(
            "an UPDATE with FROM, RETURNING or WITH is not converted yet: write the new value as an expression over "
            "the row (a subquery in it is fine)"))  # fmt: skip
    if len(targets) != 1 or targets[0].indirection or _is(targets[0].val, "SetToDefault"):
        return Conversion(text, "update", t.qualified, refused=(
            "an UPDATE of several columns (or of a part of one, or to DEFAULT) is not converted yet: one statement "
            "per column, each SET column = an expression over the row"))  # fmt: skip
    column = targets[0].name
    _real(t, column)
    where = SQL(_deparse(stmt.whereClause)) if stmt.whereClause is not None else None
    plan = build_update_migration(t, column, SQL(_deparse(targets[0].val)), where=where)
    return Conversion(text, "update", t.qualified, plan)


def _drop_constraint(cmd: Any, text: str, t: DbTable) -> Conversion:
    """``DROP CONSTRAINT [IF EXISTS] c``: instant as PostgreSQL does it (a brief ACCESS EXCLUSIVE; a foreign key's
    referenced table too), so the plan runs it as written, at ``complete`` (the contract phase: until then a
    rollback has nothing to undo), under labkit's lock_timeout with retries."""
    found = next((c for c in t.catalog().constraints if c.name == cmd.name), None)
    if found is None:
        if cmd.missing_ok:
            return Conversion(text, "drop constraint", t.qualified, noted=(
                f"{t.name} has no constraint {cmd.name!r}: IF EXISTS, so nothing to do"))  # fmt: skip
        return Conversion(text, "drop constraint", t.qualified, refused=(
            f"{t.name} has no constraint {cmd.name!r} (the statement as written fails too)"))  # fmt: skip
    if cmd.behavior == 1:  # DROP_CASCADE
        return Conversion(text, "drop constraint", t.qualified, refused=(
            "DROP CONSTRAINT ... CASCADE drops the foreign keys of other tables that need it too: drop those in "
            "statements of their own first"))  # fmt: skip
    needing = [f"{fk.table}.{fk.name}" for fk in t.catalog().incoming if found.kind in ("primary_key", "unique")
               and set(fk.ref_columns) == set(found.columns)]  # fmt: skip
    if needing:
        return Conversion(text, "drop constraint", t.qualified, refused=(
            f"{', '.join(needing)} reference(s) the key {cmd.name!r} backs: PostgreSQL refuses the drop; drop those "
            "foreign keys first"))  # fmt: skip
    step = DropConstraint(t.qualified, _involved(t, list(found.columns)), cmd.name)
    return Conversion(text, "drop constraint", t.qualified, MigrationPlan(step.describe(), [step], apps=_apps(t)),
                      how="as written, at complete: PostgreSQL drops a constraint in the catalog, under a brief "
                      "lock (labkit's lock_timeout, with retries)")  # fmt: skip


def _add_primary_key(c: Any, text: str, t: DbTable) -> Conversion:
    """``ADD PRIMARY KEY (cols)``: as written it builds the unique index under ACCESS EXCLUSIVE (and scans for NULLs
    if a column takes them). Instead: each nullable column made NOT NULL without a scan under lock (a validated
    CHECK), the unique index built CONCURRENTLY, then ``ADD PRIMARY KEY USING INDEX`` (instant)."""
    columns = [k.sval for k in c.keys or ()]
    if c.indexname or not columns or c.including or c.options or c.indexspace or c.deferrable:
        return Conversion(text, "primary key", t.qualified, refused=(
            "a PRIMARY KEY USING INDEX, INCLUDE, WITH, a tablespace or DEFERRABLE is not converted yet: build the "
            "index with CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX"))  # fmt: skip
    if t.key:
        return Conversion(text, "primary key", t.qualified, refused=(
            f"{t.name} has a primary key already ({', '.join(t.key)}): PostgreSQL refuses a second"))  # fmt: skip
    for column in columns:
        if column not in t.column_names:
            raise ColumnNotFoundError(t.name, column, t.column_names)
    q = t.db.dialect.quote
    name = c.conname or short_name(f"{t.name}_pkey")
    steps: list[Step] = []
    catalog = t.catalog()
    for column in columns:
        if not catalog.column(column).not_null:
            steps += [dataclasses.replace(s, label=f"{s.kind}_{column}")
                      for s in build_set_not_null_migration(t, column).steps]  # fmt: skip
    steps.append(CreateIndex(t.qualified, _involved(t, columns), name, f"({', '.join(q(x) for x in columns)})",
                             unique=True))  # fmt: skip
    steps.append(AddConstraint(t.qualified, _involved(t, columns), name, f"PRIMARY KEY USING INDEX {q(name)}",
                               not_valid=False))  # fmt: skip
    return Conversion(text, "primary key", t.qualified, MigrationPlan(f"primary key {name}", steps, apps=_apps(t)))


def _add_unique(c: Any, text: str, t: DbTable, db: Database, dedupe: dict[str, SQL]) -> Conversion:
    """``UNIQUE (cols)``: the unique index built ``CONCURRENTLY`` (writes go on), then the constraint added ``USING
    INDEX`` (instant). Duplicates already there would fail both forms: their new values are asked for."""
    columns = [k.sval for k in c.keys or ()]
    if c.indexname:  # UNIQUE USING INDEX of an index there already: instant as written
        return Conversion(text, "unique", t.qualified, refused="ADD CONSTRAINT ... UNIQUE USING INDEX is instant as "
                          "written (the index is built already): run it as it is")  # fmt: skip
    if c.deferrable or c.nulls_not_distinct or c.including or c.options or c.indexspace or not columns:
        return Conversion(text, "unique", t.qualified, refused="a UNIQUE with DEFERRABLE, NULLS NOT DISTINCT, "
                          "INCLUDE, WITH or a tablespace is not converted yet: build the index yourself with "
                          "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... UNIQUE USING INDEX")  # fmt: skip
    for column in columns:
        _real(t, column)
        if column not in t.column_names:
            raise ColumnNotFoundError(t.name, column, t.column_names)
    q = db.dialect.quote
    listed = ", ".join(q(x) for x in columns)
    extra = int(db.query(f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {t.ref} WHERE "
                         + " AND ".join(f"{q(x)} IS NOT NULL" for x in columns)
                         + f" GROUP BY {listed} HAVING count(*) > 1) AS d")[0][0])  # fmt: skip
    name = c.conname or short_name(f"{t.name}_{'_'.join(columns)}_key")  # PostgreSQL's own name for it
    value = _Answers.of(dedupe, t, columns[0]) if len(columns) == 1 else None
    held = (f"{t.name} holds {extra:,} row(s) whose {', '.join(columns)} an earlier row has too, which the constraint "
            "would refuse (the statement as written fails on them too)")  # fmt: skip
    if extra and len(columns) > 1:
        return Conversion(text, "unique", t.qualified, refused=f"{held}: labkit dedupes one column; fix them first")
    if extra and value is None:
        return Conversion(text, "unique", t.qualified, asked=(
            f"{held}: labkit convert --dedupe {columns[0]}=\"...\", an SQL expression over the row giving each "
            "duplicate a value of its own",))  # fmt: skip
    if extra:
        plan = build_add_index_migration(t, columns[0], unique=True, index=name, dedupe=value)
    else:
        index = CreateIndex(t.qualified, columns[0], name, f"({listed})", unique=True)
        plan = MigrationPlan(f"unique {name}", [index], apps=_apps(t))
    at = next(i for i, s in enumerate(plan.steps) if isinstance(s, CreateIndex)) + 1
    constraint = AddConstraint(t.qualified, columns[0], name, f"UNIQUE USING INDEX {q(name)}", not_valid=False)
    steps = [*plan.steps[:at], constraint, *plan.steps[at:]]
    return Conversion(text, "unique", t.qualified, MigrationPlan(f"unique {name}", steps, apps=plan.apps))


def _index_definition(stmt: Any) -> str:
    """What follows ``ON table`` in the statement (method, columns with their opclass and collation, INCLUDE,
    NULLS NOT DISTINCT, WITH, WHERE), as PostgreSQL's parser reads it back: cut after a stand-in for the table, so
    a table name with spaces or quotes cannot move the cut."""
    from pglast import ast

    stmt.relation = ast.RangeVar(relname="labkit_index_table", inh=True, relpersistence="p")
    full = _deparse(stmt)
    return full.split(" ON labkit_index_table ", 1)[1]


def _involved(t: DbTable, columns: list[str]) -> str:
    """The data column a step on these columns says it involves (``column``): the first of them that is one; an
    index on key columns only (a composite key's) involves none of them, and names the table's first."""
    return next((c for c in columns if c in t.data_columns), t.data_columns[0] if t.data_columns else columns[0])


def _create_index(stmt: Any, text: str, t: DbTable) -> Conversion:

    columns = [p.name for p in stmt.indexParams if _is(p, "IndexElem") and p.name]
    columns += [f.sval for p in stmt.indexParams for node in _walk(p.expr) if _is(node, "ColumnRef")
                for f in node.fields if _is(f, "String")]  # fmt: skip
    if not stmt.idxname or not columns:
        return Conversion(text, "create index", t.qualified, refused="name the index, on a column of the table")
    definition = _index_definition(stmt)
    step = CreateIndex(t.qualified, _involved(t, columns), stmt.idxname, definition, unique=bool(stmt.unique))
    return Conversion(text, "create index", t.qualified, MigrationPlan(f"index {stmt.idxname}", [step],
                                                                        apps=_apps(t)))  # fmt: skip


def _drop_index(stmt: Any, text: str, names: _Names) -> list[Conversion]:
    """``DROP INDEX [IF EXISTS] a, s.b``: one conversion per index, each in the schema it names (else the first
    of the search path that has it); ``CONCURRENTLY`` on PostgreSQL either way."""
    out = []
    for obj in stmt.objects:
        parts = [n.sval for n in (obj if isinstance(obj, (list, tuple)) else [obj]) if _is(n, "String")]
        schema, index = (parts[-2] if len(parts) > 1 else None), parts[-1]
        t = names.index_table(schema, index)
        found = next((i for i in t.catalog().indexes if i.name == index), None) if t is not None else None
        if t is None or found is None:
            missing = f"no index {index!r} in {names.where(schema)}"
            if stmt.missing_ok:
                out.append(Conversion(text, "drop index", noted=f"{missing}: IF EXISTS, so nothing to do"))
            else:
                out.append(Conversion(text, "drop index", refused=f"{missing} (the statement as written fails too)"))
            continue
        if found.constraint:
            out.append(Conversion(text, "drop index", t.qualified, refused=(
                f"index {index!r} backs the constraint {found.constraint!r}: drop the constraint (PostgreSQL refuses "
                "the statement as written)")))  # fmt: skip
            continue
        step = DropIndex(t.qualified, _involved(t, list(found.columns)), index)
        out.append(Conversion(text, "drop index", t.qualified, MigrationPlan(f"drop index {index}", [step],
                                                                             apps=_apps(t))))  # fmt: skip
    return out


def _is(node: Any, name: str | tuple[str, ...]) -> bool:
    """Is ``node`` pglast's ``name`` node (one of them)? (By name: the nodes stay ``Any`` to the type checker, as
    they are to the parser's callers.)"""
    return type(node).__name__ in ((name,) if isinstance(name, str) else name)


def _walk(node: Any) -> list[Any]:
    """Every node under ``node`` (pglast's AST), itself included."""
    from pglast import ast

    out, todo = [], [node]
    while todo:
        n = todo.pop()
        if isinstance(n, (list, tuple)):
            todo += list(n)
        elif isinstance(n, ast.Node):
            out.append(n)
            todo += [getattr(n, a) for a in getattr(n, "__slots__", ()) if getattr(n, a, None) is not None]
    return out


def as_sql(conversions: list[Conversion]) -> str:
    """The statements again, as a file to convert later (``PLAN.rest.sql``): each under the ``SET search_path`` it
    was read under, so its bare names still name the same tables."""
    def quote(schema: str) -> str:
        return '"' + schema.replace('"', '""') + '"'

    lines: list[str] = []
    path: tuple[str, ...] | None = None
    for c in conversions:
        if c.search_path != path:
            lines.append("RESET search_path;" if c.search_path is None else
                         f"SET search_path TO {', '.join(quote(s) for s in c.search_path)};")  # fmt: skip
            path = c.search_path
        lines.append(f"{c.statement};")
    return "\n".join(lines) + "\n"


__all__ = ["Conversion", "alembic_sql", "as_sql", "convert_sql", "first_plan", "plans_by_table"]
