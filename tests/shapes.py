"""The production-shaped schemas the tests build: orders (in the package, so notebook 07 shows the very same one),
and people, whose e-mail column carries every property a rename by copy must keep (issue 21, finding 8)."""

from __future__ import annotations

import labkit as lk
from labkit.course.data import make_orders

# Finding 8: every property of the column the copy used to lose. {col} is the column, the object names stay.
PROPERTIES = """
CREATE TABLE people (id bigint PRIMARY KEY, city text, note text, {col} text COLLATE "C");
ALTER TABLE people ADD CONSTRAINT people_email_key UNIQUE ({col}) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE people ADD CONSTRAINT people_email_check CHECK ({col} <> '');
COMMENT ON CONSTRAINT people_email_check ON people IS 'no empty address';
CREATE INDEX people_email_lower ON people (lower({col}));
COMMENT ON INDEX people_email_lower IS 'case-blind lookups';
ALTER TABLE people CLUSTER ON people_email_lower;
CREATE STATISTICS people_city_email (ndistinct, dependencies) ON city, {col} FROM people;
ALTER STATISTICS people_city_email SET STATISTICS 300;
ALTER TABLE people ALTER COLUMN {col} SET STATISTICS 500;
ALTER TABLE people ALTER COLUMN {col} SET STORAGE EXTERNAL;
ALTER TABLE people ALTER COLUMN {col} SET COMPRESSION pglz;
ALTER TABLE people ALTER COLUMN {col} SET (n_distinct = -1);
GRANT INSERT ({col}) ON people TO PUBLIC;
INSERT INTO people SELECT i, 'city ' || (i % 7), NULL, 'u' || i || '@x.io' FROM generate_series(1, 300) i
"""


def make_people(db: lk.Database, col: str = "email") -> lk.DbTable:
    """``people`` with a column ``col`` carrying every property above (PostgreSQL), 300 rows."""
    for statement in PROPERTIES.format(col=col).split(";\n"):
        db.execute(statement)
    return db.table("people")


__all__ = ["PROPERTIES", "make_orders", "make_people"]
