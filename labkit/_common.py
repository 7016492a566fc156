"""Small helpers shared by the core modules."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import InvalidArgumentError, InvalidBatchSizeError, InvalidNameError, SameNameError
from .sqltext import tokens

_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
RESERVED = frozenset({"id"})
# a column name labkit quotes: any PostgreSQL takes quoted (mixed case, spaces, dots, non-ASCII, reserved words), up
# to 63 bytes (checked below), but no quote character of either engine ('"', '`'), no '%' (psycopg would read it,
# in a statement sent with parameters, as a placeholder: found by the property test), no NUL or control character,
# and not blank at either end
_QUOTED_OK = re.compile(r"^(?=.{1,63}$)[^\x00-\x1f\s\"`%](?:[^\x00-\x1f\"`%]*[^\x00-\x1f\s\"`%])?$")


_USERINFO = re.compile(r"(//[^:@/?#]*:)[^@/?#]+(@)")  # a password of one character or more (none: nothing to hide)
_PASSWORD = re.compile(r"((?:^|[?&\s])password\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]*)", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, in every form libpq takes: ``user:pw@`` in a URL,
    ``?password=`` among its parameters, ``password=`` in a keyword string. Every URL labkit prints goes here."""
    return _PASSWORD.sub(r"\1***", _USERINFO.sub(r"\1***\2", url))


def check_name(name: object, *, kind: str = "column") -> str:
    """Return ``name`` if labkit takes it, else raise ``InvalidNameError``.

    A column may have any name PostgreSQL and SQLite take quoted (``"CreatedAt"``, ``"user"``, ``"naïve"``,
    ``"with space"``: labkit quotes every name it sends), but none holding a quote character, a NUL or a control
    character. Tables, schemas and labkit's own objects keep plain lower-case identifiers for now (issue 32).
    """
    if not isinstance(name, str) or not name:
        raise InvalidNameError(name, kind=kind, reason="a name must be a non-empty string")
    if kind == "column" and _QUOTED_OK.match(name) and len(name.encode()) <= 63 and name not in RESERVED:
        return name  # any column name PostgreSQL takes quoted: mixed case, spaces, non-ASCII (labkit quotes them all)
    if not _IDENT.match(name):
        raise InvalidNameError(
            name,
            kind=kind,
            reason="use 1-63 lower-case letters, digits and underscores, starting with a letter",
        )
    if kind == "column" and name in RESERVED:
        raise InvalidNameError(name, kind=kind, reason="'id' is the primary key the table manages")
    return name


def check_ratios(read_ratio: float, insert_ratio: float) -> None:
    """The mix of app requests: fractions of reads and inserts (the rest are updates)."""
    if not (0 <= read_ratio <= 1 and 0 <= insert_ratio <= 1 and read_ratio + insert_ratio <= 1):
        raise InvalidArgumentError("read_ratio and insert_ratio must be fractions that add up to at most 1")


MAX_BATCH_SIZE = 1_000_000  # rows per batch: beyond this a "batch" holds its locks for seconds


def check_batch_size(batch_size: object) -> int:
    """Return ``batch_size`` if it is a whole number from 1 to ``MAX_BATCH_SIZE`` (bools refused), else raise."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise InvalidBatchSizeError(batch_size)
    if batch_size > MAX_BATCH_SIZE:
        raise InvalidBatchSizeError(
            batch_size,
            f"at most {MAX_BATCH_SIZE:,} rows per batch: a batch that big holds its row locks for seconds "
            "(1,000-10,000 is usual; batch_size=None is the one big UPDATE, kept for contrast)",
        )
    return batch_size


@dataclass(frozen=True)
class SQL:
    """An SQL expression where a constant would otherwise go, e.g. ``AddColumn(..., default=SQL("now()"))``.

    It is code from the plan's author (like a migration file), not data: never build it from user input.
    """

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise InvalidArgumentError("SQL() needs a non-empty expression")
        if ";" in self.text:
            raise InvalidArgumentError("SQL() takes one expression, not statements (no ';')")


SqlByDialect = str | tuple[tuple[str, str], ...] | None  # one expression, or (dialect, expression) pairs


def sql_by_dialect(sql: str | Mapping[str, str] | tuple[tuple[str, str], ...] | None) -> SqlByDialect:
    """``{dialect: expression}`` as sorted pairs, so that a step holding it stays hashable and comparable."""
    if isinstance(sql, Mapping):
        return tuple(sorted(sql.items()))
    return sql


def sql_for(sql: SqlByDialect, dialect: str) -> str | None:
    """A step's SQL expression for this engine (``sql=`` may be one string or ``{dialect: expression}``)."""
    if sql is None or isinstance(sql, str):
        return sql
    return dict(sql).get(dialect)


def check_rename(table: str, old: str, new: str) -> None:
    """The one check every rename shares (steps, builders, the in-memory table): a new name, not the old one."""
    if old == new:
        raise SameNameError(table, old)


TRIGGER_PREFIX = "labkit_dw_"  # every dual-write trigger (and PostgreSQL trigger function) labkit makes


def check_object_name(name: object, *, kind: str) -> str:
    """A constraint's or an index's name as the catalog has it (any case, any character): 1-63 bytes, quoted
    wherever it is written, so it only has to be a name PostgreSQL and SQLite can hold."""
    if not isinstance(name, str) or not name or "\x00" in name or len(name.encode()) > 63:
        raise InvalidNameError(name, kind=kind, reason="a name of 1-63 bytes (it is quoted wherever it is written)")
    return name


def check_definition(sql: object, *, kind: str) -> str:
    """A definition read from the catalog (``CHECK (...)``, an index's column list ...): one piece of SQL, no
    statement separator outside strings. Like ``SQL(...)``, it is code, never user input."""
    if not isinstance(sql, str) or not sql.strip():
        raise InvalidNameError(sql, kind=kind, reason="a non-empty SQL definition")
    if any(k == "other" and t == ";" for k, t in tokens(sql)):
        raise InvalidNameError(sql, kind=kind, reason="one definition, not statements (no ';')")
    return sql


def short_name(made: str) -> str:
    """A generated name, at most 63 bytes (PostgreSQL's limit), shortened with a hash of the whole."""
    if len(made.encode()) <= 63:
        return made
    return made[:50] + "_" + hashlib.sha1(made.encode()).hexdigest()[:12]
