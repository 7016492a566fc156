"""The plan file's reference and JSON Schema: generated from the operation classes, committed under docs/, and
saying what ``labkit.planfile`` really reads: every plan the builders make is valid by the schema, and the bad files
``load_plan`` refuses the schema refuses too."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

import labkit as lk
from labkit import lab, planref
from labkit.planfile import plan_from_dict, plan_to_dict

from .test_planfile import BAD, _mutate, _plans


def test_the_committed_reference_is_what_the_classes_say():
    """Edit a step class, then `python -m labkit.planref`: this fails until the docs are written again."""
    assert (planref.DOCS / "plan-file.md").read_text(encoding="utf-8") == planref.markdown()
    written = json.loads((planref.DOCS / "plan-file.schema.json").read_text(encoding="utf-8"))
    assert written == planref.json_schema()


def test_every_field_of_every_operation_says_what_it_means():
    missing = [f"{op}.{fd.name}" for op, cls in planref.documented().items() for fd in planref.field_docs(cls)
               if len(fd.meaning) < 8]  # fmt: skip
    assert missing == [], f"give these a comment beside the field in their class: {missing}"
    md = planref.markdown()
    for op, cls in planref.documented().items():
        section = md.split(f"### {op}\n", 1)[1].split("\n### ", 1)[0]
        for fd in planref.field_docs(cls):
            assert f"| `{fd.name}` |" in section, (op, fd.name)


def test_the_schema_is_valid_json_schema_and_accepts_every_plan_the_builders_make(db):
    schema = planref.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    plans = list(_plans(lab.make_users(10)).values())
    orders = lab.make_orders(db)  # PostgreSQL: constraints, indexes, NOT NULL, defaults: most operations
    plans.append(lk.build_rename_column_migration(orders, "account_id" if db.dialect.name == "postgresql" else "note",
                                                  "renamed", batch_size=6))  # fmt: skip
    for plan in plans:
        data = json.loads(json.dumps(plan_to_dict(plan)))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], (plan.name, errors[:3])


def test_the_example_in_the_reference_is_a_plan_labkit_reads():
    md = planref.markdown()
    example = json.loads(re.search(r"```json\n(.*?)```", md, re.S).group(1))
    jsonschema.validate(example, planref.json_schema())
    plan = plan_from_dict(example)
    assert [s.kind for s in plan.steps][:2] == ["add_column", "start_dual_write"] and plan.apps[1].name == "v2"
    assert lk.validate_migration_safety(plan) == []  # the example is a safe plan


SCHEMA_CANNOT_SEE = {"unknown app", "two tables", "bad value",  # relations between fields, ranges: load_plan's
                     "a float for the version"}  # JSON Schema: 1.0 is the integer 1 (load_plan reads it as Python)


@pytest.mark.parametrize("case", sorted(set(BAD) - SCHEMA_CANNOT_SEE))
def test_what_load_plan_refuses_the_schema_refuses(case):
    change, _ = BAD[case]
    assert not jsonschema.Draft202012Validator(planref.json_schema()).is_valid(_mutate(change)), case


def test_a_newcomer_can_write_each_operation_from_its_row_alone():
    """For each operation: a step with its required fields, typed as the reference says, is read by load_plan's
    field check (whatever the step then says of the values, the file's shape is right)."""
    samples = {"string": "x", "string or null": "x", "integer": 5, "boolean": True, "number": 1.0,
               "list of string": ["x"]}
    schema = planref.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)  # made once: jsonschema.validate checks the schema each call
    for op, cls in planref.documented().items():
        step = {"op": op}
        for fd in planref.field_docs(cls):
            if fd.required:
                kind = planref._type_text(fd.schema)
                step[fd.name] = samples.get(kind, [["r", "SELECT", False]] if "list" in kind or "[" in kind else "x")
        validator.validate({"labkit_plan": 1, "name": "p", "steps": [step]})
        try:
            plan_from_dict({"labkit_plan": 1, "name": "p", "steps": [{**step, "table": "t", **_names(cls, step)}]})
        except lk.PlanFileError as exc:
            assert "not a field" not in str(exc) and "is not a valid" not in str(exc) and "needs" not in str(exc), exc


def _names(cls, step: dict) -> dict:
    """Plain names where the step checks names (the sample "x" is one; keep it so)."""
    return {k: "x" for k in cls.column_fields if k in step}
