"""The copy checked before the contract (issue 22): every row's new value against what its source says, on both
engines; a deliberately wrong dual write is caught, named by key range, and ``complete`` refuses to drop."""

from __future__ import annotations

import dataclasses

import labkit as lk
from labkit import lab
from labkit.verify import verify_copy
from tests.conftest import labkit


def test_a_right_copy_verifies_and_complete_says_so(db, tmp_path):
    users = db.import_table(lab.make_users(3000, seed=1))
    plan = lk.build_rename_column_migration(users, "name", "full_name")
    assert lk.MigrationRunner(users, until_phase="contract").execute_plan(plan).status == "stopped"
    users.update(5, {"full_name": "Ünïcode ' name"})  # the new app's write, carried back by the dual write
    checked = verify_copy(users, plan, rows_per_range=700)
    assert checked.ok and checked.columns == ["full_name"] and checked.rows == 3000 and checked.ranges == 1  # one read
    lk.save_plan(plan, tmp_path / "plan.json")
    done = labkit("complete", "plan.json", "--db", db.url, cwd=tmp_path)
    assert done.returncode == 0 and "verified full_name: 3,000 rows" in done.stderr, done.stdout + done.stderr


def test_a_wrong_dual_write_is_caught_by_key_range_and_complete_refuses_to_drop(db, tmp_path):
    users = db.import_table(lab.make_users(3000, seed=2))
    good = lk.build_add_column_migration(users, "name_upper", backfill=str.upper, source="name",
                                         backfill_sql="upper(name)")  # fmt: skip
    wrong = [dataclasses.replace(s, sql="lower(name)") if isinstance(s, lk.StartDualWrite) else s for s in good.steps]
    plan = lk.MigrationPlan(good.name, wrong, apps=good.apps)  # the trigger computes something else
    assert lk.MigrationRunner(users, until_phase="contract").execute_plan(plan).status == "stopped"
    for row_id in (17, 18, 2900):  # the app writes: the wrong trigger fills name_upper with lower case
        users.update(row_id, {"name": f"Name {row_id}"})
    checked = verify_copy(users, plan, rows_per_range=1000)
    assert checked.ranges == 1 + 3  # the whole table, then its three ranges to say where
    assert not checked.ok and [(m.lo, m.hi, m.rows, m.first) for m in checked.mismatches] == [
        (1, 1000, 2, 17), (2001, 3000, 1, 2900)]  # fmt: skip
    assert "name_upper: 2 row(s) differ in keys 1..1000 (first: 17)" in checked.summary()
    lk.save_plan(plan, tmp_path / "plan.json")
    said = labkit("verify", "plan.json", "--db", db.url, cwd=tmp_path)
    assert said.returncode == 3 and "differ" in said.stdout, said.stdout + said.stderr
    done = labkit("complete", "plan.json", "--db", db.url, cwd=tmp_path)
    assert done.returncode == 3 and "nothing is dropped" in done.stderr, done.stdout + done.stderr
    assert "name_upper" in users.column_names and users.db.query(
        "SELECT count(*) FROM users WHERE name_upper = lower(name) AND name_upper <> upper(name)") == [(3,)]
