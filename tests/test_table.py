from __future__ import annotations

import pytest

import labkit as lk
from labkit import lab
from labkit.table import DualWriteTrigger


def test_insert_assigns_increasing_ids_and_get_returns_the_row():
    t = lk.Table("users", ["name", "email"])
    a = t.insert({"name": "Ada", "email": "ada@x.io"})
    b = t.insert({"name": "Alan"})
    assert (a, b) == (1, 2)
    assert t.get(2) == {"id": 2, "name": "Alan", "email": None}
    assert t.row_count == 2
    assert t.column_names == ["id", "name", "email"]


def test_update_and_delete_change_only_their_row():
    t = lk.Table("users", ["name"])
    ids = t.insert_many([{"name": n} for n in "abc"])
    t.update(ids[1], {"name": "B"})
    t.delete(ids[0])
    assert t.rows() == [{"id": 2, "name": "B"}, {"id": 3, "name": "c"}]
    assert t.insert({"name": "d"}) == 4  # ids are never reused


def test_add_column_fills_existing_rows_with_the_default_and_appends_it():
    t = lab.make_users(3)
    t.add_column("plan", default="free")
    assert t.column_names == ["id", "name", "email", "plan"]
    assert t.column("plan") == ["free"] * 3
    assert t.insert({"name": "x"}) and t.get(4)["plan"] == "free"


def test_drop_and_rename_keep_other_columns_in_place():
    t = lk.Table("t", ["a", "b", "c"])
    t.insert({"a": 1, "b": 2, "c": 3})
    t.rename_column("b", "bee")
    assert t.column_names == ["id", "a", "bee", "c"]
    t.drop_column("a")
    assert t.get(1) == {"id": 1, "bee": 2, "c": 3}


def test_to_frame_is_indexed_by_id_with_columns_in_order():
    t = lab.make_users(4)
    t.delete(2)
    frame = t.to_frame()
    assert frame.index.name == "id"
    assert list(frame.index) == [1, 3, 4]
    assert list(frame.columns) == ["name", "email"]
    assert frame.loc[3, "name"] == t.get(3)["name"]


@pytest.mark.parametrize(
    ("call", "error", "fields"),
    [
        (lambda t: t.get(99), lk.RowNotFoundError, {"row_id": 99}),
        (lambda t: t.update(1, {"nmae": "x"}), lk.ColumnNotFoundError, {"column": "nmae", "table": "users"}),
        (lambda t: t.insert({"nope": 1}), lk.ColumnNotFoundError, {"column": "nope"}),
        (lambda t: t.insert({"id": 5}), lk.InvalidNameError, {"name": "id"}),
        (lambda t: t.add_column("email"), lk.ColumnExistsError, {"column": "email"}),
        (lambda t: t.add_column(""), lk.InvalidNameError, {"name": ""}),
        (lambda t: t.add_column("Bad`Name"), lk.InvalidNameError, {"name": "Bad`Name"}),
        (lambda t: t.add_column("x", not_null=True), lk.NotNullViolationError, {"column": "x"}),
        (lambda t: t.drop_column("nope"), lk.ColumnNotFoundError, {"column": "nope"}),
        (lambda t: t.rename_column("name", "name"), lk.SameNameError, {"column": "name"}),
        (lambda t: t.rename_column("name", "email"), lk.ColumnExistsError, {"column": "email"}),
        (lambda t: t.rename_column("name", 'x"; drop'), lk.InvalidNameError, {"name": 'x"; drop'}),
    ],
    ids=[
        "get-missing-row",
        "update-unknown-column",
        "insert-unknown-column",
        "insert-id",
        "add-existing",
        "add-empty-name",
        "add-invalid-name",
        "add-not-null-without-default",
        "drop-unknown",
        "rename-to-itself",
        "rename-to-existing",
        "rename-to-invalid",
    ],
)
def test_bad_input_raises_a_typed_error_and_changes_nothing(call, error, fields):
    t = lab.make_users(3)
    before = t.snapshot()
    with pytest.raises(error) as info:
        call(t)
    assert isinstance(info.value, lk.LabkitError)
    for k, v in fields.items():
        assert getattr(info.value, k) == v
    assert t.snapshot() == before


def test_column_not_found_message_lists_the_columns():
    t = lab.make_users(1)
    with pytest.raises(lk.ColumnNotFoundError) as info:
        t.update(1, {"nmae": "x"})
    assert str(info.value) == "column 'nmae' does not exist on table 'users' (columns: id, name, email)"


def test_table_constructor_refuses_duplicate_and_reserved_names():
    with pytest.raises(lk.ColumnExistsError):
        lk.Table("t", ["a", "a"])
    with pytest.raises(lk.InvalidNameError):
        lk.Table("t", ["id"])
    with pytest.raises(lk.InvalidNameError):
        lk.Table("", ["a"])
    with pytest.raises(TypeError):
        lk.Table("t", "abc")


def test_dual_write_trigger_copies_both_ways_but_keeps_explicit_writes():
    t = lk.Table("users", ["name"])
    t.insert({"name": "a"})
    t.add_column("full_name")
    t.add_trigger(DualWriteTrigger("name", "full_name", both_ways=True))
    t.update(1, {"name": "b"})
    assert t.get(1)["full_name"] == "b"
    t.update(1, {"full_name": "c"})
    assert t.get(1)["name"] == "c"
    t.update(1, {"name": "d", "full_name": "e"})
    assert (t.get(1)["name"], t.get(1)["full_name"]) == ("d", "e")
    new = t.insert({"full_name": "f"})
    assert t.get(new)["name"] == "f"


def test_drop_column_refuses_a_column_a_trigger_still_uses():
    t = lk.Table("users", ["name", "full_name"])
    t.add_trigger(DualWriteTrigger("name", "full_name"))
    with pytest.raises(lk.StepDoesNotFitError):
        t.drop_column("name")
    assert t.column_names == ["id", "name", "full_name"]


def test_a_million_rows_load_and_slice():
    t = lk.Table.from_columns("big", {"v": list(range(1_000_000))})
    assert t.row_count == 1_000_000
    start, stop = t.positions_between(500_001, 500_010)
    assert t.read_slice("v", start, stop) == list(range(500_000, 500_010))
    assert t.get(1_000_000) == {"id": 1_000_000, "v": 999_999}
