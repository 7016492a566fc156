"""Real migrations, converted without changing their meaning (issue 32, part 6).

``tests/corpus/django/``: the SQL that nine public projects' Django migrations run on PostgreSQL (Django's contrib
apps, django-taggit, django-celery-results, django-celery-beat, django-oauth-toolkit, django-reversion, django-axes,
django-guardian, django-allauth), as ``sqlmigrate`` prints it (``tests/corpus/collect_django.py`` says how it was
made; each file's first line names the project, the migration and the version).

Each project's history is replayed in order on a real PostgreSQL, its tables filled with rows shaped like its
columns (NULLs, duplicates where nothing forbids them, non-ASCII text, keys to real rows). Each migration is then
converted: every statement is converted, understood (said what became of it), asked for or refused, none skipped,
none a traceback. A migration whose every statement converts is run as labkit runs it, under the app's writes
(``AppWorkload``: reads and updates through every phase), and must end with the catalog the migration as written
leaves (read in a transaction rolled back, column order aside), the app having failed and lost nothing. The others
are applied as written, as their user would after the refusal, and the history goes on from there.

``python3 -m tests.test_corpus`` prints the counts the README quotes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
from collections import Counter
from pathlib import Path

import pytest

import labkit as lk
from labkit.catalog import TableCatalog
from labkit.cli import main
from labkit.convert import Conversion, as_sql, convert_sql, plans_by_table
from labkit.course.workload import AppWorkload
from tests.conftest import reset_database

CORPUS = Path(__file__).resolve().parent / "corpus" / "django"
FILES = sorted(CORPUS.glob("*.sql"))
CONTRIB = ("auth", "contenttypes", "sites")
HEADER = re.compile(r"^-- corpus: (\S+) (\S+) \((\S+) (\S+)\)")


def _head(path: Path) -> tuple[str, str, str]:
    m = HEADER.match(path.read_text(encoding="utf-8"))
    assert m, path
    return m.group(1), m.group(2), m.group(3)


PROJECTS = sorted({_head(f)[2] for f in FILES})  # the distributions: each a chain of its own, after contrib's


def _body(path: Path) -> str:
    """The migration's statements, without Django's BEGIN / COMMIT (the test runs it in its own transaction)."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() not in ("BEGIN;", "COMMIT;")]
    return "\n".join(lines)


def _statements(path: Path) -> bool:
    return any(ln.strip() and not ln.startswith("--") for ln in _body(path).splitlines())


def _unordered(catalog: TableCatalog) -> TableCatalog:
    return dataclasses.replace(catalog, columns=tuple(sorted(catalog.columns, key=lambda c: c.name)))


_VALUES = [  # (type prefix, unique expression over g, expression with repeats)
    (("integer", "bigint", "smallint", "numeric", "double", "real"), "g", "g % 5"),
    (("character varying", "text", "character"), "'v' || g || 'é'", "'v' || (g % 5)"),
    (("boolean",), "g % 2 = 0", "g % 2 = 0"),
    (("timestamp", "date"), "timestamptz '2024-01-01' + g * interval '1 hour'",
     "timestamptz '2024-01-01' + (g % 5) * interval '1 day'"),
    (("uuid",), "md5(g::text)::uuid", "md5((g % 5)::text)::uuid"),
    (("json", "jsonb"), "json_build_object('k', g)", "json_build_object('k', g % 5)"),
    (("interval",), "g * interval '1 minute'", "(g % 5) * interval '1 minute'"),
    (("inet",), "('10.0.' || (g / 250) || '.' || (g % 250))::inet", "('10.0.0.' || (g % 5))::inet"),
]  # fmt: skip


