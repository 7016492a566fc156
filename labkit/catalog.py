"""A real table is its catalog: key, columns as declared, constraints both ways, indexes, triggers, views.

``DbTable.catalog()`` reads it (PostgreSQL from ``pg_catalog``, SQLite from ``sqlite_master`` and the PRAGMAs:
``backends/catalog_postgresql.py`` and ``catalog_sqlite.py``). The preflight and the safety rules read it to
know, before anything changes, what a copied column must keep and what a dropped column would break; the tests
compare it before, during and after a migration. Everything is plain frozen data, comparable and printable.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from . import sqltext
from .errors import ColumnNotFoundError

ConstraintKind = Literal["primary_key", "unique", "check", "foreign_key", "exclusion"]


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its type exactly as declared, nullability, default (SQL text), comment, how it is generated."""

    name: str
    type: str
    not_null: bool = False
    default: str | None = None  # the default's SQL text, as the catalog writes it
    comment: str | None = None
    identity: str | None = None  # PostgreSQL: "always" / "by default" for an identity column
    generated: str | None = None  # the expression of a generated (computed) column
    sequence: str | None = None  # PostgreSQL: the sequence it owns (serial, identity; in the table's schema)
    collation: str | None = None  # when not its type's default: "C" (PostgreSQL), NOCASE (SQLite)
    # PostgreSQL's per-column settings, each only when set: SET STATISTICS, SET STORAGE (when not the type's),
    # SET COMPRESSION, SET (attribute options such as "n_distinct=-1")
    statistics: int | None = None
    storage: str | None = None
    compression: str | None = None
    options: tuple[str, ...] = ()
    # column-level GRANTs: (role, privilege, with grant option), e.g. ("app", "SELECT", False); role "" is PUBLIC
    privileges: tuple[tuple[str, str, bool], ...] = ()


@dataclass(frozen=True)
class ConstraintInfo:
    """A constraint of ``table`` (for an incoming foreign key: of the table that references this one)."""

    name: str
    kind: ConstraintKind
    table: str
    columns: tuple[str, ...]  # the columns of ``table`` it constrains (a CHECK: the columns it names)
    definition: str  # as the engine writes it: "CHECK ((price > 0))", "FOREIGN KEY (a) REFERENCES t(b) ..."
    ref_table: str | None = None  # a foreign key: the table it references
    ref_columns: tuple[str, ...] = ()
    validated: bool = True  # PostgreSQL: False for a constraint added NOT VALID and not validated yet
    owner: str | None = None  # SQLite: the column whose definition holds it (a column constraint)
    comment: str | None = None  # PostgreSQL: COMMENT ON CONSTRAINT


@dataclass(frozen=True)
class IndexInfo:
    """An index; ``columns`` lists its plain columns, ``expression`` / ``partial`` say whether it has more."""

    name: str
    columns: tuple[str, ...]
    unique: bool
    definition: str  # CREATE [UNIQUE] INDEX ... as the engine writes it ("" for SQLite's automatic indexes)
    expression: bool = False  # some of its keys are expressions, not columns
    partial: bool = False  # it has a WHERE clause
    constraint: str | None = None  # the PRIMARY KEY / UNIQUE constraint it backs, if any
    valid: bool = True  # PostgreSQL: False for an index left INVALID by a failed CREATE INDEX CONCURRENTLY
    comment: str | None = None  # PostgreSQL: COMMENT ON INDEX
    clustered: bool = False  # PostgreSQL: the index CLUSTER uses (ALTER TABLE ... CLUSTER ON)


@dataclass(frozen=True)
class TriggerInfo:
    """A user trigger on the table (labkit's own dual-write triggers are not listed)."""

    name: str
    definition: str
    enabled: bool = True
    body: str = ""  # the trigger function's source (PostgreSQL): what it names runs on every write


@dataclass(frozen=True)
class PolicyInfo:
    """A row-level security policy (PostgreSQL), with the table's columns its expressions name."""

    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    permissive: bool
    roles: tuple[str, ...]
    using: str | None
    check: str | None
    columns: tuple[str, ...]


@dataclass(frozen=True)
class StatisticsInfo:
    """An extended statistics object (PostgreSQL's CREATE STATISTICS) on the table's columns or expressions."""

    name: str
    on: str  # what follows ON: "a, b" or "a, (lower(b))"
    kinds: tuple[str, ...]  # ndistinct, dependencies, mcv (the ones asked for; all three when none was)
    columns: tuple[str, ...]  # the table's columns it names
    target: int | None = None  # ALTER STATISTICS ... SET STATISTICS, when set


@dataclass(frozen=True)
class PublicationInfo:
    """A logical-replication publication that lists the table with a column list or a row filter (PostgreSQL)."""

    name: str
    columns: tuple[str, ...]  # the table's columns its column list or row filter names
    row_filter: str | None = None


@dataclass(frozen=True)
class ViewInfo:
    """A view (or materialized view) that reads the table, with the table's columns it uses."""

    name: str
    kind: Literal["view", "materialized view"]
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ColumnProperties:
    """What a column carries beyond its values: what a copy must rebuild and what its drop would break."""

    column: ColumnInfo
    in_key: bool
    constraints: tuple[ConstraintInfo, ...]  # CHECK / UNIQUE / outgoing FOREIGN KEY / EXCLUDE naming it
    indexes: tuple[IndexInfo, ...]  # indexes using it (not those backing a constraint above)
    incoming: tuple[ConstraintInfo, ...]  # other tables' foreign keys that reference it
    views: tuple[ViewInfo, ...]  # views that read it
    triggers: tuple[TriggerInfo, ...]  # user triggers whose definition names it


