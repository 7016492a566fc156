"""One definition of a lost write, shared by the in-memory simulator and the real-database workload."""

from __future__ import annotations

import labkit as lk
from labkit import lab
from labkit.course.ledger import WriteLedger
from labkit.course.workload import AppWorkload


def ledger() -> WriteLedger:
    meanings = {"name": lambda row: row["name"], "upper": lambda row: row["name"].upper()}
    return WriteLedger(meanings, [(1, {"name": "ada"}), (2, {"name": "alan"})])


def test_each_write_is_lost_once_and_a_rewritten_row_can_lose_again():
    book = ledger()
    book.acknowledge(1, {"name": "grace"})
    assert book.check(1, {"name": "ada"}, ["name"]) == "lost"
    assert book.check(1, {"name": "ada"}, ["name"]) == "ok"  # the same write is not counted twice
    book.acknowledge(1, {"name": "edsger"})
    assert book.check(1, {"name": "grace"}, ["name"]) == "lost"  # a second write to the row, lost too
    assert book.lost_writes == 2 and book.writes == 2


def test_a_wrong_value_on_a_row_never_written_is_a_stale_read_not_a_lost_write():
    book = ledger()
    assert book.check(2, {"upper": None}, ["upper"]) == "stale"
    assert (book.stale_reads, book.lost_writes) == (1, 0)
    assert book.check(2, {"upper": "ALAN"}, ["upper"]) == "ok"


def test_the_audit_reads_back_only_written_rows_and_returns_what_it_found():
    book = ledger()
    book.acknowledge(2, {"name": "barbara"})
    stored = {1: {"name": "ada"}, 2: {"name": "alan"}}  # the write to row 2 never arrived
    assert book.audit(stored.__getitem__, ["name"]) == 1
    assert book.audit(stored.__getitem__, ["name"]) == 0 and book.lost_writes == 1


def test_the_simulator_and_the_workload_keep_the_same_ledger(users, tmp_path):
    plan = lk.build_add_column_migration(users, "email_domain", backfill=lab.email_domain, source="email")
    sim = lab.TrafficSimulator(users, plan)
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        table = db.import_table(users)
        db_plan = lk.build_add_column_migration(
            table, "email_domain", backfill=lab.email_domain, backfill_sql=lab.EMAIL_DOMAIN_SQL, source="email"
        )
        load = AppWorkload(table, db_plan)
    assert type(sim.ledger) is type(load.ledger) is WriteLedger
    assert sim.ledger.truth == load.ledger.truth  # the same rows, the same logical values
