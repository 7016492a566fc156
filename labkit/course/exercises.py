"""Self-checks for the notebooks' exercises: each says clearly whether the learner's answer works, and if not, why.

A check runs the answer the way a reviewer would before signing it off: the safety rules (a warning fails too, each
finding printed with its help), one run on data with edge cases made for the exercise (every row must end right),
traffic with several seeds (a loss that shows on one seed in five is still a loss), and a failure injected at every
step and batch (the table must come back exactly). A plan that cannot run on the in-memory table (approach B's
views, SQL-only computations) runs on a real SQLite file instead. Whatever the answer does, the check gives a
verdict, never a traceback.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..backends.db import Database, DbTable
from ..backends.engine import connect
from ..backends.memory import MemoryBackend
from ..backends.state import RunState
from ..catalog import TableCatalog
from ..convert import convert_sql, plans_by_table
from ..errors import StepDoesNotFitError
from ..faults import fault_matrix
from ..plan import MigrationPlan
from ..runner import MigrationRunner
from ..table import Table, TableLike, TableSnapshot
from ..validate import validate_migration_safety
from .data import email_domain, make_products, make_users, split_name
from .traffic import TrafficReport, simulate_traffic

PlanBuilder = Callable[[Table], MigrationPlan]

# Text marks, not emoji (white heavy check mark, cross mark): without an emoji font those are empty boxes.
PASS_MARK = "✓"
FAIL_MARK = "✗"

SEEDS = range(5)  # traffic seeds every answer must survive

# Rows added to each exercise's table: the data a real users or products table holds and a quick answer forgets.
EDGE_NAMES = ["Cher", "Ada King Lovelace", "", None, "Zoë Ñúñez", "李 小龍"]
EDGE_EMAILS = ["CHER@EXAMPLE.COM", '"ada@home"@mail.org', "no-at-sign", None, "zoë@bücher.de", "li@例子.中国"]
EDGE_PRICES = [0, 1, 5, 99, 2**53 + 1, 10**15]


@dataclass
class CheckResult:
    """The verdict of a self-check, with one line per thing checked."""

    exercise: str
    passed: bool
    lines: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        verdict = f"{PASS_MARK} {self.exercise}: your answer works." if self.passed else None
        head = verdict or f"{FAIL_MARK} {self.exercise}: not yet."
        return "\n".join([head, *(f"   {line}" for line in "\n".join(self.lines).splitlines())])

    def __bool__(self) -> bool:
        return self.passed


class _Verdict(Exception):
    """A reason the answer fails: ends the check with these lines."""

    def __init__(self, *lines: str) -> None:
        super().__init__(lines[0] if lines else "")
        self.lines = list(lines)


def _raised(what: str, exc: BaseException) -> _Verdict:
    return _Verdict(f"{what} raised {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Exercise:
    """What a self-check needs to know about one exercise.

    ``make_table()`` builds the starting table, edge-case rows included; ``expected(row)`` gives, from an
    original row, the values the new columns must hold at the end.
    """

    title: str
    make_table: Callable[[], Table]
    final_columns: Sequence[str]
    expected: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    edge_cases: str = ""
    # a database exercise: what the catalog must say at the end (None when it does), checked on the real engine
    final_catalog: Callable[[TableCatalog], str | None] | None = None
    # old columns the answer may leave in place, unused (drop-column-rewrites-table's advice on SQLite)
    may_keep: Sequence[str] = ()


def check_plan(exercise: Exercise, build: PlanBuilder | None, *, url: str | None = None) -> CheckResult:
    """Run the learner's plan builder through every test a reviewer would; the verdict names the first cause.

    ``url``: a database exercise runs every stage there, each on a fresh copy of the table (PostgreSQL: the
    ``users`` table and labkit's view schemas in that database are replaced)."""
    r = CheckResult(exercise.title, False)
    try:
        for line in _stages(exercise, build, url):
            r.lines.append(line)
        r.passed = True
    except _Verdict as v:
        r.lines += v.lines
    except Exception as exc:  # the learner's code failed somewhere no stage expected: a verdict all the same
        r.lines.append(f"Running your plan raised {type(exc).__name__}: {exc}")
    return r


def _stages(ex: Exercise, build: PlanBuilder | None, url: str | None = None) -> Iterator[str]:
    if build is None or not callable(build):
        raise _Verdict("Write the function first (it takes the table and returns a MigrationPlan).")
    table = ex.make_table()
    misfit = None if url else _memory_misfit(_build(build, table), table)
    with _fresh_tables(ex, on_sqlite=misfit is not None, url=url) as fresh:
        if misfit is not None:
            yield f"runs on a real SQLite file (in memory: {misfit})"
        t = fresh()
        plan = _build(build, t)
        findings = validate_migration_safety(plan, t)
        if findings:
            raise _Verdict(
                f"The safety checks found {len(findings)} problem(s); a reviewer would send each back:",
                *(str(f) for f in findings),
            )
        yield "safety checks: no finding, not even a warning"
        if ex.expected is not None:
            yield _final_values(ex, build, fresh)
            edges = _dual_write_edges(ex, build, fresh)
            if edges:
                yield edges
        if ex.final_catalog is not None:
            yield _final_catalog(ex, build, fresh)
        yield _under_traffic(build, fresh)
        yield _every_fault(build, fresh)


def _build(build: PlanBuilder, table: TableLike) -> MigrationPlan:
    try:
        plan = build(table)  # type: ignore[arg-type]  # a DbTable has the Table interface
    except _Verdict:
        raise  # a check's own verdict on what the learner gave (their SQL, converted)
    except Exception as exc:
        raise _raised("Your function", exc) from exc
    if plan is None:
        raise _Verdict("Your function returned None: write the plan, then run this cell again.")
    if not isinstance(plan, MigrationPlan):
        raise _Verdict(f"The function must return a MigrationPlan, it returned {type(plan).__name__}.")
    return plan


def _memory_misfit(plan: MigrationPlan, table: Table) -> str | None:
    """Why the plan cannot run on the in-memory table (approach B's views, SQL-only steps), or None."""
    backend = MemoryBackend(table)
    backend.run.plan = plan
    for step in plan.steps:
        try:
            backend.check_step(step)
        except StepDoesNotFitError as exc:
            return str(exc)
    return None


@contextmanager
def _fresh_tables(ex: Exercise, *, on_sqlite: bool, url: str | None = None) -> Iterator[Callable[[], TableLike]]:
    """A maker of fresh copies of the exercise's table: in memory, each in its own SQLite file, or in ``url``."""

    if url is not None:
        with connect(url) as db:
            name = ex.make_table().name
            if name in db.tables():  # not one of ours: the check never replaces a table it did not make
                raise _Verdict(
                    f"The database already has a table {name!r}. The self-check works on a table of its own and "
                    f"will not replace yours: drop it, or check against the notebook's own server."
                )

            def replace() -> TableLike:
                _clear(db, name)
                return db.import_table(ex.make_table())

            try:
                yield replace
            finally:
                _clear(db, name)
        return
    if not on_sqlite:
        yield ex.make_table
        return
    opened: list[Database] = []
    with tempfile.TemporaryDirectory(prefix="labkit-check-") as folder:

        def fresh() -> TableLike:
            db = connect(f"sqlite:///{Path(folder) / f'check{len(opened)}.db'}")
            opened.append(db)
            return db.import_table(ex.make_table())

        try:
            yield fresh
        finally:
            for db in opened:
                db.close()


def _clear(db: Any, name: str) -> None:
    """Drop the check's table, labkit's records of runs on it and the view schemas left empty: a fresh start."""

    if name in db.tables():
        db.drop_table(name)
    RunState(db, name).forget()
    for statement in db.dialect.empty_view_homes(db):
        db.execute(statement)


def _final_catalog(ex: Exercise, build: PlanBuilder, fresh: Callable[[], TableLike]) -> str:
    assert ex.final_catalog is not None
    t = fresh()
    result = MigrationRunner(t).execute_plan(_build(build, t))
    if not result.ok:
        why = str(result.error or "")
        dirty = ("the table holds a NULL where the constraint wants none: fill the NULLs first, in batches, "
                 "with the app that never writes NULL deployed (build_set_not_null_migration(..., fill=...))"
                 if "violated by some row" in why else
                 "the table holds duplicates where the unique index wants none: give them values of their own "
                 "first, in batches (build_add_index_migration(..., unique=True, dedupe=SQL(...)))"
                 if "could not create unique index" in why else None)  # fmt: skip
        raise _Verdict(f"On the real database the plan did not complete: {result.summary()}",
                       *([f"The data, not the plan's order: {dirty}."] if dirty else []))  # fmt: skip
    wrong = ex.final_catalog(t.catalog())  # type: ignore[attr-defined]  # a database table: it has a catalog
    if wrong:
        raise _Verdict(f"At the end, on the real database: {wrong}")
    return "the catalog at the end says what the exercise asks"


def _final_values(ex: Exercise, build: PlanBuilder, fresh: Callable[[], TableLike]) -> str:
    assert ex.expected is not None
    t = fresh()
    originals = {row["id"]: row for row in t.rows()}
    result = MigrationRunner(t).execute_plan(_build(build, t))
    if not result.ok:
        raise _Verdict(f"On the exercise's table ({ex.edge_cases}) the plan did not complete: {result.summary()}")
    left = [c for c in t.data_columns if c not in ex.final_columns]
    if set(ex.final_columns) - set(t.data_columns) or set(left) - set(ex.may_keep):  # any order: a rename in place
        kept = f" (or with {', '.join(ex.may_keep)} left in place, unused)" if ex.may_keep else ""  # keeps its spot
        raise _Verdict(f"At the end the columns are {list(t.data_columns)}; expected {list(ex.final_columns)}{kept}.")
    wrong = []
    for rid, row in originals.items():
        now = t.get(rid)
        for column, want in ex.expected(row).items():
            if now.get(column) != want or type(now.get(column)) is not type(want):
                source = {c: v for c, v in row.items() if c != "id"}
                wrong.append(f"row {rid} {source}: {column} is {now.get(column)!r}, expected {want!r}")
    if wrong:
        raise _Verdict(
            f"{len(wrong)} value(s) wrong at the end on the exercise's table ({ex.edge_cases}), e.g.:", *wrong[:3]
        )
    kept = f"; {', '.join(left)} left in place, unused" if left else ""
    return f"every row ends right ({len(originals)} rows, with {ex.edge_cases}){kept}"


EDGES: dict[str, list[Any]] = {"name": EDGE_NAMES, "email": EDGE_EMAILS, "price_cents": EDGE_PRICES}


def _dual_write_edges(ex: Exercise, build: PlanBuilder, fresh: Callable[[], TableLike]) -> str | None:
    """With the plan's dual write on (run up to its contract phase), the oldest app version writes each edge value
    into each column it writes; every new column must then hold what the exercise says. A dual write that crashes
    on NULL, or computes another value than the backfill, is named here with the value and the row, before the
    traffic (which sees only what a random app writes) has to guess at the cause."""
    assert ex.expected is not None
    t = fresh()
    plan = _build(build, t)
    if not any(s.kind == "start_dual_write" for s in plan.steps):
        return None
    originals = list(t.data_columns)
    if MigrationRunner(t, until_phase="contract").execute_plan(plan).status not in ("stopped", "completed"):
        return None  # a run that fails here fails in the other stages too, with their own verdict
    writes = plan.apps[0].writes if plan.apps else tuple(originals)
    columns = [c for c in writes if c in EDGES and c in originals and c in t.data_columns]
    ids, n = list(t.ids), 0
    for column in columns:
        for i, value in enumerate(EDGES[column]):
            rid = ids[i % len(ids)]
            before = t.get(rid)
            try:
                t.update(rid, {column: value})
            except Exception as exc:
                raise _Verdict(
                    f"With the dual write on, the old app version set {column} = {value!r} on row {rid}, and the "
                    f"write failed: {type(exc).__name__}: {exc}",
                    "The dual write must take every value the column can hold (NULL, an empty string, no '@' ...): "
                    "return None where there is nothing to compute.",
                ) from exc
            now = t.get(rid)
            for target, want in ex.expected({**{c: before.get(c) for c in originals}, column: value}).items():
                if target in now and now[target] != want:
                    raise _Verdict(
                        f"With the dual write on, the old app version set {column} = {value!r} on row {rid}; the "
                        f"dual write set {target} to {now[target]!r}, expected {want!r}.",
                        "The backfill fills the rows there were; the dual write fills every row written since, so "
                        "both must compute the same value (give them the same function, or the same SQL).",
                    )
            n += 1
    return f"the dual write computes the edge values right ({n} writes by the old version: {ex.edge_cases})"


def _under_traffic(build: PlanBuilder, fresh: Callable[[], TableLike]) -> str:
    requests = 0
    for seed in SEEDS:
        t = fresh()
        plan = _build(build, t)
        report = simulate_traffic(t, plan, seed=seed)
        if report.result.status != "completed" or report.failed_requests or report.lost_writes or report.stale_reads:
            raise _Verdict(f"Under traffic with seed {seed}: {report.summary()}.", *_traffic_causes(report, plan))
        requests += report.requests
    return f"under traffic with {len(SEEDS)} seeds: {requests} requests, 0 failed, 0 lost writes, 0 stale reads"


def _traffic_causes(report: TrafficReport, plan: MigrationPlan) -> list[str]:
    """What the traffic saw, as it saw it (the request and what refused it, the row and what it read), then the
    cause those point at, not a list of every possible one."""
    causes = []
    if report.result.status != "completed":
        causes.append(f"The migration did not complete: {report.result.summary()}")
    if report.failed_requests:
        by = ", ".join(f"{v}: {n}" for v, n in sorted(report.failed_by_version.items()))
        causes.append(f"Failed requests by app version ({by}); the first:")
        causes += [f"  {f}" for f in report.failures]
        if any(" raised " in f for f in report.failures):
            causes.append(
                "The database refused a write the app sent (the values and the error are above): a dual write, a "
                "trigger or a constraint cannot take a value the app writes, NULL or an edge value among them. "
                "Make the dual write's function return a value (or None) for every value the column can hold."
            )
        if any("does not have now" in f for f in report.failures):
            causes.append(
                "A version named a column that was not there yet, or no longer. Roll each version out after its "
                "columns exist and before a column it uses is dropped."
            )
    if report.lost_writes or report.stale_reads:
        causes.append("What the app read back, the first times it was wrong:")
        causes += [f"  {m}" for m in report.mismatches]
    if report.lost_writes:
        causes.append(
            "A lost write is a value one app version wrote that the version left at the end does not see. The "
            "usual causes: the dual write copies one way while old and new versions overlap, it stops before "
            "the old version is gone, or it computes the value differently from the backfill."
        )
    if report.stale_reads:
        kinds = [s.kind for s in plan.steps]
        early = {"switch_reads", "backfill"} <= set(kinds) and kinds.index("switch_reads") < kinds.index("backfill")
        causes.append(
            "A stale read is a wrong value on a row the app never wrote. "
            + ("Reads switch before the backfill has filled every row: switch after it."
               if early else "Reads switch after the backfill, so the value itself is wrong: the backfill and the "
               "dual write compute it differently (the rows the app wrote hold the dual write's value).")
        )  # fmt: skip
    return causes


def _every_fault(build: PlanBuilder, fresh: Callable[[], TableLike]) -> str:
    t = fresh()
    points = fault_matrix(_build(build, t), t.row_count)
    for point in points:
        t = fresh()
        before, catalog = t.snapshot(), _catalog(t)
        result = MigrationRunner(t, fail_at=point).execute_plan(_build(build, t))
        if result.status != "rolled_back":
            why = (
                " A step that cannot be undone ran before the failure: keep irreversible steps (a drop) in the "
                "contract phase, after everything that can fail."
                if result.status == "rollback_failed"
                else ""
            )
            raise _Verdict(f"With a failure injected at {point!r} the run ended {result.status!r}.{why}")
        if t.snapshot() != before:
            raise _Verdict(f"After a failure at {point!r} the rollback did not give the table back exactly.")
        if _catalog(t) != catalog:
            raise _Verdict(f"After a failure at {point!r} the rollback left the catalog different from the start.")
    return f"survives a failure at each of {len(points)} points (every step; first, middle, last batch)"


def _catalog(table: TableLike) -> Any:
    """What the catalog says about a database table (None in memory, where there is none)."""
    read = getattr(table, "catalog", None)
    return read() if read is not None else None


# ---------------------------------------------------------------- the exercises' tables


def users_for_check(rows: int = 30, *, seed: int = 0) -> Table:
    """``make_users(rows, seed=seed)`` followed by the edge-case rows (``EDGE_NAMES`` / ``EDGE_EMAILS``)."""
    base = make_users(rows, seed=seed)
    return Table.from_columns(
        "users", {"name": [*base.column("name"), *EDGE_NAMES], "email": [*base.column("email"), *EDGE_EMAILS]}
    )


def products_for_check(rows: int = 30, *, seed: int = 0) -> Table:
    """``make_products(rows, seed=seed)`` followed by edge-case prices (``EDGE_PRICES``)."""
    base = make_products(rows, seed=seed)
    titles = [*base.column("title"), *(f"edge #{i}" for i in range(1, len(EDGE_PRICES) + 1))]
    return Table.from_columns("products", {"title": titles, "price_cents": [*base.column("price_cents"), *EDGE_PRICES]})


def make_users_with_legacy(rows: int = 30, *, seed: int = 6) -> Table:
    """``users`` (edge rows included) with an unused ``legacy_flag`` column, for the capstone's third exercise."""
    t = users_for_check(rows, seed=seed)
    t.add_column("legacy_flag", default=False)
    return t


NAMES = "one-word, three-word, empty, NULL and non-Latin names"
EMAILS = "upper-case, quoted-@, @-less, NULL and non-ASCII emails"


def _split(row: dict[str, Any]) -> dict[str, Any]:
    first, last = split_name(row)
    return {"first_name": first, "last_name": last}


def _email_not_null_and_unique(catalog: TableCatalog) -> str | None:
    if not catalog.column("email").not_null:
        return "email still accepts NULL."
    unique = [i for i in catalog.indexes if i.unique and i.columns == ("email",) and not i.partial]
    if not unique:
        return "no unique index on (email)."
    if not all(i.valid for i in unique):
        return f"the unique index {unique[0].name} is INVALID (a failed concurrent build)."
    left = [c.name for c in catalog.constraints if c.kind == "check" and c.columns == ("email",)]
    if left:
        return f"a helper CHECK is left on email: {', '.join(left)} (SET NOT NULL ... then drop it)."
    extra = [c for c in catalog.column_names if c not in ("id", "name", "email")]
    if extra:
        return f"columns are left that the plan added for its own use: {', '.join(extra)} (drop them at the end)."
    return None


EXERCISES: dict[str, Exercise] = {
    "email_domain_by_hand": Exercise(
        "email_domain, by hand",
        lambda: users_for_check(seed=3),
        ["name", "email", "email_domain"],
        lambda row: {"email_domain": email_domain(row)},
        EMAILS,
    ),
    "rename_in_order": Exercise(
        "rename email -> contact_email",
        lambda: users_for_check(seed=4),
        ["name", "contact_email"],
        lambda row: {"contact_email": row["email"]},
        EMAILS,
        may_keep=("email",),
    ),
    "fixed_plan": Exercise(
        "fix the broken plan",
        lambda: users_for_check(seed=5),
        ["email", "full_name"],
        lambda row: {"full_name": row["name"]},
        NAMES,
    ),
    "split_name": Exercise(
        "split name into first_name / last_name",
        lambda: users_for_check(seed=1),
        ["email", "first_name", "last_name"],
        _split,
        NAMES,
    ),
    "price_to_decimal": Exercise(
        "price_cents -> price (Decimal)",
        lambda: products_for_check(seed=2),
        ["title", "price"],
        lambda row: {"price": Decimal(row["price_cents"]) / 100},
        "prices of 0, 1 and 5 cents and beyond 2**53",
    ),
    "survives_any_failure": Exercise(
        "add email_domain and drop legacy_flag, surviving any failure",
        make_users_with_legacy,
        ["name", "email", "email_domain"],
        lambda row: {"email_domain": email_domain(row)},
        EMAILS,
    ),
}


def users_with_dirty_emails(rows: int = 30, *, seed: int = 9) -> Table:
    """``make_users`` as production has it: two NULL emails, two rows repeating another's email, and an email that
    differs from another only in case (which a unique index lets through: it is another value)."""
    base = make_users(rows, seed=seed)
    emails = list(base.column("email"))
    emails[3] = emails[16] = None
    emails[8] = emails[22] = emails[1]
    emails[12] = str(emails[5]).upper()
    return Table.from_columns("users", {"name": list(base.column("name")), "email": emails})


EXERCISES["email_not_null_and_unique"] = Exercise(
    "users.email NOT NULL and UNIQUE on PostgreSQL, writes going on",
    users_with_dirty_emails,
    ["name", "email"],
    edge_cases="two NULL emails and a duplicated one, as production has them",
    final_catalog=_email_not_null_and_unique,
)


def check_email_not_null_and_unique(build: PlanBuilder | None, url: str) -> CheckResult:
    """Notebook 09: make ``users.email`` NOT NULL and UNIQUE on the PostgreSQL at ``url``, with no step that stops
    the app's writes (squawk's rules and labkit's), under traffic, surviving a failure anywhere."""
    return check_plan(EXERCISES["email_not_null_and_unique"], build, url=url)


def _country_and_email_index(catalog: TableCatalog) -> str | None:
    country = next((c for c in catalog.columns if c.name == "country"), None)
    if country is None:
        return "there is no column country."
    if not country.not_null or "unknown" not in str(country.default):
        has = f"{country.type}{' NOT NULL' if country.not_null else ''}" + (
            f" DEFAULT {country.default}" if country.default else " with no default")
        return f"country is {has}; the exercise asks for NOT NULL DEFAULT 'unknown'."
    if not any("lower(email)" in i.definition and i.valid for i in catalog.indexes):
        return "no valid index on lower(email)."
    return None


EXERCISES["your_own_sql"] = Exercise(
    "your own SQL, converted: users.country and an index on lower(email)",
    lambda: make_users(30, seed=11),
    ["name", "email", "country"],
    final_catalog=_country_and_email_index,
)


def check_converted_sql(sql: str | None, url: str) -> CheckResult:
    """Notebook 10: the SQL you would have written for ``users.country text NOT NULL DEFAULT 'unknown'`` and an
    index on ``lower(email)``, converted by ``labkit.convert`` and run as every self-check runs a plan: the rules,
    the catalog at the end, traffic with five seeds, a failure at every step."""

    def build(table: TableLike) -> MigrationPlan:
        if not isinstance(sql, str) or not sql.strip():
            raise _Verdict("Write the SQL first (a string of statements, as in a migration file).")
        assert isinstance(table, DbTable)
        conversions = convert_sql(sql, table.db)
        left = [c for c in conversions if c.plan is None]
        if left:
            raise _Verdict("Not every statement converted:", *(str(c) for c in left))
        plans = plans_by_table(conversions)
        if len(plans) != 1:
            raise _Verdict(f"The SQL became {len(plans)} plans; the exercise is one change of users.")
        return plans[0]

    return check_plan(EXERCISES["your_own_sql"], build, url=url)


def check_rename_on_databases(build: PlanBuilder | None, urls: dict[str, str]) -> CheckResult:
    """Notebook 07: rename ``email`` to ``contact_email`` on each real database in ``urls`` (label -> URL): every
    stage of the self-check on each, the table replaced there each time."""
    ex = EXERCISES["rename_in_order"]
    r = CheckResult(f"{ex.title}, on {' and '.join(urls)}", bool(urls))
    for label, url in urls.items():
        one = check_plan(ex, build, url=url)
        nested = [f"  {part}" for line in one.lines for part in line.splitlines()]
        r.lines += [f"{label}: {'works' if one.passed else 'not yet'}", *nested]
        r.passed = r.passed and one.passed
    return r


def check_email_domain_by_hand(build: PlanBuilder | None) -> CheckResult:
    """Notebook 02: build the add-column plan for ``email_domain`` from steps, by hand."""
    return check_plan(EXERCISES["email_domain_by_hand"], build)


def check_rename_in_order(build: PlanBuilder | None) -> CheckResult:
    """Notebook 03: rename ``email`` to ``contact_email`` (approach A or B) with steps in the right order."""
    return check_plan(EXERCISES["rename_in_order"], build)


def check_fixed_plan(build: PlanBuilder | None) -> CheckResult:
    """Notebook 05: fix the broken rename so that it has no finding at all and still renames."""
    return check_plan(EXERCISES["fixed_plan"], build)


def check_split_name(build: PlanBuilder | None) -> CheckResult:
    """Capstone 1: split ``users.name`` into ``first_name`` and ``last_name``, then drop ``name``."""
    return check_plan(EXERCISES["split_name"], build)


def check_price_to_decimal(build: PlanBuilder | None) -> CheckResult:
    """Capstone 2: replace the integer ``price_cents`` with a ``price`` Decimal in currency units."""
    return check_plan(EXERCISES["price_to_decimal"], build)


def check_survives_any_failure(build: PlanBuilder | None) -> CheckResult:
    """Capstone 3: add ``email_domain`` and drop ``legacy_flag`` so that any failure rolls back exactly."""
    return check_plan(EXERCISES["survives_any_failure"], build)


def check_table_restored(table: Table, before: TableSnapshot) -> CheckResult:
    """Notebook 04: after a failed rollback, is the table exactly as it was?"""
    r = CheckResult("clean up after rollback_failed", table.snapshot() == before)
    if before.origin and getattr(table, "serial", None) != before.origin:
        r.passed = False
        r.lines.append("this is a new table, not the one the failed rollback left behind: in production there is no "
                       "fresh copy to make. Repair that one: undo by hand what left_behind names.")  # fmt: skip
        return r
    if r.passed:
        r.lines.append("schema, column order, row ids and values all equal the starting snapshot")
    else:
        now = table.column_names
        was = list(before.column_names)
        if now != was:
            r.lines.append(f"columns are {now}; they were {was}")
        else:
            r.lines.append("the columns match, but some values or row ids differ")
    return r