@dataclass(frozen=True)
class TableCatalog:
    """Everything the catalog says about one table (``key`` empty: no primary key)."""

    schema: str | None
    table: str
    columns: tuple[ColumnInfo, ...]
    key: tuple[str, ...]
    constraints: tuple[ConstraintInfo, ...] = ()
    incoming: tuple[ConstraintInfo, ...] = ()
    indexes: tuple[IndexInfo, ...] = ()
    triggers: tuple[TriggerInfo, ...] = ()
    views: tuple[ViewInfo, ...] = ()
    children: tuple[str, ...] = ()  # tables that inherit from it (PostgreSQL's INHERITS; not partitions)
    policies: tuple[PolicyInfo, ...] = ()  # PostgreSQL's row-level security policies
    row_security: str = ""  # PostgreSQL: "enabled", "forced" (the owner too), or "" (off)
    statistics: tuple[StatisticsInfo, ...] = ()  # PostgreSQL's extended statistics objects
    publications: tuple[PublicationInfo, ...] = ()  # publications naming some of its columns
    replica_identity: str = ""  # PostgreSQL, when not the default: "full", "nothing", or "index <name>"
    partition_key: str = ""  # PostgreSQL, a partitioned table: "RANGE (created_at)" (no CREATE INDEX CONCURRENTLY)
    notes: tuple[str, ...] = field(default=(), compare=False)  # what the reader could not see (privileges ...)

    @property
    def partitioned(self) -> bool:
        return bool(self.partition_key)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnInfo:
        for c in self.columns:
            if c.name == name:
                return c
        raise ColumnNotFoundError(self.table, name, self.column_names)

    def about(self, name: str) -> ColumnProperties:
        """What involves column ``name``: constraints, indexes, incoming foreign keys, views, triggers."""
        col = self.column(name)
        return ColumnProperties(
            column=col,
            in_key=name in self.key,
            constraints=tuple(c for c in self.constraints if c.kind != "primary_key" and name in c.columns),
            indexes=tuple(
                i
                for i in self.indexes
                if i.constraint is None
                and (name in i.columns or ((i.expression or i.partial) and sqltext.mentions(i.definition, name)))
            ),
            incoming=tuple(f for f in self.incoming if name in f.ref_columns),
            views=tuple(v for v in self.views if name in v.columns),
            triggers=tuple(t for t in self.triggers if _names(t, name)),
        )

    def without_names(self) -> TableCatalog:
        """The same catalog with constraint and index names blanked: for comparing shapes whose names differ."""
        return replace(
            self,
            constraints=tuple(replace(c, name="") for c in self.constraints),
            indexes=tuple(replace(i, name="", constraint=None) for i in self.indexes),
            statistics=tuple(replace(s, name="") for s in self.statistics),
        )

    def lines(self) -> list[str]:
        """The catalog as text, one property per line (what the notebooks and the closing notes print)."""
        out = [f"table {self.schema + '.' if self.schema else ''}{self.table}  key ({', '.join(self.key)})"]
        for c in self.columns:
            extra = " NOT NULL" if c.not_null else ""
            extra += f" DEFAULT {c.default}" if c.default is not None else ""
            extra += f" GENERATED {c.identity.upper()} AS IDENTITY" if c.identity else ""
            extra += f" GENERATED AS ({c.generated})" if c.generated else ""
            extra += f" COLLATE {c.collation}" if c.collation else ""
            extra += f" STATISTICS {c.statistics}" if c.statistics is not None else ""
            extra += f" STORAGE {c.storage}" if c.storage else ""
            extra += f" COMPRESSION {c.compression}" if c.compression else ""
            extra += f" ({', '.join(c.options)})" if c.options else ""
            extra += "".join(f" GRANT {p} TO {r or 'PUBLIC'}{'*' if g else ''}" for r, p, g in c.privileges)
            extra += f"  -- {c.comment}" if c.comment else ""
            out.append(f"  column {c.name} {c.type}{extra}")
        out += [f"  constraint {c.name}: {c.definition}{_note(c.comment)}" for c in self.constraints]
        out += [
            f"  index {i.name}: {i.definition or '(automatic) ' + ', '.join(i.columns)}"
            f"{' CLUSTER' if i.clustered else ''}{_note(i.comment)}"
            for i in self.indexes
        ]
        out += [f"  statistics {s.name} ({', '.join(s.kinds)}) ON {s.on}" for s in self.statistics]
        out += [f"  publication {p.name} ({', '.join(p.columns)})" for p in self.publications]
        out += [f"  replica identity {self.replica_identity}"] if self.replica_identity else []
        out += [f"  referenced by {f.table}.{f.name}: {f.definition}" for f in self.incoming]
        out += [f"  trigger {t.name}{'' if t.enabled else ' (disabled)'}" for t in self.triggers]
        out += [f"  {v.kind} {v.name} reads ({', '.join(v.columns)})" for v in self.views]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _note(comment: str | None) -> str:
    return f"  -- {comment}" if comment else ""


def _names(trigger: TriggerInfo, column: str) -> bool:
    """Does the trigger name ``column``: in its definition (``UPDATE OF``, ``WHEN``) or its function's source?"""
    return sqltext.mentions(trigger.definition, column) or sqltext.mentions(trigger.body, column)
