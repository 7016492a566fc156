from __future__ import annotations

import pandas as pd

import labkit as lk
from labkit import lab, views
from tests.conftest import rename_plan


def test_changed_cells_marks_new_columns_new_values_and_new_rows():
    t = lab.make_users(4)
    before = t.snapshot()
    t.add_column("full_name")
    t.update(2, {"full_name": "X"})
    t.update(3, {"email": "new@x.io"})
    t.insert({"name": "n"})
    mask = views.changed_cells(before, t)
    assert list(mask.columns) == ["name", "email", "full_name"]
    assert mask.loc[2, "full_name"] and mask.loc[3, "email"]
    assert not mask.loc[1, "name"] and not mask.loc[2, "name"]
    assert mask.loc[5].all()  # a new row is all new
    assert mask.loc[1, "full_name"]  # a new column is new even where it holds NULL


def test_rows_view_highlights_exactly_the_changed_cells_with_a_stable_html():
    t = lab.make_users(6)
    before = t.snapshot()
    t.add_column("full_name")
    t.update(1, {"full_name": t.get(1)["name"]})
    styler = views.rows_view(t, before=before, columns=["name", "full_name", "email"], limit=3)
    html = styler.to_html()
    assert html == views.rows_view(t, before=before, columns=["name", "full_name", "email"], limit=3).to_html()
    # the new column is marked on every row, the untouched columns nowhere
    assert "#T_labkit_row0_col1, #T_labkit_row1_col1, #T_labkit_row2_col1 {\n  background-color: #fff3b0" in html
    assert "col0 {" not in html and "col2 {" not in html
    frame = styler.data
    assert list(frame.columns) == ["name", "full_name", "email"] and list(frame.index) == [1, 2, 3]


def test_rows_view_shows_a_dropped_column_as_such():
    t = lab.make_users(3)
    t.drop_column("name")
    frame = views.rows_view(t, columns=["name", "email"]).data
    assert set(frame["name"]) == {"(no column)"}


def test_plan_and_history_frames():
    t = lab.make_users(10)
    plan = rename_plan(t)
    runner = lk.MigrationRunner(t, fail_at="backfill:2")
    runner.execute_plan(plan)
    pf = views.plan_frame(plan)
    assert list(pf["step"]) == [s.name for s in plan.steps]
    assert list(pf["reversible"]) == [True, True, True, True, True, False]
    hf = views.history_frame(runner.history)
    assert len(hf) == len(runner.history) and hf.index.name == "tick"
    assert hf.loc[hf["kind"] == "fail", "batch"].tolist() == [2]


def test_findings_frame_keeps_its_columns_when_empty():
    frame = views.findings_frame([])
    assert list(frame.columns) == ["rule", "severity", "step", "message", "help"] and frame.empty


def test_compare_snapshots_counts_changed_cells():
    t = lab.make_users(3)
    a = t.snapshot()
    t.update(1, {"name": "z"})
    assert views.compare_snapshots(a, t.snapshot()) == {
        "identical": False,
        "same_schema": True,
        "same_row_ids": True,
        "changed_cells": 1,
    }
    assert views.compare_snapshots(a, a)["identical"]


def test_snapshot_frame_equals_to_frame():
    t = lab.make_users(5)
    pd.testing.assert_frame_equal(views.snapshot_frame(t.snapshot()), t.to_frame())