def _fill(db: lk.Database, rows: int = 40) -> None:
    """Rows in every table that has none, parents first (a foreign key picks a real row of the table it names):
    values shaped by each column's type, unique where a constraint or index asks, repeated and NULL (one in five)
    where nothing forbids it. A table whose rows the generator cannot make (a CHECK it does not meet, a key to an
    empty table) keeps none: the migrations still run on it."""
    for _ in range(3):  # a table whose parent was filled later in this pass is filled in the next
        for name in db.tables():
            if name.startswith("labkit_") or db.query(f'SELECT EXISTS (SELECT 1 FROM "{name}")')[0][0]:
                continue
            catalog = db.dialect.catalog(db, name)
            unique = {c for con in catalog.constraints if con.kind in ("unique", "primary_key") for c in con.columns}
            unique |= {c for ix in catalog.indexes if ix.unique for c in ix.columns}
            refs = {con.columns[0]: con for con in catalog.constraints if con.kind == "foreign_key"}
            cols, exprs = [], []
            for col in catalog.columns:
                if col.identity or col.sequence or col.generated:
                    continue
                if col.name in refs:
                    ref = refs[col.name]
                    target = f'"{ref.ref_table}"'
                    expr = (f'(SELECT "{ref.ref_columns[0]}" FROM {target} ORDER BY 1 LIMIT 1 OFFSET '
                            f"g % greatest((SELECT count(*) FROM {target}), 1))")  # fmt: skip
                else:
                    kind = next((v for v in _VALUES if col.type.startswith(v[0])), None)
                    if kind is None:
                        if col.not_null and col.default is None:
                            break
                        continue
                    expr = kind[1] if col.name in unique else kind[2]
                    expr = f"CAST({expr} AS {col.type})"
                if not col.not_null and col.name not in unique:
                    expr = f"CASE WHEN g % 5 = 0 THEN NULL ELSE {expr} END"
                cols.append(f'"{col.name}"')
                exprs.append(expr)
            else:
                if not cols:
                    continue
                try:
                    with db.transaction():
                        db.execute(f'INSERT INTO "{name}" ({", ".join(cols)}) SELECT {", ".join(exprs)} '
                                   f"FROM generate_series(1, {rows}) g ON CONFLICT DO NOTHING")  # fmt: skip
                except Exception:
                    continue


def _naive_catalogs(db: lk.Database, sql: str, tables: set[str]) -> dict[str, TableCatalog]:
    """The catalogs of ``tables`` as the migration as written leaves them: run in a transaction, rolled back."""
    out = {}
    db.execute("BEGIN")
    try:
        db.execute(sql)
        for t in tables:
            out[t] = _unordered(db.table(t).catalog())
    finally:
        db.execute("ROLLBACK")
    return out


def _outcome(c: Conversion) -> str:
    if c.plan is not None:
        return "run as written" if c.how else "converted"
    if c.noted:
        return "understood"
    if c.written:
        return "run as written"
    return "asked" if c.asked else "refused"


SHAPES: list[tuple[str, int, int]] = []  # (migration, statements converted on one table, plans they became)


def _replay(db: lk.Database, project: str) -> list[tuple[str, Conversion]]:
    """The project's history (after contrib's), each migration converted and run as the module says."""
    reset_database(db)
    seen: list[tuple[str, Conversion]] = []
    for path in FILES:
        app, name, dist = _head(path)
        if dist not in (project, "Django") or not _statements(path):
            continue
        sql = _body(path)
        if dist == "Django" and project != "Django":  # the contrib schema the project builds on, as written
            _as_written(db, sql)
            continue
        conversions = convert_sql(sql, db)
        seen += [(f"{app} {name}", c) for c in conversions]
        if all(c.plan is not None or c.noted or c.written for c in conversions) and \
                any(c.plan or c.written for c in conversions):  # fmt: skip
            plans = plans_by_table(conversions)
            for t in {p.table for p in plans}:  # (migration, table) -> converted statements, plans
                SHAPES.append((f"{app} {name}", sum(c.plan is not None and c.table == t for c in conversions),
                               sum(p.table == t for p in plans)))  # fmt: skip
            written = [c for c in conversions if c.written]
            expected = _naive_catalogs(db, sql, {p.table for p in plans} | {c.table for c in written if c.table})
            if written:  # new tables first, as written (labkit convert writes them to PLAN.before.sql)
                _as_written(db, as_sql(written))
            for plan in plans:
                _run_under_writes(db.table(plan.table), plan, f"{app} {name}", seed=len(seen))
                _knows_every_column(db.table(plan.table), plan, f"{app} {name}")
                with contextlib.redirect_stdout(io.StringIO()):  # every app instance moved on: its views go
                    assert main(["retire", "--db", db.url, "--table", plan.table]) == 0
            for table, catalog in expected.items():
                assert _unordered(db.table(table).catalog()) == catalog, f"{app} {name}: {table}"
        else:
            _as_written(db, sql)
        _fill(db)
    return seen


