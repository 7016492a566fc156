"""The self-checks accept a right answer and reject wrong ones with a reason."""

from __future__ import annotations

from decimal import Decimal

import labkit as lk
from labkit import exercises


def split_name_plan(table):
    t = table.name

    def first(row):
        return lk.split_name(row)[0]

    def last(row):
        return lk.split_name(row)[1]

    apps = [
        lk.AppVersion("v1", ["name", "email"], ["name", "email"]),
        lk.AppVersion("v2", ["first_name", "last_name", "email"], ["name", "first_name", "last_name", "email"]),
        lk.AppVersion("v3", ["first_name", "last_name", "email"], ["first_name", "last_name", "email"]),
    ]
    steps = [
        lk.AddColumn(t, "first_name", label="add_first_name"),
        lk.AddColumn(t, "last_name", label="add_last_name"),
        lk.StartDualWrite(t, "name", "first_name", compute=first, label="dual_write_first_name"),
        lk.StartDualWrite(t, "name", "last_name", compute=last, label="dual_write_last_name"),
        lk.Backfill(t, "first_name", compute=first, batch_size=10, label="backfill_first_name"),
        lk.Backfill(t, "last_name", compute=last, batch_size=10, label="backfill_last_name"),
        lk.SwitchReads(t, "name", "first_name", deploy="v2"),
        lk.StopDualWrite(t, "name", "first_name", compute=first, label="stop_dual_write_first_name"),
        lk.StopDualWrite(t, "name", "last_name", compute=last, label="stop_dual_write_last_name"),
        lk.DropColumn(t, "name", deploy="v3"),
    ]
    return lk.MigrationPlan("split name", steps, apps=apps)


def price_plan(table, *, dual_write=True):
    t = table.name

    def to_price(row):
        return Decimal(row["price_cents"]) / 100

    apps = [
        lk.AppVersion("v1", ["title", "price_cents"], ["title", "price_cents"]),
        lk.AppVersion("v2", ["title", "price"], ["title", "price_cents", "price"]),
        lk.AppVersion("v3", ["title", "price"], ["title", "price"]),
    ]
    steps = [
        lk.AddColumn(t, "price"),
        lk.StartDualWrite(t, "price_cents", "price", compute=to_price),
        lk.Backfill(t, "price", compute=to_price, batch_size=7),
        lk.SwitchReads(t, "price_cents", "price", deploy="v2"),
        lk.StopDualWrite(t, "price_cents", "price", compute=to_price),
        lk.DropColumn(t, "price_cents", deploy="v3"),
    ]
    if not dual_write:
        steps = [s for s in steps if "dual" not in s.name]
    return lk.MigrationPlan("price", steps, apps=apps)


def test_split_name_reference_answer_passes():
    result = exercises.check_split_name(split_name_plan)
    assert result.passed, str(result)
    assert str(result).startswith(exercises.PASS_MARK)


def test_price_reference_answer_passes_and_a_plan_without_dual_write_fails():
    assert exercises.check_price_to_decimal(price_plan).passed
    bad = exercises.check_price_to_decimal(lambda t: price_plan(t, dual_write=False))
    assert not bad.passed and "backfill-without-dual-write" in str(bad)


def test_an_empty_answer_says_what_to_do():
    result = exercises.check_split_name(None)
    assert not result and "Write the function first" in str(result)


def test_a_wrong_target_is_caught_by_the_values_check():
    def wrong(table):
        return lk.build_rename_column_migration(table, "name", "first_name", batch_size=5)

    result = exercises.check_split_name(wrong)
    assert not result.passed and "columns are" in str(result)


def test_builders_are_right_answers_to_the_small_exercises():
    assert exercises.check_email_domain_by_hand(
        lambda t: lk.build_add_column_migration(
            t, "email_domain", backfill=lk.email_domain, source="email", batch_size=8
        )
    ).passed
    assert exercises.check_rename_in_order(
        lambda t: lk.build_rename_column_migration(t, "email", "contact_email", batch_size=8)
    ).passed
    assert exercises.check_fixed_plan(lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=8))


def test_fixed_plan_rejects_a_plan_with_warnings_left():
    result = exercises.check_fixed_plan(
        lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=50)
    )
    assert not result.passed and "unbatched-backfill" in str(result)


def test_check_table_restored():
    t = lk.make_users(5)
    before = t.snapshot()
    t.add_column("full_name")
    assert not exercises.check_table_restored(t, before)
    t.drop_column("full_name")
    assert exercises.check_table_restored(t, before)


def test_snapshot_recorder_sees_the_table_after_each_phase():
    t = lk.make_users(20)
    rec = lk.SnapshotRecorder(t)
    lk.MigrationRunner(t, observers=[rec]).execute_plan(
        lk.build_add_column_migration(t, "email_domain", backfill=lk.email_domain, source="email", batch_size=5)
    )
    empty = rec.after("add_column")
    half = rec.after("backfill", batch=2)
    assert "email_domain" in empty.column_names and set(empty.columns[-1]) == {None}
    assert sum(v is not None for v in half.columns[-1]) == 10
    assert rec.at_tick(len(rec.events)) == t.snapshot()
