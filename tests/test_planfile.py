"""Plans as files: every plan the builders make round-trips through JSON, and a bad file is refused with the field
that is wrong."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest

import labkit as lk
from labkit import lab, planfile
from labkit.planfile import plan_from_dict, plan_to_dict
from labkit.steps import Step


def _plans(table) -> dict[str, lk.MigrationPlan]:
    return {
        "rename, copy": lk.build_rename_column_migration(table, "name", "full_name", batch_size=5),
        "rename, view": lk.build_rename_column_migration(table, "name", "full_name", approach="view"),
        "naive": lk.build_naive_rename_migration(table, "name", "full_name"),
        "by hand": lk.MigrationPlan(
            "defaults and a comment",
            [
                lk.AddColumn("users", "at", default=lk.SQL("now()"), label="add_at"),
                lk.AddColumn("users", "price", default=Decimal("1.50"), not_null=True),
                lk.SetColumnComment("users", "price", "in euros", previous=None, label="say_euros"),
            ],
        ),
        "add, copied": lk.build_add_column_migration(table, "email_copy", source="email", batch_size=4),
    }


def _round_trip(plan: lk.MigrationPlan) -> lk.MigrationPlan:
    return plan_from_dict(json.loads(json.dumps(plan_to_dict(plan))))


@pytest.mark.parametrize("name", list(_plans(lab.make_users(3))))
def test_the_builders_plans_round_trip_through_json(name):
    plan = _plans(lab.make_users(10))[name]
    assert _round_trip(plan) == plan


def test_the_whole_copy_of_a_production_column_round_trips(db):
    orders = lab.make_orders(db)  # on PostgreSQL: NOT VALID checks, VALIDATE, SET NOT NULL, CONCURRENTLY, renames
    column = "account_id" if db.dialect.name == "postgresql" else "note"
    plan = lk.build_rename_column_migration(orders, column, "renamed", batch_size=6)
    back = _round_trip(plan)
    assert back == plan
    assert str(lk.plan_sql(back, orders)) == str(lk.plan_sql(plan, orders))  # the same SQL, statement for statement
    kinds = {s.kind for s in plan.steps}
    if db.dialect.name == "postgresql":
        wanted = {"add_constraint", "validate_constraint", "set_not_null", "create_index", "set_default_at_contract"}
        assert wanted <= kinds


def test_a_function_travels_as_its_sql_twin_and_a_lone_function_is_refused(tmp_path):
    with lk.connect(f"sqlite:///{tmp_path}/lab.db") as db:
        users = db.import_table(lab.make_users(10, seed=2))
        plan = lk.build_add_column_migration(
            users, "email_domain", backfill=lab.email_domain, backfill_sql=lab.EMAIL_DOMAIN_SQL, source="email"
        )
        path = lk.save_plan(plan, tmp_path / "plan.json")
        loaded = lk.load_plan(path)
        without = [dataclasses.replace(s, compute=None) if hasattr(s, "compute") else s for s in plan.steps]
        assert loaded == lk.MigrationPlan(plan.name, without, apps=plan.apps)  # the function stayed behind
        assert str(lk.plan_sql(loaded, users)) == str(lk.plan_sql(plan, users))
        assert lk.MigrationRunner(users).execute_plan(loaded).status == "completed"
        assert {r["email_domain"] for r in users.rows()} == {lab.email_domain(r) for r in users.rows()}
    python_only = lk.build_add_column_migration(lab.make_users(3), "x", backfill=lambda row: 1, source="email")
    with pytest.raises(lk.PlanFileError, match=r"steps\[1\] \(start_dual_write\)\.compute: holds a Python function"):
        plan_to_dict(python_only)


def _good() -> dict:
    return plan_to_dict(lk.build_rename_column_migration(lab.make_users(5), "name", "full_name", batch_size=2))


def _mutate(change):
    data = _good()
    change(data)
    return data


BAD = {
    "no version": (lambda d: d.pop("labkit_plan"), "labkit_plan: missing"),
    "a newer version": (lambda d: d.update(labkit_plan=2), "labkit_plan: version 2 is not one this labkit reads"),
    "a float for the version": (lambda d: d.update(labkit_plan=1.0), "labkit_plan: version 1.0 is not one"),
    "true for the version": (lambda d: d.update(labkit_plan=True), "labkit_plan: version True is not one"),
    "unknown key": (lambda d: d.update(author="me"), "author: not a field of a plan"),
    "no name": (lambda d: d.update(name=" "), "name: a plan needs a non-empty name"),
    "no steps": (lambda d: d.update(steps=[]), "steps: a plan needs a list of at least one step"),
    "unknown op": (lambda d: d["steps"][1].update(op="start_dualwrite"), "steps[1].op: unknown operation"),
    "unknown field": (lambda d: d["steps"][2].update(batchsize=5), "steps[2].batchsize: not a field of backfill"),
    "wrong type": (lambda d: d["steps"][2].update(batch_size="5"), "steps[2].batch_size: '5' is not a valid"),
    "bool for a number": (lambda d: d["steps"][2].update(batch_size=True), "steps[2].batch_size: True is not"),
    "missing field": (lambda d: d["steps"][0].pop("column"), "steps[0]: add_column needs 'column'"),
    "bad value": (lambda d: d["steps"][2].update(batch_size=0), "steps[2]: batch_size must be"),
    "a function": (lambda d: d["steps"][2].update(compute="lambda r: 1"), "steps[2].compute: 'lambda r: 1' is not"),
    "bad app": (lambda d: d["apps"][0].pop("writes"), "apps[0]: an app version is"),
    "unknown app": (lambda d: d["steps"][3].update(deploy="v9"), "deploys 'v9', which is not one of v1, v2, v3"),
    "two tables": (lambda d: d["steps"][1].update(table="accounts"), "all steps must act on one table"),
    "not an object": (lambda d: d["steps"].__setitem__(0, "add_column"), "steps[0]: a step is an object"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_plan_file_is_refused_with_the_field_that_is_wrong(case, tmp_path):
    change, says = BAD[case]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(_mutate(change)))
    with pytest.raises(lk.PlanFileError) as refused:
        lk.load_plan(path)
    assert str(refused.value).startswith(f"{path}: ") and says in str(refused.value)


def test_a_file_that_is_not_json_or_not_there_is_refused_with_where(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"labkit_plan": 1,\n "name": }')
    with pytest.raises(lk.PlanFileError, match=r"plan\.json:2:10: not JSON"):
        lk.load_plan(path)
    with pytest.raises(lk.PlanFileError, match="no such file"):
        lk.load_plan(tmp_path / "missing.json")


def test_every_operation_can_be_named_in_a_file():
    exported = {getattr(lk, n) for n in dir(lk) if isinstance(getattr(lk, n), type)}
    step_classes = {c for c in exported if issubclass(c, Step) and c is not Step}
    assert step_classes <= set(planfile.operations().values())
    assert {"add_column", "backfill", "create_index", "validate_constraint"} <= set(planfile.operations())


def test_a_saved_plan_is_stable_text(tmp_path):
    plan = lk.build_rename_column_migration(lab.make_users(4), "name", "full_name", batch_size=2)
    first = lk.save_plan(plan, tmp_path / "a.json").read_text()
    again = lk.save_plan(lk.load_plan(tmp_path / "a.json"), tmp_path / "b.json").read_text()
    assert first == again and first.startswith('{\n  "labkit_plan": 1,')