def _as_written(db: lk.Database, sql: str) -> None:
    """The migration as written, as its user runs it after labkit's refusal. Where the rows the generator made break
    what it asks (a multi-column UNIQUE over repeats, a SET NOT NULL whose column a RunPython step would have filled:
    the SQL alone has no Python), it fails as written too: the rows go and it runs on the empty tables."""
    try:
        with db.transaction():
            db.execute(sql)
    except Exception:
        tables = ", ".join(f'"{t}"' for t in db.tables() if not t.startswith("labkit_"))
        db.execute(f"TRUNCATE {tables} CASCADE")
        with db.transaction():
            db.execute(sql)


def _knows_every_column(table: lk.DbTable, plan: lk.MigrationPlan, where: str) -> None:
    """The version a plan ends on (the new code) reads and writes every data column the table has after it, and its
    view, which start and complete name to it, shows each one (a plan of one version: the app uses the table)."""
    if len(plan.apps) < 2:
        return
    last, end = plan.apps[-1], set(table.data_columns)
    assert end <= set(last.reads) and end <= set(last.writes), (where, last.describe(), sorted(end))
    view = table.db.dialect.view_name(table.qualified, last.name)
    if view in table.views:
        assert end <= set(table.db.dialect.view_columns(table.db, view)), (where, view)


def _run_under_writes(table: lk.DbTable, plan: lk.MigrationPlan, where: str, seed: int) -> None:
    if not table.row_count:
        result = lk.MigrationRunner(table).execute_plan(plan)
        assert result.status == "completed", (where, result.summary())
        return
    with AppWorkload(table, plan, threads=2, seed=seed, rollout_requests=3, insert_ratio=0.0) as load:
        assert load.wait_for_writes(3), where
        result = lk.MigrationRunner(table, observers=[load]).execute_plan(plan)
        assert load.wait_for_writes(3), where
    assert result.status == "completed", (where, result.summary())
    assert [r.error for r in load.failed] == [], where
    assert load.audit(table) == 0 and load.lost_writes == 0, (where, load.ledger.mismatches)


@pytest.mark.parametrize("project", PROJECTS)
def test_a_projects_migrations_convert_and_end_where_they_would_under_the_apps_writes(pg, project):
    seen = _replay(pg, project)
    assert seen, project
    for where, c in seen:  # each statement: exactly one outcome, and a reason where it is not converted
        assert c.plan is not None or c.noted or c.written or c.asked or c.refused, (where, str(c))
        if c.refused:
            assert "Traceback" not in c.refused and len(c.refused) > 20, (where, c.refused)


def test_the_corpus_is_real_migrations_of_six_projects_or_more():
    counted = Counter(_head(f)[2] for f in FILES if _statements(f))
    statements = sum(len(re.findall(r";\s*$", _body(f), flags=re.M)) for f in FILES if _head(f)[2] != "Django")
    assert len(counted) >= 7 and statements >= 60, (counted, statements)


def counts() -> Counter[str]:
    """Outcome -> statements, over every project's history (``python3 -m tests.test_corpus``)."""
    total: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    with lk.embedded_postgres() as url, lk.connect(url) as db:
        for project in PROJECTS:
            for _, c in _replay(db, project):
                total[_outcome(c)] += 1
                if c.refused or c.asked:
                    reasons[(c.refused or c.asked[0]).split(":")[0][:70]] += 1
    for reason, n in reasons.most_common():
        print(f"  {n:3d}  {reason}")
    several = [(where, n, plans) for where, n, plans in SHAPES if n > 1]
    print(f"  a table changed by several statements of one migration: {len(several)} times; one plan: "
          f"{sum(p == 1 for _, _, p in several)}; more: {[(w, n, p) for w, n, p in several if p > 1]}")
    return total


if __name__ == "__main__":
    print(dict(counts()))
