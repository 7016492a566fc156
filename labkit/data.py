"""Generated tables for the lab: deterministic for a given seed."""

from __future__ import annotations

import random
from typing import Any

from .table import Table

_FIRST = ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia", "Linus"]
_LAST = ["Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Perlman", "Torvalds"]
_DOMAINS = ["example.com", "mail.org", "corp.net", "lab.io"]


def make_users(rows: int = 10, *, seed: int = 0) -> Table:
    """A ``users`` table with ``name`` and ``email``, ``rows`` rows long."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows must be a whole number >= 0, got {rows!r}")
    rng = random.Random(seed)
    firsts = [rng.choice(_FIRST) for _ in range(rows)]
    lasts = [rng.choice(_LAST) for _ in range(rows)]
    domains = [rng.choice(_DOMAINS) for _ in range(rows)]
    names = [f"{f} {la}" for f, la in zip(firsts, lasts)]
    emails = [f"{f.lower()}.{la.lower()}{i}@{d}" for i, (f, la, d) in enumerate(zip(firsts, lasts, domains), 1)]
    return Table.from_columns("users", {"name": names, "email": emails})


# The same computation in SQL, per engine: a trigger cannot call Python.
EMAIL_DOMAIN_SQL = {
    "sqlite": "lower(substr(email, instr(email, '@') + 1))",
    "postgresql": "lower(split_part(email, '@', 2))",
}


def email_domain(row: dict[str, Any]) -> str | None:
    """The part of ``row['email']`` after the '@', lower-cased (the course's computed column)."""
    email = row["email"]
    return str(email).rsplit("@", 1)[1].lower() if email and "@" in email else None


def make_products(rows: int = 10, *, seed: int = 0) -> Table:
    """A ``products`` table with ``title`` and ``price_cents`` (an integer), ``rows`` rows long."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ValueError(f"rows must be a whole number >= 0, got {rows!r}")
    rng = random.Random(seed)
    kinds = ["mug", "lamp", "chair", "desk", "pen", "book"]
    titles = [f"{rng.choice(kinds)} #{i}" for i in range(1, rows + 1)]
    prices = [rng.randrange(99, 50_000) for _ in range(rows)]
    return Table.from_columns("products", {"title": titles, "price_cents": prices})


def split_name(row: dict[str, Any]) -> tuple[str, str]:
    """``'Ada Lovelace'`` -> ``('Ada', 'Lovelace')``: first word, then the rest ('' when there is none)."""
    name = row.get("name") or ""
    first, _, rest = name.partition(" ")
    return first, rest
