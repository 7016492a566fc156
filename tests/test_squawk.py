"""squawk over the SQL of a plan: its findings sit next to labkit's, and a safe plan draws only the ones it answers
by design, each with its reason. Real squawk (the squawk-cli wheel) on the SQL of real PostgreSQL tables."""

from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from labkit.safety import squawk


def _users(pg):
    return pg.import_table(lab.make_users(12, seed=1))


def test_the_naive_rename_is_flagged_by_squawk_as_well_as_by_labkit(pg):
    users = _users(pg)
    findings = lk.validate_migration_safety(lk.build_naive_rename_migration(users, "name", "full_name"), users)
    by = {(f.source, f.rule) for f in findings}
    assert {("labkit", "rename-in-place"), ("squawk", "renaming-column")} <= by
    flagged = next(f for f in findings if f.rule == "renaming-column")
    assert flagged.step == "rename_column_in_place" and flagged.link == "https://squawkhq.com/docs/renaming-column"
    assert "(squawk, https://squawkhq.com/docs/renaming-column)" in str(flagged)


SAFE = {
    "rename, copy": (
        lambda t: lk.build_rename_column_migration(t, "name", "full_name", batch_size=5),
        {"require-statement-timeout", "ban-drop-function", "ban-drop-view", "ban-drop-column", "ban-drop-schema"},
    ),
    "rename, view": (
        lambda t: lk.build_rename_column_migration(t, "name", "full_name", approach="view"),
        {"require-statement-timeout", "renaming-column", "ban-drop-view", "ban-drop-schema"},
    ),
    "add column": (
        lambda t: lk.build_add_column_migration(
            t,
            "email_domain",
            backfill=lab.email_domain,
            backfill_sql=lab.EMAIL_DOMAIN_SQL,
            source="email",
            batch_size=5,
        ),
        {"require-statement-timeout", "ban-drop-function", "ban-drop-view", "ban-drop-schema"},
    ),
}


@pytest.mark.parametrize("name", list(SAFE))
def test_a_safe_plan_draws_only_findings_it_answers_by_design(pg, name):
    users = _users(pg)
    build, expected_rules = SAFE[name]
    plan = build(users)
    assert lk.validate_migration_safety(plan, users) == []
    reviewed = squawk.review(plan, users)
    assert {r.finding.rule for r in reviewed} == expected_rules  # squawk did run, and saw what we expect
    assert all(r.expected and r.finding.source == "squawk" for r in reviewed), [str(r) for r in reviewed]


def test_the_whole_copy_of_a_production_column_draws_only_findings_it_answers(pg):
    orders = lab.make_orders(pg)
    plan = lk.build_rename_column_migration(orders, "account_id", "payer_id", batch_size=5)
    assert lk.validate_migration_safety(plan, orders) == []
    reviewed = {r.finding.rule: r for r in squawk.review(plan, orders)}
    assert "require-concurrent-index-creation" not in reviewed  # the copy's index is built CONCURRENTLY
    assert "constraint-missing-not-valid" not in reviewed and "adding-foreign-key-constraint" not in reviewed
    assert reviewed["ban-drop-constraint"].finding.step == "set_not_null_payer_id"
    assert "SET NOT NULL skip its scan" in (reviewed["ban-drop-constraint"].expected or "")
    assert reviewed["renaming-object"].finding.step == "drop_column"


def test_an_answer_is_not_given_where_the_labkit_rule_it_rests_on_fired(pg):
    users = _users(pg)
    plan = lk.build_rename_column_migration(users, "name", "full_name", batch_size=5)
    fired = [lk.Finding("drop-column-still-read", "error", "drop_column", "v2 still reads name.", "wait")]
    drop = next(r for r in squawk.review(plan, users, fired) if r.finding.rule == "ban-drop-column")
    assert drop.expected is None and "needs a fix" in str(drop)


def test_a_volatile_default_is_squawks_to_flag_and_a_stable_or_constant_one_is_not(pg):
    users = _users(pg)
    bad = lk.MigrationPlan("p", [lk.AddColumn("users", "token", default=lk.SQL("md5(random()::text)"))])
    flagged = {(f.source, f.rule) for f in lk.validate_migration_safety(bad, users)}
    assert ("squawk", "adding-field-with-default") in flagged
    for default in (lk.SQL("now()"), "free", 0):
        good = lk.MigrationPlan("p", [lk.AddColumn("users", "x", default=default)])
        assert "adding-field-with-default" not in {f.rule for f in lk.validate_migration_safety(good, users)}


def test_squawk_runs_only_on_postgresql_and_says_when_it_cannot_run(tmp_path, monkeypatch):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(4, seed=1))
        plan = lk.build_naive_rename_migration(users, "name", "full_name")
        assert all(f.source == "labkit" for f in lk.validate_migration_safety(plan, users))
        with pytest.raises(ValueError, match="PostgreSQL"):
            squawk.review(plan, users)
    monkeypatch.setattr(squawk.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(squawk.SquawkUnavailableError, match="pip install squawk-cli"):
        squawk.run_squawk("SELECT 1;")
