"""Read a PostgreSQL table's catalog from ``pg_catalog``: the definitions as the server itself writes them
(``format_type``, ``pg_get_expr``, ``pg_get_constraintdef``, ``pg_get_indexdef``, ``pg_get_triggerdef``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._common import TRIGGER_PREFIX
from ..catalog import (
    ColumnInfo,
    ConstraintInfo,
    ConstraintKind,
    IndexInfo,
    PolicyInfo,
    PublicationInfo,
    StatisticsInfo,
    TableCatalog,
    TriggerInfo,
    ViewInfo,
)
from ..errors import TableNotFoundError

if TYPE_CHECKING:
    from .dialect import Session

_KINDS: dict[str, ConstraintKind] = {
    "p": "primary_key",
    "u": "unique",
    "c": "check",
    "f": "foreign_key",
    "x": "exclusion",
}
_IDENTITY = {"a": "always", "d": "by default"}
_COMMANDS = {"*": "ALL", "r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE"}
_STORAGE = {"p": "PLAIN", "e": "EXTERNAL", "m": "MAIN", "x": "EXTENDED"}
_COMPRESSION = {"p": "pglz", "l": "lz4"}
_STATS_KINDS = {"d": "ndistinct", "f": "dependencies", "m": "mcv"}
_REPLICA = {"f": "full", "n": "nothing"}
# the columns an object depends on, by pg_depend (a policy's, a publication's, a statistics object's)
_DEPENDS_ON = (
    "ARRAY(SELECT a.attname::text FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid "
    "AND a.attnum = d.refobjsubid WHERE d.classid = '{catalog}'::regclass AND d.objid = {oid} "
    "AND d.refobjsubid > 0 ORDER BY a.attnum)"
)


def _names(db: Session, rel: int, numbers: list[int] | None) -> tuple[str, ...]:
    if not numbers:
        return ()
    rows = db.query("SELECT attnum, attname FROM pg_attribute WHERE attrelid = %s AND attnum = ANY(%s)", [rel, numbers])
    by_number = dict(rows)
    return tuple(by_number[n] for n in numbers if n in by_number)


def _relname(db: Session, rel: int) -> str:
    """A relation's name as the current search_path would write it (schema-qualified only when it must be)."""
    return str(db.query("SELECT %s::regclass::text", [rel])[0][0])


