"""PostgreSQL's own parser (pglast) on the SQL labkit sends, where a plan's fragments end up.

A plan file carries SQL fragments (a constraint's definition, an index's, a column's constraints, a default, a
backfill's expression), and labkit splices them into the statements it runs with the migrating role's rights. A
token scan for ``;`` is not enough (``E'\\''`` hides one from it) and not even needed (``CHECK (true), DROP COLUMN
email`` is one statement). So every statement is parsed by the server's grammar before it is sent: it must be
exactly one statement, and an ``ALTER TABLE`` exactly one action; an expression must be exactly one expression.
"""

from __future__ import annotations

from typing import Any

from .errors import UnsafeSqlError


def _parse(sql: str) -> tuple[Any, ...]:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return tuple(parse_sql(sql))
    except ParseError as exc:
        raise UnsafeSqlError(sql, f"PostgreSQL's parser refuses it ({exc})") from None


def check_statement(sql: str) -> None:
    """``sql`` is one statement, and if an ``ALTER TABLE``, one action: else ``UnsafeSqlError``."""
    found = _parse(sql)
    if len(found) != 1:
        raise UnsafeSqlError(sql, f"it is {len(found)} statements, where labkit built one")
    stmt = found[0].stmt
    if type(stmt).__name__ == "AlterTableStmt" and len(stmt.cmds or ()) != 1:
        raise UnsafeSqlError(sql, f"it is an ALTER TABLE of {len(stmt.cmds)} actions, where labkit built one")


def check_expression(expr: str) -> None:
    """``expr`` is exactly one expression (no statement, no FROM, nothing after it): else ``UnsafeSqlError``."""
    found = _parse(f"SELECT ({expr})")
    stmt = found[0].stmt if len(found) == 1 else None
    clauses = ("fromClause", "whereClause", "groupClause", "havingClause", "sortClause", "limitCount", "withClause")
    if (
        stmt is None
        or type(stmt).__name__ != "SelectStmt"
        or len(stmt.targetList or ()) != 1
        or any(getattr(stmt, c, None) for c in clauses)
    ):
        raise UnsafeSqlError(expr, "it is not one SQL expression")


def _nodes(expr: str, kind: str) -> list[Any]:
    """Every node of pglast's class ``kind`` in the expression ``expr`` (``ColumnRef``, ``FuncCall``, ``SubLink``)."""
    from pglast import ast
    from pglast.visitors import Visitor

    found: list[Any] = []

    class Collect(Visitor):
        def visit(self, ancestors: Any, node: Any) -> None:
            if type(node).__name__ == kind:
                found.append(node)

    tree = _parse(f"SELECT ({expr})")
    Collect()(tree[0] if isinstance(tree[0], ast.Node) else tree)
    return found


def columns(expr: str) -> list[str]:
    """The columns ``expr`` names (each ``ColumnRef``'s last part), sorted."""
    return sorted({str(getattr(n.fields[-1], "sval", "*")) for n in _nodes(expr, "ColumnRef")})


def names_columns(expr: str) -> bool:
    """Does ``expr`` name a column (a ``ColumnRef`` anywhere in it)? ``gen_random_uuid()`` does not."""
    return bool(_nodes(expr, "ColumnRef"))


def has_subquery(expr: str) -> bool:
    """Does ``expr`` hold a subquery (``(SELECT ...)``, ``EXISTS``, ``IN (SELECT ...)``)?"""
    return bool(_nodes(expr, "SubLink"))


def functions(expr: str) -> list[str]:
    """The names of the functions ``expr`` calls (``gen_random_uuid``, ``nextval``; schema left out)."""
    return sorted({str(n.funcname[-1].sval) for n in _nodes(expr, "FuncCall")})


def proves_not_null(definition: str, column: str) -> bool:
    """Does the constraint ``definition`` (``CHECK (...)``) imply that ``column`` IS NOT NULL, the way PostgreSQL's
    ``SET NOT NULL`` looks for a proof to skip its scan? True for ``CHECK (column IS NOT NULL)``, alone or ANDed
    with other conditions; False for anything else, ``CHECK (column <> '')`` included (a NULL passes a CHECK whose
    condition is NULL: it proves nothing about NULLs)."""
    from pglast import ast, enums

    found = _parse(f"ALTER TABLE t ADD CONSTRAINT c {definition}")
    cmd = found[0].stmt.cmds[0] if len(found) == 1 and type(found[0].stmt).__name__ == "AlterTableStmt" else None
    constraint = getattr(cmd, "def_", None)
    if not isinstance(constraint, ast.Constraint) or constraint.contype != enums.ConstrType.CONSTR_CHECK:
        return False

    def proves(node: Any) -> bool:
        if isinstance(node, ast.BoolExpr) and node.boolop == enums.BoolExprType.AND_EXPR:
            return any(proves(arg) for arg in node.args or ())
        if isinstance(node, ast.NullTest) and node.nulltesttype == enums.NullTestType.IS_NOT_NULL:
            ref = node.arg
            names = [getattr(f, "sval", None) for f in getattr(ref, "fields", None) or ()]
            return isinstance(ref, ast.ColumnRef) and names[-1:] == [column]
        return False

    return proves(constraint.raw_expr)
