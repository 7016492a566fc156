"""What copying a real column takes: every property of the old column, rebuilt on the new one, as steps.

A rename by copy (approach A) ends by dropping the old column, and with it everything the catalog attached to
it. ``column_copy`` reads the old column's properties from the catalog and returns the steps that give the new
column the same ones, each where it is safe (pgroll's order):

- before the dual write: the type and comment (``AddColumn``, ``SetColumnComment``); on SQLite a column-level
  CHECK goes into ``ADD COLUMN`` itself;
- once the dual write fills the column on every write (not before: a write in between would leave it NULL),
  before the backfill: CHECK and FOREIGN KEY constraints and NOT NULL (as ``CHECK (new IS NOT NULL)``) added
  ``NOT VALID`` -- new writes obey them at once, no scan under lock (PostgreSQL);
- after the backfill: each constraint validated (writes go on), NOT NULL set using the validated check, every
  index and UNIQUE constraint rebuilt (``CREATE INDEX CONCURRENTLY``), all before readers switch;
- once the app that writes both columns is live: the old column's NOT NULL dropped so the next app, which no
  longer writes it, can insert;
- once the dual write has stopped (the contract phase, after the deploy): the default. Earlier, an old app's
  insert would get it, and the dual write would take it for a value the app wrote; until then the versions
  that know the new column get the default from their view;
- with the drop: the copies take back the original names (PostgreSQL; SQLite cannot rename an index).

What cannot be kept (or would make the final drop fail) is listed in ``cannot``, with why and what to do
instead; the safety rule ``copy-loses-column-property`` turns each into an error before anything runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import sqltext
from ._common import short_name
from .catalog import TableCatalog
from .steps import (
    AddColumn,
    AddConstraint,
    CommentOn,
    CreateIndex,
    CreateStatistics,
    DropNotNull,
    GrantColumn,
    SetColumnComment,
    SetColumnSettings,
    SetDefaultAtContract,
    SetNotNull,
    Step,
    ValidateConstraint,
)

APPROACH_B = "rename through views instead (approach B: build_rename_column_migration(..., approach='view'))"
_DEFERRABLE = re.compile(r"\s((?:NOT\s+)?DEFERRABLE(?:\s+INITIALLY\s+(?:DEFERRED|IMMEDIATE))?)\s*$", re.I)
_INDEX_TAIL = re.compile(
    r'\bON\s+(?:ONLY\s+)?(?:"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|[^\s(]+)\s*(.*)$', re.I | re.S
)


def copy_name(name: str, old: str, new: str) -> str:
    """The name of an index's or a constraint's copy: ``old`` replaced by ``new`` in it, or ``_new`` added;
    at most 63 bytes (shortened with a hash, so two long names stay apart)."""
    return short_name(name.replace(old, new) if old in name else f"{name}_{new}")


@dataclass
class ColumnCopy:
    """The steps that give ``new`` every property of ``old``, by where they go in the plan."""

    add: AddColumn
    with_add: list[Step] = field(default_factory=list)  # right after ADD COLUMN, before the dual write
    with_dual_write: list[Step] = field(default_factory=list)  # constraints: once the dual write fills the column
    after_backfill: list[Step] = field(default_factory=list)  # validate, NOT NULL, indexes: before readers switch
    after_switch: list[Step] = field(default_factory=list)  # once every writer writes the new column
    after_stop: list[Step] = field(default_factory=list)  # the default: once the dual write has stopped
    renames: list[tuple[str, str, str]] = field(default_factory=list)  # with the drop: copies take the old names
    cannot: list[str] = field(default_factory=list)  # what cannot be kept, or blocks the drop: why, what instead

    @property
    def steps(self) -> list[Step]:
        return [self.add, *self.with_add, *self.with_dual_write, *self.after_backfill, *self.after_switch,
                *self.after_stop]  # fmt: skip


def column_copy(catalog: TableCatalog, old: str, new: str, engine: str, owner: str | None = None) -> ColumnCopy:
    """The steps copying ``old`` into a new column ``new`` on ``engine``, read from ``catalog``; ``owner``: the
    table as plans name it (``schema.table`` outside the current schema; default: its bare name)."""
    props = catalog.about(old)
    col = props.column
    table = owner or catalog.table
    helper = short_name(f"{catalog.table}_{new}_not_null")
    not_null = col.not_null
    if new in catalog.column_names:  # a cut-off run of this copy: it may have relaxed old's NOT NULL already
        not_null = not_null or catalog.column(new).not_null or any(c.name == helper for c in catalog.constraints)
    pg = engine == "postgresql"
    mark = '"' if pg else "`"

    def quote(name: str) -> str:
        return mark + name.replace(mark, mark * 2) + mark

    out = ColumnCopy(AddColumn(table, new, sql_type=col.type))
    cannot = out.cannot

    cannot.extend(drop_blockers(catalog, old, engine, ending="the copy's last step, dropping it,"))
    if col.generated is not None or col.identity is not None:
        what = "a generated column" if col.generated is not None else "an identity column"
        cannot.append(f"{old!r} is {what}: a trigger cannot copy it; {APPROACH_B}")
    if not pg:
        if not_null:
            cannot.append(f"{old!r} is NOT NULL: SQLite cannot add a NOT NULL column without a default, nor set "
                          f"NOT NULL later, without rebuilding the table; {APPROACH_B}")  # fmt: skip
        if col.default is not None:
            cannot.append(f"{old!r} has DEFAULT {col.default}: on SQLite the copy could only get it in ADD COLUMN, "
                          f"where it would hide the old app's inserts from the dual write; {APPROACH_B}")  # fmt: skip

    if pg and col.comment is not None:
        out.with_add.append(SetColumnComment(table, new, col.comment, None, label=f"copy_comment_{new}"))
    if pg and (col.statistics is not None or col.storage or col.compression or col.options):
        out.with_add.append(SetColumnSettings(table, new, col.statistics, col.storage, col.compression, col.options,
                                              label=f"copy_settings_{new}"))  # fmt: skip
    if pg and col.privileges:  # before any app reads the copy: the views run with the reader's rights
        out.with_add.append(GrantColumn(table, new, col.privileges, label=f"copy_grants_{new}"))
    replica = [i.name for i in catalog.indexes if f"index {i.name}" == catalog.replica_identity and old in i.columns]
    if pg and replica:
        cannot.append(f"the table's REPLICA IDENTITY is the index {replica[0]} on {old!r}: PostgreSQL refuses to drop "
                      f"{old!r}'s NOT NULL while it is, which the copy must do; set REPLICA IDENTITY to another "
                      f"index (or FULL) first, or {APPROACH_B}")  # fmt: skip
    if pg and not_null:
        out.with_dual_write.append(
            AddConstraint(table, new, helper, f"CHECK ({quote(new)} IS NOT NULL)", label=f"add_not_null_{new}")
        )
        out.after_backfill.append(ValidateConstraint(table, new, helper, label=f"validate_not_null_{new}"))
        out.after_backfill.append(SetNotNull(table, new, helper, label=f"set_not_null_{new}"))
        out.after_switch.append(DropNotNull(table, old, label=f"drop_not_null_{old}"))
    if pg and col.default is not None:
        out.after_stop.append(SetDefaultAtContract(table, new, col.default, None, label=f"copy_default_{new}"))
    if pg and col.sequence is not None and col.identity is None:  # a serial: its sequence goes to the copy
        out.renames.append(("sequence", col.sequence, new))

    inline: list[str] = []
    for c in props.constraints:
        definition = sqltext.rename(c.definition, old, new)
        name = copy_name(c.name, old, new) if c.name else ""
        if c.kind == "exclusion":
            cannot.append(f"EXCLUDE constraint {c.name} uses {old!r}: labkit does not rebuild exclusion "
                          f"constraints; {APPROACH_B}")  # fmt: skip
        elif c.kind in ("check", "foreign_key") and pg:
            definition = re.sub(r"\s+NOT VALID\s*$", "", definition)  # one the user never validated stays so
            out.with_dual_write.append(AddConstraint(table, new, name, definition, label=f"add_{name}"))
            _comment(out.with_dual_write, table, new, "constraint", name, c.comment)
            if c.validated:
                out.after_backfill.append(ValidateConstraint(table, new, name, label=f"validate_{name}"))
            out.renames.append(("constraint", name, c.name))
        elif c.kind == "check" and c.owner == old and c.columns == (old,):
            named = f"CONSTRAINT {quote(c.name)} " if c.name else ""
            inline.append(named + definition)  # SQLite: a CHECK on the column alone travels with ADD COLUMN
        elif c.kind == "unique" and pg:
            backing = next((i for i in catalog.indexes if i.constraint == c.name), None)
            if backing is None:
                cannot.append(f"UNIQUE constraint {c.name} has no index labkit can read; {APPROACH_B}")
                continue
            index = copy_name(backing.name, old, new)
            _add_index(out, table, new, index, sqltext.rename(backing.definition, old, new), True, cannot)
            _comment(out.after_backfill, table, new, "index", index, backing.comment)  # before it takes c's name
            deferrable = _DEFERRABLE.search(c.definition)  # DEFERRABLE INITIALLY DEFERRED stays so
            using = f"UNIQUE USING INDEX {quote(index)}" + (f" {deferrable.group(1)}" if deferrable else "")
            out.after_backfill.append(AddConstraint(table, new, name, using, not_valid=False, label=f"add_{name}"))
            _comment(out.after_backfill, table, new, "constraint", name, c.comment)
            out.renames.append(("constraint", name, c.name))
            if backing.clustered:
                out.renames.append(("cluster", name, c.name))  # the index takes the constraint's name
        # else (SQLite): a UNIQUE, a FOREIGN KEY or a table CHECK naming it -- drop_blockers said so above
    if col.collation is not None:  # a column constraint in both grammars; the copy's indexes compare with it too
        inline.insert(0, f"COLLATE {col.collation}")
    if inline:
        out.add = AddColumn(table, new, sql_type=col.type, constraints=tuple(inline))
    for ix in props.indexes:
        index = copy_name(ix.name, old, new)
        _add_index(out, table, new, index, sqltext.rename(ix.definition, old, new), ix.unique, cannot)
        if pg:
            _comment(out.after_backfill, table, new, "index", index, ix.comment)
            out.renames.append(("index", index, ix.name))
            if ix.clustered:
                out.renames.append(("cluster", index, ix.name))
    for st in catalog.statistics if pg else ():
        if old in st.columns:
            name = copy_name(st.name, old, new)
            on = sqltext.rename(st.on, old, new)
            out.after_backfill.append(CreateStatistics(table, new, name, on, st.kinds, st.target,
                                                       label=f"statistics_{name}"))  # fmt: skip
            out.renames.append(("statistics", name, st.name))
    out.renames.sort(key=lambda r: r[0] == "cluster")  # CLUSTER ON once the copy of the index has its name
    return out


def _comment(steps: list[Step], table: str, column: str, on: str, name: str, comment: str | None) -> None:
    if comment is not None:
        steps.append(CommentOn(table, column, on, name, comment, label=f"comment_{on}_{name}"))


def drop_blockers(catalog: TableCatalog, column: str, engine: str, *, ending: str = "dropping it") -> list[str]:
    """Why dropping ``column`` would fail, or silently take more with it: each reason, with what to do instead."""
    props = catalog.about(column)
    out = []
    if props.in_key:
        out.append(f"{column!r} is part of the primary key ({', '.join(catalog.key)}): {ending} would fail or drop "
                   f"the key; {APPROACH_B}")  # fmt: skip
    for fk in props.incoming:
        out.append(f"{fk.table}.{fk.name or 'a foreign key'} references {column!r} ({fk.definition}): {ending} "
                   f"would fail or cascade; migrate that table first, or {APPROACH_B}")  # fmt: skip
    for view in props.views:
        out.append(f"the {view.kind} {view.name} reads {column!r}: {ending} would fail or drop the view; "
                   f"{APPROACH_B}")  # fmt: skip
    for other in catalog.columns:
        if other.name != column and other.generated is not None and sqltext.mentions(other.generated, column):
            out.append(f"the generated column {other.name} is computed from {column!r}: {ending} would fail or "
                       f"drop it too; {APPROACH_B}")  # fmt: skip
    if catalog.partition_key and sqltext.mentions(catalog.partition_key, column):
        out.append(f"{column!r} is in the partition key ({catalog.partition_key}): PostgreSQL cannot drop it, so "
                   f"{ending} would fail; {APPROACH_B}")  # fmt: skip
    for pub in catalog.publications:
        if column in pub.columns:
            filtered = pub.row_filter is not None and sqltext.mentions(pub.row_filter, column)
            how = f"row filter {pub.row_filter}" if filtered else "column list"
            out.append(f"the publication {pub.name} names {column!r} in its {how}: {ending} would fail; remove it "
                       f"from the publication (ALTER PUBLICATION ... SET TABLE) first, or {APPROACH_B}")  # fmt: skip
    for policy in catalog.policies:
        if column in policy.columns:
            out.append(f"the row-level security policy {policy.name} names {column!r}: {ending} would fail (or, "
                       f"with CASCADE, drop the policy and open the rows it guards); recreate the policy on the "
                       f"new column first, or {APPROACH_B}")  # fmt: skip
    if engine == "postgresql":  # a trigger that names it: its function would fail on every write once it is gone
        for trigger in props.triggers:
            where = "its function" if sqltext.mentions(trigger.body, column) else "its definition"
            out.append(f"trigger {trigger.name} names {column!r} in {where}: once {column!r} is gone every write "
                       f"that fires it fails; change the trigger to the new column first, or {APPROACH_B}")  # fmt: skip
    if engine == "sqlite":  # SQLite refuses DROP COLUMN for any other part of the schema that names the column
        for trigger in props.triggers:
            out.append(f"trigger {trigger.name} names {column!r}: SQLite refuses to drop a column a trigger names; "
                       f"{APPROACH_B}")  # fmt: skip
        for c in props.constraints:
            if c.kind == "check" and c.owner == column and c.columns == (column,):
                continue  # a CHECK on the column alone goes with it
            what = {"check": "a CHECK naming other columns too", "foreign_key": "a FOREIGN KEY",
                    "unique": "a UNIQUE constraint"}.get(c.kind, c.kind)  # fmt: skip
            out.append(f"{column!r} has {what} ({c.definition}): SQLite refuses to drop a column it names, and "
                       f"cannot move it to another column without rebuilding the table; {APPROACH_B}")  # fmt: skip
    return out


def _add_index(
    out: ColumnCopy, table: str, new: str, index: str, definition: str, unique: bool, cannot: list[str]
) -> None:
    m = _INDEX_TAIL.search(definition)
    if m is None or not m.group(1).strip():
        cannot.append(f"cannot read the index definition {definition!r}; {APPROACH_B}")
        return
    out.after_backfill.append(CreateIndex(table, new, index, m.group(1).strip(), unique=unique, label=f"index_{index}"))