def read(db: Session, table: str, schema: str | None = None) -> TableCatalog:
    found = db.query(
        "SELECT c.oid, n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = %s AND n.nspname = COALESCE(%s, current_schema()) AND c.relkind IN ('r', 'p')",
        [table, schema],
    )
    if not found:
        raise TableNotFoundError(table)
    oid, nsp = found[0]
    columns = tuple(
        ColumnInfo(
            name=r[0],
            type=r[1],
            not_null=r[2],
            default=r[3] if not r[6] else None,
            comment=r[4],
            identity=_IDENTITY.get(r[5]),
            generated=r[3] if r[6] else None,
            sequence=r[7],
            collation=r[8],
            statistics=r[9] if r[9] is not None and r[9] >= 0 else None,
            storage=_STORAGE.get(r[10]),
            compression=_COMPRESSION.get(r[11]),
            options=tuple(r[12] or ()),
            privileges=tuple((g, p, grantable == "true") for g, p, grantable in r[13] or ()),
        )
        for r in db.query(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid), col_description(a.attrelid, a.attnum), a.attidentity, "
            # the sequence the column owns (serial: 'a', identity: 'i'), as pg_get_serial_sequence finds it, but from
            # this query's snapshot: that function looks the column up again by name, so a column dropped while the
            # query ran raised 'column ... of relation ... does not exist' (an app's catalog read beside a contract)
            "a.attgenerated <> '', (SELECT s.relname FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid "
            "WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass "
            "AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype IN ('a', 'i') "
            "AND s.relkind = 'S' ORDER BY s.oid LIMIT 1), "
            "CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END, "
            "a.attstattarget::int, CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END, "
            "a.attcompression::text, a.attoptions::text[], "
            "ARRAY(SELECT ARRAY[CASE WHEN x.grantee = 0 THEN '' ELSE pg_get_userbyid(x.grantee)::text END, "
            "x.privilege_type, x.is_grantable::text] FROM aclexplode(a.attacl) x ORDER BY 1) "
            "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            [oid],
        )
    )
    constraints: list[ConstraintInfo] = []
    key: tuple[str, ...] = ()
    for name, kind, conkey, definition, ref, confkey, validated, comment in db.query(
        "SELECT conname, contype, conkey, pg_get_constraintdef(oid), confrelid, confkey, convalidated, "
        "obj_description(oid, 'pg_constraint') "
        "FROM pg_constraint WHERE conrelid = %s AND contype IN ('p', 'u', 'c', 'f', 'x') ORDER BY conname",
        [oid],
    ):
        cols = _names(db, oid, conkey)
        if kind == "p":
            key = cols
        constraints.append(
            ConstraintInfo(
                name=name,
                kind=_KINDS[kind],
                table=table,
                columns=cols,
                definition=definition,
                ref_table=_relname(db, ref) if ref else None,
                ref_columns=_names(db, ref, confkey) if ref else (),
                validated=validated,
                comment=comment,
            )
        )
    incoming = tuple(
        ConstraintInfo(
            name=name,
            kind="foreign_key",
            table=_relname(db, rel),
            columns=_names(db, rel, conkey),
            definition=definition,
            ref_table=table,
            ref_columns=_names(db, oid, confkey),
            validated=validated,
        )
        for name, rel, conkey, definition, confkey, validated in db.query(
            "SELECT conname, conrelid, conkey, pg_get_constraintdef(oid), confkey, convalidated "
            "FROM pg_constraint WHERE confrelid = %s AND contype = 'f' AND conrelid <> %s ORDER BY conrelid, conname",
            [oid, oid],
        )
    )
    indexes = []
    replica_index = ""
    for name, keys, unique, definition, has_expr, has_pred, backs, valid, comment, clustered, replica in db.query(
        "SELECT ic.relname, i.indkey::int2[], i.indisunique, pg_get_indexdef(i.indexrelid), "
        "i.indexprs IS NOT NULL, i.indpred IS NOT NULL, "
        "(SELECT conname FROM pg_constraint WHERE conindid = i.indexrelid AND conrelid = i.indrelid), i.indisvalid, "
        "obj_description(i.indexrelid, 'pg_class'), i.indisclustered, i.indisreplident "
        "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = %s ORDER BY ic.relname",
        [oid],
    ):
        indexes.append(
            IndexInfo(
                name=name,
                columns=_names(db, oid, [k for k in keys if k]),
                unique=unique,
                definition=definition,
                expression=has_expr,
                partial=has_pred,
                constraint=backs,
                valid=valid,
                comment=comment,
                clustered=clustered,
            )
        )
        if replica:
            replica_index = name
    triggers = tuple(
        TriggerInfo(name, definition, enabled != "D", body or "")
        for name, definition, enabled, body in db.query(
            "SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = %s AND NOT t.tgisinternal AND t.tgname NOT LIKE %s ORDER BY t.tgname",
            [oid, TRIGGER_PREFIX + "%"],
        )
    )
    # classic inheritance only: a partitioned table's row triggers are cloned onto its partitions by the server
    children = tuple(
        str(r[0])
        for r in db.query(
            "SELECT i.inhrelid::regclass::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE i.inhparent = %s AND p.relkind = 'r' ORDER BY 1",
            [oid],
        )
    )
    policies = tuple(
        PolicyInfo(name, _COMMANDS[cmd], permissive, tuple(roles), using, check, tuple(cols))
        for name, cmd, permissive, roles, using, check, cols in db.query(
            "SELECT p.polname, p.polcmd, p.polpermissive, "
            "ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r), "
            "pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), "
            + _DEPENDS_ON.format(catalog="pg_policy", oid="p.oid")
            + " FROM pg_policy p WHERE p.polrelid = %s ORDER BY p.polname",
            [oid],
        )
    )
    statistics = tuple(
        StatisticsInfo(
            name,
            on,
            tuple(_STATS_KINDS[k] for k in kinds if k in _STATS_KINDS),
            tuple(cols),
            target if target is not None and target >= 0 else None,
        )
        for name, on, kinds, cols, target in db.query(
            "SELECT s.stxname, pg_get_statisticsobjdef_columns(s.oid), s.stxkind::text[], "
            + _DEPENDS_ON.format(catalog="pg_statistic_ext", oid="s.oid")
            + ", s.stxstattarget::int FROM pg_statistic_ext s WHERE s.stxrelid = %s ORDER BY s.stxname",
            [oid],
        )
    )
    publications = tuple(
        PublicationInfo(name, tuple(cols), row_filter)
        for name, cols, row_filter in db.query(
            "SELECT p.pubname, "
            + _DEPENDS_ON.format(catalog="pg_publication_rel", oid="r.oid")
            + ", pg_get_expr(r.prqual, r.prrelid) FROM pg_publication_rel r "
            "JOIN pg_publication p ON p.oid = r.prpubid WHERE r.prrelid = %s ORDER BY p.pubname",
            [oid],
        )
    )
    enabled, forced, replica, partition_key = db.query(
        "SELECT relrowsecurity, relforcerowsecurity, relreplident, "
        "CASE WHEN relkind = 'p' THEN pg_get_partkeydef(oid) ELSE '' END FROM pg_class WHERE oid = %s",
        [oid],
    )[0]
    return TableCatalog(
        schema=nsp,
        table=table,
        columns=columns,
        key=key,
        constraints=tuple(constraints),
        incoming=incoming,
        indexes=tuple(indexes),
        triggers=triggers,
        views=_dependent_views(db, oid),
        children=children,
        policies=policies,
        row_security="forced" if forced else "enabled" if enabled else "",
        statistics=statistics,
        publications=publications,
        replica_identity=f"index {replica_index}" if replica == "i" else _REPLICA.get(replica, ""),
        partition_key=partition_key,
    )


def _dependent_views(db: Session, oid: int) -> tuple[ViewInfo, ...]:
    """Views and materialized views whose query reads the table (labkit's versioned views left out), with the
    table's columns each one uses (``pg_depend`` records one dependency per column)."""
    rows: list[Any] = db.query(
        "SELECT v.oid, v.relkind, n.nspname, array_agg(DISTINCT a.attname ORDER BY a.attname) "
        "FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
        "JOIN pg_namespace n ON n.oid = v.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = %s AND d.refobjsubid > 0 AND v.oid <> %s "
        "AND n.nspname NOT LIKE 'labkit\\_%%' GROUP BY v.oid, v.relkind, n.nspname ORDER BY v.oid",
        [oid, oid],
    )
    return tuple(
        ViewInfo(_relname(db, view), "materialized view" if kind == "m" else "view", tuple(cols))
        for view, kind, _, cols in rows
    )
