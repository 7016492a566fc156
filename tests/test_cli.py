from __future__ import annotations

import subprocess
import sys

import pytest

import labkit as lk
from labkit import lab
from labkit.cli import main


def test_rename_with_a_failure_at_backfill_3_rolls_back_to_the_exact_start(capsys):
    assert main(["rename", "--fail-at", "backfill:3"]) == 1
    out = capsys.readouterr().out
    assert "fail            backfill batch 3" in out
    assert "Table equals its starting snapshot: True" in out


def test_completed_rollback_failed_and_traffic_exit_codes(capsys):
    assert main(["rename"]) == 0
    assert main(["rename", "--fail-at", "backfill:3,rollback:add_column"]) == 2
    assert main(["naive-rename", "--traffic"]) == 0
    out = capsys.readouterr().out
    assert "failed requests by app version: v1=" in out


@pytest.mark.parametrize(
    "argv",
    [["bogus"], ["rename", "--rows", "-1"], ["rename", "--batch-size", "0"], ["rename", "--fail-at", "nope"]],
    ids=["unknown-migration", "negative-rows", "zero-batch", "unknown-step"],
)
def test_bad_arguments_print_one_line_and_exit_64(argv, capsys):
    with pytest.raises(SystemExit) if argv == ["bogus"] else _nothing():
        code = main(argv)
        assert code == 64
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "error" in captured.err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_python_dash_m_labkit_runs():
    proc = subprocess.run(
        [sys.executable, "-m", "labkit", "add-column", "--rows", "8", "--batch-size", "3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "email_domain" in proc.stdout


def test_sql_prints_the_statements_of_a_migration_on_a_scratch_table(capsys):
    assert main(["sql", "rename", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("-- plan 'rename users.name to full_name' on users (sqlite)")
    assert "UPDATE `users` SET `full_name` = `name` WHERE `id` BETWEEN ? AND ?;" in out
    assert "ALTER TABLE `users` DROP COLUMN `name`;" in out


def test_sql_on_a_real_database_changes_nothing(tmp_path, capsys):
    url = f"sqlite:///{tmp_path}/app.db"
    with lk.connect(url) as db:
        users = db.import_table(lab.make_users(12, seed=3))
        before, rows = users.catalog(), users.rows()
    assert main(["sql", "add-column", "--db", url]) == 0
    assert "ALTER TABLE `users` ADD COLUMN `email_domain` TEXT;" in capsys.readouterr().out
    with lk.connect(url) as db:
        assert db.table("users").catalog() == before and db.table("users").rows() == rows
        assert "labkit_migrations" not in db.tables()


def test_sql_on_postgresql_shows_the_lock_timeout_and_the_server_placeholders(pg, pg_url, capsys):
    pg.import_table(lab.make_users(10, seed=1))
    assert main(["sql", "rename", "--db", pg_url, "--batch-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "SET LOCAL lock_timeout = '500ms';" in out
    assert 'UPDATE "users" SET "full_name" = "name" WHERE "id" BETWEEN $1 AND $2;' in out


@pytest.mark.parametrize(
    ("argv", "says"),
    [(["sql", "rename", "--table", "nope"], "'nope' does not exist"), (["sql", "nope"], "invalid choice"),
     (["sql", "rename", "--batch-size", "0"], "batch_size")],
)  # fmt: skip
def test_sql_refuses_bad_input_in_one_line(argv, says, tmp_path, capsys):
    if "--table" in argv:
        url = f"sqlite:///{tmp_path}/app.db"
        with lk.connect(url) as db:
            db.import_table(lab.make_users(3, seed=1))
        argv = [*argv, "--db", url]
    with pytest.raises(SystemExit) if "nope" == argv[1] else _nothing():
        assert main(argv) == 64
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and says in err


def test_sql_runnable_gives_psql_a_procedure_for_the_backfill_and_sqlite_a_reason(pg, pg_url, capsys):
    pg.import_table(lab.make_users(10, seed=1))
    assert main(["sql", "add-column", "--db", pg_url, "--runnable", "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert 'CREATE PROCEDURE "labkit_backfill_users_backfill"()' in out
    assert "LIMIT 1 OFFSET $3' INTO labkit_hi USING labkit_lo, labkit_last, labkit_rows - 1;" in out
    assert "labkit_rows bigint := 4;" in out and "labkit_rows := greatest(" not in out  # a fixed size: no resizing
    assert 'CALL "labkit_backfill_users_backfill"();' in out and "COMMIT;  -- one short transaction" in out
    assert main(["sql", "add-column", "--runnable"]) == 64
    assert "sqlite has no loops in SQL" in capsys.readouterr().err
