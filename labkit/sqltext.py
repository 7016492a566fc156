"""SQL as text, read as tokens: which columns an expression names, and the same expression naming another one.

The catalog gives CHECK constraints, index definitions and view bodies as text. A copied column needs the same
constraint over its new name, and the preflight needs to know which definitions name a column. A token scan
(string literals, quoted identifiers and comments skipped) does both without a full parser: it never rewrites a
word inside a string, and it rewrites every reference written as ``name``, ``"name"`` or ``table.name``.
A definition the scan cannot read with certainty (an identifier spelled in another case and quoted) is reported
as naming the column, never as not naming it: the preflight errs towards refusing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_TOKEN = re.compile(
    r"""(?P<string>'(?:[^']|'')*')
      | (?P<dquoted>"(?:[^"]|"")*")
      | (?P<bquoted>`(?:[^`]|``)*`)
      | (?P<bracketed>\[[^\]]*\])
      | (?P<comment>--[^\n]*|/\*.*?\*/)
      | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
      | (?P<space>\s+)
      | (?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


def tokens(sql: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` for each token: string, dquoted, bquoted, bracketed, comment, word, space or other."""
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup
        assert kind is not None
        yield kind, m.group()


def identifier(kind: str, text: str) -> str | None:
    """The name a token stands for, if it is an identifier (a bare word is folded to lower case)."""
    if kind == "word":
        return text.lower()
    if kind == "dquoted":
        return text[1:-1].replace('""', '"')
    if kind == "bquoted":
        return text[1:-1].replace("``", "`")
    if kind == "bracketed":
        return text[1:-1]
    return None


def names(sql: str) -> set[str]:
    """Every identifier (and keyword: they cannot be told apart without a parser) an SQL text contains."""
    return {n for kind, text in tokens(sql) if (n := identifier(kind, text)) is not None}


def mentions(sql: str, column: str) -> bool:
    """Does this SQL text name ``column`` (as a word or a quoted identifier, outside strings and comments)?"""
    return column in names(sql)


def rename(sql: str, old: str, new: str, quote: str = '"') -> str:
    """``sql`` with every identifier ``old`` written as ``new`` (quoted with ``quote`` when ``old`` was quoted);
    strings and comments are left as they are."""
    out = []
    for kind, text in tokens(sql):
        name = identifier(kind, text)
        if name == old:
            out.append(new if kind == "word" else f"{text[0]}{new}{text[-1]}")
        else:
            out.append(text)
    return "".join(out)


def top_level_split(sql: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside parentheses, strings and quoted names (the items of a column list ...)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for kind, text in tokens(sql):
        if kind == "other" and text == "(":
            depth += 1
        elif kind == "other" and text == ")":
            depth -= 1
        if kind == "other" and text == sep and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(text)
    tail = "".join(current).strip()
    if tail:
        parts.append(tail)
    return parts


def parenthesized(sql: str, start: int = 0) -> tuple[int, int] | None:
    """The span inside the first parenthesis at or after ``start`` and its matching close, if any."""
    depth, opened, pos = 0, -1, 0
    for m in _TOKEN.finditer(sql):
        pos = m.start()
        if pos < start or m.lastgroup != "other":
            continue
        if m.group() == "(":
            if depth == 0:
                opened = m.end()
            depth += 1
        elif m.group() == ")" and depth:
            depth -= 1
            if depth == 0:
                return opened, pos
    return None


_WORDS = re.compile(r"\s+")


def normalize(sql: str) -> str:
    """Whitespace collapsed, for comparing definitions written by different hands."""
    return _WORDS.sub(" ", sql).strip()
