"""Read a SQLite table's catalog from ``sqlite_master`` and the PRAGMAs.

SQLite keeps CHECK constraints only in the text of ``CREATE TABLE``: they are read from it with the token scan of
``labkit.sqltext`` (names inside strings and comments are never taken for columns). SQLite has no comments.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .. import sqltext
from .._common import TRIGGER_PREFIX
from ..catalog import ColumnInfo, ConstraintInfo, IndexInfo, TableCatalog, TriggerInfo, ViewInfo
from ..errors import TableNotFoundError

if TYPE_CHECKING:
    from .dialect import Session

_CONSTRAINT_NAME = re.compile(r'^\s*CONSTRAINT\s+("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|\w+)\s*', re.I)
_TABLE_CONSTRAINTS = ("PRIMARY", "UNIQUE", "CHECK", "FOREIGN")
_GENERATED = re.compile(r"\b(GENERATED\s+ALWAYS\s+)?AS\s*\(", re.I)


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _unquote(name: str) -> str:
    kind = {'"': "dquoted", "`": "bquoted", "[": "bracketed"}.get(name[:1], "word")
    return sqltext.identifier(kind, name) or name


def _checks(table: str, create_sql: str, columns: list[str]) -> list[ConstraintInfo]:
    """Every CHECK of ``CREATE TABLE``, at column or table level, with the columns its expression names."""
    body = sqltext.parenthesized(create_sql)
    if body is None:
        return []
    found = []
    for item in sqltext.top_level_split(create_sql[body[0] : body[1]]):
        for m in re.finditer(r"\bCHECK\s*\(", item, re.I):
            span = sqltext.parenthesized(item, m.start())
            if span is None:
                continue
            expr = item[span[0] : span[1]]
            before = item[: m.start()]
            named = re.search(r'CONSTRAINT\s+("(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|\w+)\s*$', before, re.I)
            table_level = bool(_CONSTRAINT_NAME.match(item)) or item.upper().startswith("CHECK")
            owner = None if table_level else _unquote(item.split()[0])
            used = sqltext.names(expr)
            cols = tuple(c for c in columns if c.lower() in {u.lower() for u in used})
            if not cols and owner:
                cols = (owner,)  # a column-level CHECK on a constant still belongs to its column
            found.append(
                ConstraintInfo(
                    name=_unquote(named.group(1)) if named else "",
                    kind="check",
                    table=table,
                    columns=cols,
                    definition=f"CHECK ({expr})",
                    owner=owner,
                )
            )
    return found


def read(db: Session, table: str, schema: str | None = None) -> TableCatalog:
    master = db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table])
    if not master:
        raise TableNotFoundError(table)
    create_sql = master[0][0] or ""
    info = db.query(f"PRAGMA table_xinfo({_q(table)})")  # cid, name, type, notnull, default, pk, hidden
    generated = _generated_columns(create_sql, [r[1] for r in info if r[6] in (2, 3)])
    collations = _collations(create_sql)
    columns = tuple(
        ColumnInfo(
            name=r[1],
            type=r[2],
            not_null=bool(r[3]),
            default=r[4],
            generated=generated.get(r[1]),
            collation=collations.get(r[1].lower()),
        )
        for r in info
        if r[6] != 1  # hidden columns of virtual tables
    )
    key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
    names = [c.name for c in columns]
    constraints: list[ConstraintInfo] = []
    if key:
        constraints.append(ConstraintInfo("", "primary_key", table, key, f"PRIMARY KEY ({', '.join(key)})"))
    indexes = []
    for _, name, unique, origin, partial in db.query(f"PRAGMA index_list({_q(table)})"):
        parts = db.query(f"PRAGMA index_xinfo({_q(name)})")  # seqno, cid, name, desc, coll, key
        cols = tuple(p[2] for p in parts if p[5] and p[1] >= 0)
        expression = any(p[5] and p[1] == -2 for p in parts)
        sql = db.query("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [name])
        definition = (sql[0][0] or "") if sql else ""
        backs = None
        if origin == "u":
            backs = f"unique ({', '.join(cols)})"
            constraints.append(ConstraintInfo("", "unique", table, cols, f"UNIQUE ({', '.join(cols)})"))
        elif origin == "pk":
            backs = "primary key"
        indexes.append(IndexInfo(name, cols, bool(unique), definition, expression, bool(partial), backs))
    constraints += _checks(table, create_sql, names)
    fks: dict[int, list[tuple[str, str | None, str, str, str]]] = {}
    for fid, _, ref, frm, to, on_update, on_delete, _ in db.query(f"PRAGMA foreign_key_list({_q(table)})"):
        fks.setdefault(fid, []).append((ref, to, frm, on_update, on_delete))
    constraints += [_foreign_key(table, parts) for _, parts in sorted(fks.items())]
    return TableCatalog(
        schema=None,
        table=table,
        columns=columns,
        key=key,
        constraints=tuple(sorted(constraints, key=lambda c: (c.kind, c.columns, c.definition))),
        incoming=_incoming(db, table),
        indexes=tuple(sorted(indexes, key=lambda i: i.name)),
        triggers=tuple(
            TriggerInfo(r[0], r[1] or "")
            for r in db.query(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name NOT LIKE ? "
                "ORDER BY name",
                [table, TRIGGER_PREFIX + "%"],
            )
        ),
        views=_views(db, table, names),
    )


def _foreign_key(table: str, parts: list[tuple[str, str | None, str, str, str]]) -> ConstraintInfo:
    ref = parts[0][0]
    cols = tuple(p[2] for p in parts)
    refs = tuple(p[1] for p in parts if p[1] is not None)
    actions = "".join(
        f" ON {what} {action}"
        for what, action in (("UPDATE", parts[0][3]), ("DELETE", parts[0][4]))
        if action != "NO ACTION"
    )
    target = f"{ref}({', '.join(refs)})" if refs else ref
    return ConstraintInfo(
        "", "foreign_key", table, cols, f"FOREIGN KEY ({', '.join(cols)}) REFERENCES {target}{actions}", ref, refs
    )


def _incoming(db: Session, table: str) -> tuple[ConstraintInfo, ...]:
    """Foreign keys of other tables that reference this one (SQLite has no reverse index of them: ask each)."""
    found = []
    for (other,) in db.query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> ? ORDER BY name", [table]
    ):
        fks: dict[int, list[tuple[str, str | None, str, str, str]]] = {}
        for fid, _, ref, frm, to, on_update, on_delete, _ in db.query(f"PRAGMA foreign_key_list({_q(other)})"):
            if ref.lower() == table.lower():
                fks.setdefault(fid, []).append((ref, to, frm, on_update, on_delete))
        for parts in fks.values():
            fk = _foreign_key(other, parts)
            if not fk.ref_columns:  # REFERENCES t with no columns: t's primary key
                key = [r[1] for r in sorted(db.query(f"PRAGMA table_info({_q(table)})"), key=lambda r: r[5]) if r[5]]
                fk = ConstraintInfo(fk.name, fk.kind, fk.table, fk.columns, fk.definition, table, tuple(key))
            found.append(fk)
    return tuple(found)


def _views(db: Session, table: str, columns: list[str]) -> tuple[ViewInfo, ...]:
    """Views whose SQL names the table, with the table's columns they name (``SELECT *`` counts as all).
    A token scan, not a parser: a view naming a same-named column of another table is counted too (safe side)."""
    labkit = f"{table}__"
    out = []
    for name, sql in db.query("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name"):
        if name.startswith(labkit) or not sql:
            continue
        used = sqltext.names(sql)
        if table.lower() not in used:
            continue
        star = any(kind == "other" and text == "*" for kind, text in sqltext.tokens(sql))
        cols = tuple(c for c in columns if star or c.lower() in used)
        out.append(ViewInfo(name, "view", cols))
    return tuple(out)


def _collations(create_sql: str) -> dict[str, str]:
    """Each column's COLLATE (NOCASE, RTRIM, ...) from its definition in ``CREATE TABLE``, by lower-case name;
    BINARY, the default, is left out. An index on the column compares with it too."""
    body = sqltext.parenthesized(create_sql)
    out: dict[str, str] = {}
    if body is None:
        return out
    for item in sqltext.top_level_split(create_sql[body[0] : body[1]]):
        words = [(k, t) for k, t in sqltext.tokens(item) if k not in ("space", "comment")]
        if not words or _CONSTRAINT_NAME.match(item) or words[0][1].upper() in _TABLE_CONSTRAINTS:
            continue
        for i, (kind, text) in enumerate(words[1:-1], start=1):
            if kind == "word" and text.upper() == "COLLATE":
                name = sqltext.identifier(*words[i + 1]) or words[i + 1][1]
                if name.upper() != "BINARY":
                    out[_unquote(words[0][1]).lower()] = name.upper()
                break
    return out


def _generated_columns(create_sql: str, names: list[str]) -> dict[str, str]:
    """The expression of each generated column, from its definition in ``CREATE TABLE``."""
    if not names:
        return {}
    body = sqltext.parenthesized(create_sql)
    out: dict[str, str] = {}
    if body is None:
        return out
    for item in sqltext.top_level_split(create_sql[body[0] : body[1]]):
        first = _unquote(item.split()[0]) if item.split() else ""
        m = _GENERATED.search(item)
        if first in names and m:
            span = sqltext.parenthesized(item, m.start())
            if span:
                out[first] = item[span[0] : span[1]]
    return out
