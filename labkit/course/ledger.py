"""The truth of what the app wrote, and one definition of a lost write for every kind of traffic.

The in-memory simulator (``labkit.course.traffic``) and the real-database workload (``labkit.course.workload``)
both keep a ``WriteLedger``, so they count the same things the same way:

- a **lost write** is an acknowledged write whose value a later read of its row does not return. Each write
  counts once: a row that is written, found wrong, written again and found wrong again counts two;
- a **stale read** is a wrong value on a row the app never wrote (e.g. a column not yet backfilled);
- an **audit** reads back every row whose last write is not yet known lost, after the run; it returns how
  many more writes it found lost.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from ..steps.base import Meaning

Verdict = Literal["ok", "lost", "stale"]


class WriteLedger:
    """What each row should hold (its logical values, through each column's meaning) and which writes were lost.

    Thread-safe: the workload's threads share one ledger.

    Args:
        meanings: column -> what it should hold, from the app's logical row (see ``Step.derive``).
        rows: ``(id, logical row)`` of every row before the run.
    """

    def __init__(self, meanings: Mapping[str, Meaning], rows: Iterable[tuple[int, dict[str, Any]]]) -> None:
        self.meanings = dict(meanings)
        self.truth: dict[int, dict[str, Any]] = dict(rows)
        self.writes = 0  # acknowledged writes so far
        self.stale_reads = 0
        self._last: dict[int, int] = {}  # row id -> number of its last acknowledged write
        self._lost: set[int] = set()  # numbers of the writes found lost
        self.mismatches: list[str] = []  # the first few wrong reads: the row, the column, what it held, the truth
        self._mutex = threading.Lock()

    @property
    def lost_writes(self) -> int:
        return len(self._lost)

    def expected(self, row_id: int, column: str) -> Any:
        """What ``column`` of row ``row_id`` must hold now."""
        return self.meanings[column](self.truth[row_id])

    def carries(self, logical: Mapping[str, Any], columns: Sequence[str], original: str) -> bool:
        """Does a write of ``columns`` carry the logical value of ``original`` (it names it, or a copy, a conversion
        or a value computed from it)? An INSERT that does not leaves the table to fill it (NULL, a DEFAULT)."""
        sent = self.values(logical, columns)
        for k in columns:
            if k == original:
                return True
            try:
                if self.meanings[k]({**logical, original: object()}) != sent[k]:
                    return True
            except Exception:  # the computation could not take a stand-in value: it reads the original
                return True
        return False

    def values(self, logical: Mapping[str, Any], columns: Sequence[str]) -> dict[str, Any]:
        """What an app that writes ``columns`` sends for the logical row ``logical``."""
        return {c: self.meanings[c](dict(logical)) for c in columns}

    def acknowledge(self, row_id: int, logical: dict[str, Any]) -> int:
        """Record an acknowledged write (the commit returned): ``logical`` is now the row's truth."""
        with self._mutex:
            self.writes += 1
            self.truth[row_id] = logical
            self._last[row_id] = self.writes
            return self.writes

    def check(self, row_id: int, row: Mapping[str, Any], columns: Iterable[str]) -> Verdict:
        """Compare what a read returned with the truth; a wrong value loses the row's last write (once)."""
        with self._mutex:
            truth = self.truth[row_id]
            wrong = [c for c in columns if row.get(c) != self.meanings[c](truth)]
            if not wrong:
                return "ok"
            write = self._last.get(row_id)
            if len(self.mismatches) < 3 and (write is None or write not in self._lost):
                c, who = wrong[0], "never written by the app" if write is None else "written by the app"
                self.mismatches.append(f"row {row_id} ({who}): {c} read {row.get(c)!r}, "
                                       f"expected {self.meanings[c](truth)!r}")  # fmt: skip
            if write is None:
                self.stale_reads += 1
                return "stale"
            if write in self._lost:
                return "ok"  # already counted: a write is lost once
            self._lost.add(write)
            return "lost"

    def adopt_fixes(self, column: str, fixed: Iterable[tuple[int, Any, Any, Any]]) -> int:
        """The migration, not the app, changed ``column`` on these rows (a data fix, ``FixRows``, or its undo):
        ``(row id, value before, value after, value now)``. A row whose truth is the value before and that holds the
        value after now takes it as its truth (the fix reached it); one whose truth is the value after and that holds
        the value before again takes that (the undo reached it). A row the app wrote since keeps the app's value.
        Returns how many rows changed truth."""
        n = 0
        with self._mutex:
            for row_id, before, after, now in fixed:
                truth = self.truth.get(row_id)
                if truth is None:
                    continue
                for old, new in ((before, after), (after, before)):
                    if truth.get(column) == old and now == new and old != new:
                        truth[column] = new
                        n += 1
                        break
        return n

    def audit(self, read: Callable[[int], Mapping[str, Any]], columns: Sequence[str]) -> int:
        """Read back every row the app wrote (``read(row_id)``); return how many more writes were found lost."""
        before = self.lost_writes
        for row_id in sorted(self._last):
            self.check(row_id, read(row_id), columns)
        return self.lost_writes - before
